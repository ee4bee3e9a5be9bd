"""Token scores by occlusion: how much P(positive) drops when a token (or word) is deleted.

Faithful by construction: every score is a difference of two real predictions of the full
encoder + classifier chain. Variants of many sentences run together in length-sorted batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TokenScore:
    token: str
    score: float  # > 0 pushed towards positive, < 0 towards negative


@dataclass(frozen=True)
class Prediction:
    """A classified sentence with the reasons for its label."""

    text: str
    label: int
    label_name: str
    probability: float  # P(positive)
    tokens: list[TokenScore]  # WordPiece tokens, [CLS] and [SEP] excluded
    words: list[TokenScore]  # whole words: each scored by deleting all of its pieces
    truncated: bool = False

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "label": self.label,
            "label_name": self.label_name,
            "probability": self.probability,
            "tokens": [{"token": t.token, "score": t.score} for t in self.tokens],
            "words": [{"word": w.token, "score": w.score} for w in self.words],
            "truncated": self.truncated,
        }


def word_spans(tokens: list[str]) -> list[tuple[int, int]]:
    """[start, end) index ranges of whole words: a ``##`` piece continues the word before it."""
    spans: list[tuple[int, int]] = []
    for i, token in enumerate(tokens):
        if token.startswith("##") and spans:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans


@dataclass(frozen=True)
class Occlusion:
    """A sentence and its occluded copies: one per token and one per multi-piece word deleted."""

    pieces: list[str]  # inner WordPiece tokens ([CLS]/[SEP] excluded)
    words: list[tuple[int, int]]
    spans: list[tuple[int, int]]  # deleted span of variants[1:]
    variants: list[list[int]]  # variants[0] is the whole sentence

    def scores(self, proba: np.ndarray) -> tuple[float, list[TokenScore], list[TokenScore]]:
        """P(positive) of the sentence and its token and word scores, from P(positive) of the variants."""
        proba = np.asarray(proba, dtype=np.float64)
        drop = dict(zip(self.spans, (proba[0] - proba[1:]).tolist(), strict=True))
        pieces = self.pieces
        token_scores = [TokenScore(piece, drop[(i, i + 1)]) for i, piece in enumerate(pieces)]
        word_scores = [
            TokenScore("".join(p.removeprefix("##") for p in pieces[a:b]), drop[(a, b)]) for a, b in self.words
        ]
        return float(proba[0]), token_scores, word_scores


def occlude(ids: list[int], tokens: list[str]) -> Occlusion:
    """The occluded variants of a sentence; ``ids``/``tokens`` include [CLS] and [SEP]."""
    pieces = tokens[1:-1]
    words = word_spans(pieces)
    spans = [(i, i + 1) for i in range(len(pieces))] + [w for w in words if w[1] - w[0] > 1]
    variants = [ids] + [ids[: 1 + a] + ids[1 + b :] for a, b in spans]
    return Occlusion(pieces, words, spans, variants)
