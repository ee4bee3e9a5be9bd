"""Token scores by occlusion: how much P(positive) drops when a token (or word) is deleted.

Faithful by construction: every score is a difference of two real predictions of the full
encoder + classifier chain. All occluded variants of a sentence run as one batch.
"""

from __future__ import annotations

from collections.abc import Callable
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


def occlusion_scores(
    ids: list[int], tokens: list[str], positive_proba: Callable[[list[list[int]]], np.ndarray]
) -> tuple[float, list[TokenScore], list[TokenScore]]:
    """P(positive) of ``ids`` and the occlusion scores of its inner tokens and whole words.

    ``ids``/``tokens`` include [CLS] and [SEP]; ``positive_proba`` maps id lists to P(positive).
    """
    pieces = tokens[1:-1]
    words = word_spans(pieces)
    spans = [(i, i + 1) for i in range(len(pieces))] + [w for w in words if w[1] - w[0] > 1]
    variants = [ids] + [ids[: 1 + a] + ids[1 + b :] for a, b in spans]
    proba = np.asarray(positive_proba(variants), dtype=np.float64)
    drop = dict(zip(spans, (proba[0] - proba[1:]).tolist(), strict=True))
    token_scores = [TokenScore(piece, drop[(i, i + 1)]) for i, piece in enumerate(pieces)]
    word_scores = [TokenScore("".join(p.removeprefix("##") for p in pieces[a:b]), drop[(a, b)]) for a, b in words]
    return float(proba[0]), token_scores, word_scores
