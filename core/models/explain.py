"""Token scores by occlusion: how much the probability of a class drops when a token (or word) is deleted.

The class scored is the predicted one unless another is named: a positive score means the token
pushed the sentence towards that class.

Faithful by construction: every score is a difference of two real predictions of the full
encoder + classifier chain. Variants of many sentences run together in length-sorted batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from bertsent.core.data.classes import ClassSet


@dataclass(frozen=True)
class TokenScore:
    token: str
    score: float  # > 0 pushed towards the class scored, < 0 away from it


@dataclass(frozen=True)
class Prediction:
    """A classified sentence with the reasons for its label.

    ``classes``/``names``/``probabilities`` are in the model's class order (``classes_``).
    """

    text: str
    label: int | str  # as in the training data
    label_name: str  # as shown: 0/1 read negative/positive, other labels as given
    probability: float  # probability of the predicted label
    tokens: list[TokenScore]  # WordPiece tokens, [CLS] and [SEP] excluded
    words: list[TokenScore]  # whole words: each scored by deleting all of its pieces
    truncated: bool = False
    classes: tuple = ()
    names: tuple[str, ...] = ()
    probabilities: tuple[float, ...] = ()
    scored: int | str | None = None  # the class the token scores refer to

    @property
    def class_set(self) -> ClassSet:
        return ClassSet(self.classes)

    @property
    def scored_name(self) -> str:
        return self.names[self.classes.index(self.scored)] if self.scored in self.classes else ""

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "label": self.label,
            "label_name": self.label_name,
            "probability": self.probability,
            "probabilities": {str(c): p for c, p in zip(self.classes, self.probabilities, strict=True)},
            "scored": self.scored,
            "tokens": [{"token": t.token, "score": t.score} for t in self.tokens],
            "words": [{"word": w.token, "score": w.score} for w in self.words],
            "truncated": self.truncated,
        }


def display_axis(prediction: Prediction) -> tuple[int, str, str]:
    """How to show token scores on one red-to-green axis: (sign to multiply by, red end, green end).

    Two classes keep one fixed axis (``ClassSet.tone``), the first class (negative) red and the
    second (positive) green, whichever is predicted; with more classes green is towards the class
    scored.
    """
    classes = prediction.class_set
    if prediction.scored in classes.labels and classes.axis is not None:
        red, green = classes.axis
        return classes.tone(classes.index(prediction.scored)), red, green
    return 1, "away", f"towards {prediction.scored_name}"


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

    def scores(self, proba: np.ndarray) -> tuple[list[TokenScore], list[TokenScore]]:
        """Token and word scores from the probability of the class scored, one value per variant."""
        proba = np.asarray(proba, dtype=np.float64)
        drop = dict(zip(self.spans, (proba[0] - proba[1:]).tolist(), strict=True))
        pieces = self.pieces
        token_scores = [TokenScore(piece, drop[(i, i + 1)]) for i, piece in enumerate(pieces)]
        word_scores = [
            TokenScore("".join(p.removeprefix("##") for p in pieces[a:b]), drop[(a, b)]) for a, b in self.words
        ]
        return token_scores, word_scores


def occlude(ids: list[int], tokens: list[str]) -> Occlusion:
    """The occluded variants of a sentence; ``ids``/``tokens`` include [CLS] and [SEP]."""
    pieces = tokens[1:-1]
    words = word_spans(pieces)
    spans = [(i, i + 1) for i in range(len(pieces))] + [w for w in words if w[1] - w[0] > 1]
    variants = [ids] + [ids[: 1 + a] + ids[1 + b :] for a, b in spans]
    return Occlusion(pieces, words, spans, variants)
