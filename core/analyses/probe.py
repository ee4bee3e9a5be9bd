"""Layer probe: which layer of the encoder holds the label? A classifier on each layer alone.

For every layer (the embedding output and each transformer layer) and each pooling ([CLS],
mean), logistic regression on that layer's vectors alone, C by cross-validation on the train
split, accuracy on the test split. One forward pass per sentence gives every layer's vectors
(the ``hidden`` pooling, cached like any embedding), so a second probe computes nothing again.

Then the prefix sets, the recipes a cheaper encoder run can serve: layers 0..k's means
concatenated, for every k, each fitted as ``bertsent train --layers 0-k`` fits it (C by 5-fold CV).
The last, every layer, is the all-layer reference; the cheapest within
:data:`PREFIX_TOLERANCE` of the best prefix on the probe's test split is named.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from bertsent.core.base.errors import DataError
from bertsent.core.data.dataset import Splits
from bertsent.core.encoding.embed import HIDDEN, Embedder, EmbedProgress
from bertsent.core.encoding.encoder import Encoder
from bertsent.core.models.classifier import SentimentClassifier
from bertsent.core.models.train import Embedded, embed_splits

PROBE_POOLINGS = ("cls", "mean")  # the order of the two vectors per layer in HIDDEN rows
PROBE_CS = tuple(float(c) for c in np.logspace(-4, 0, 5))
# Each layer's C by 3-fold CV (the all-layer reference keeps the recipe's 5): with 5 folds the
# probe's fits on SST2 took 80 s, with 3 folds 51 s, and the best layer and its accuracy stayed.
PROBE_FOLDS = 3
PREFIX_TOLERANCE = 0.003  # 0.3 points: the fast-path rule's accuracy limit, applied to layer sets


@dataclass(frozen=True)
class ProbeScore:
    """Test accuracy of a classifier on one layer's vectors under one pooling."""

    layer: int  # 0 is the embedding output, n the n-th transformer layer
    pooling: str
    accuracy: float
    C: float | None  # chosen by cross-validation (always set for a probe)

    def to_dict(self) -> dict:
        return {"layer": self.layer, "pooling": self.pooling, "accuracy": self.accuracy, "C": self.C}


@dataclass(frozen=True)
class PrefixScore:
    """Test accuracy of the recipe that reads layers 0..``depth`` (their means, concatenated)."""

    depth: int  # the deepest layer read: the encoder runs this many transformer layers
    accuracy: float
    C: float | None

    def to_dict(self) -> dict:
        return {"layers": f"0-{self.depth}", "pooling": "layers", "accuracy": self.accuracy, "C": self.C}


@dataclass(frozen=True)
class LayerProbe:
    encoder: str
    scores: list[ProbeScore]  # layer by layer, [CLS] then mean
    prefixes: list[PrefixScore]  # layers 0..k concatenated, k = 0 first; empty without the reference
    n_train: int
    n_test: int
    seconds: dict[str, float]

    @property
    def reference(self) -> float | None:
        """Test accuracy of the all-layer recipe (the last prefix set) on the same split."""
        return self.prefixes[-1].accuracy if self.prefixes else None

    @property
    def cheapest_prefix(self) -> PrefixScore | None:
        """The shallowest prefix set within :data:`PREFIX_TOLERANCE` of the best prefix set."""
        if not self.prefixes:
            return None
        best = max(p.accuracy for p in self.prefixes)
        return next(p for p in self.prefixes if p.accuracy >= best - PREFIX_TOLERANCE - 1e-12)

    @property
    def layers(self) -> int:
        return max(score.layer for score in self.scores) + 1

    @property
    def best(self) -> ProbeScore:
        """The most accurate probe (the earliest layer on a tie)."""
        return max(self.scores, key=lambda score: (score.accuracy, -score.layer))

    def accuracy(self, layer: int, pooling: str) -> float:
        return next(s.accuracy for s in self.scores if s.layer == layer and s.pooling == pooling)

    def curve(self, pooling: str) -> list[float]:
        """Accuracy per layer, layer 0 first."""
        return [s.accuracy for s in sorted(self.scores, key=lambda s: s.layer) if s.pooling == pooling]


@dataclass(frozen=True)
class ProbeProgress:
    """``stage`` is ``embed`` (``embed`` set) or ``fit`` (``done`` of ``total`` fits)."""

    stage: str
    done: int
    total: int
    embed: EmbedProgress | None = None


ProbeCallback = Callable[[ProbeProgress], None]


def hidden_features(
    encoder: Encoder,
    splits: Splits,
    *,
    progress: ProbeCallback | None = None,
    cancel: threading.Event | None = None,
    cache: bool = True,
) -> Embedded:
    """Every layer's [CLS] and mean vectors of both splits; rows shaped ``(layers, 2, hidden)``."""

    def embedding(update: EmbedProgress) -> None:
        if progress:
            progress(ProbeProgress("embed", update.done, update.total, update))

    embedded = embed_splits(Embedder(encoder, HIDDEN, cache=cache), splits, embedding, cancel)
    shape = (encoder.num_layers + 1, len(PROBE_POOLINGS), encoder.hidden_size)
    return Embedded(
        embedded.train.reshape(-1, *shape),
        embedded.test.reshape(-1, *shape),
        embedded.seconds,
        embedded.truncated,
    )


def probe_layers(
    encoder: Encoder,
    splits: Splits,
    *,
    reference: bool = True,
    progress: ProbeCallback | None = None,
    cancel: threading.Event | None = None,
    cache: bool = True,
) -> LayerProbe:
    """Fit and score one classifier per (layer, pooling), then (``reference``) one per prefix set
    0..k with the recipe's own C search; ``cancel`` stops between fits."""
    from threadpoolctl import threadpool_limits

    features = hidden_features(encoder, splits, progress=progress, cancel=cancel, cache=cache)
    start = time.perf_counter()
    y_train, y_test = splits.train.labels, splits.test.labels
    jobs = [(layer, p) for layer in range(features.train.shape[1]) for p in range(len(PROBE_POOLINGS))]
    per_probe = PROBE_FOLDS * len(PROBE_CS) + 1
    layers = features.train.shape[1]
    total = len(jobs) * per_probe + (layers if reference else 0)
    finished = 0

    def fits(done: int, _total: int) -> None:
        if progress:
            progress(ProbeProgress("fit", finished + done, total))

    scores, prefixes = [], []
    # Small problems: one BLAS thread each is faster than threads waiting on a busy machine.
    with threadpool_limits(limits=1, user_api="blas"):
        for layer, p in jobs:
            probe = SentimentClassifier(Cs=PROBE_CS, folds=PROBE_FOLDS)
            classifier = _fit(probe, features.train[:, layer, p], y_train, splits, fits, cancel)
            accuracy = float(np.mean(classifier.predict(features.test[:, layer, p]) == y_test))
            scores.append(ProbeScore(layer, PROBE_POOLINGS[p], accuracy, classifier.C_))
            finished += per_probe
        # The recipe on layers 0..k with its own C search, on the same rows (each layer's mean, concatenated).
        mean = PROBE_POOLINGS.index("mean")
        for depth in range(layers) if reference else ():
            parts = (features.train, features.test)
            train, test = (part[:, : depth + 1, mean].reshape(len(part), -1) for part in parts)
            classifier = _fit(SentimentClassifier(), train, y_train, splits, None, cancel)
            accuracy = float(np.mean(classifier.predict(test) == y_test))
            prefixes.append(PrefixScore(depth, accuracy, classifier.C_))
            finished += 1
            fits(0, total)
    seconds = {"embed": round(features.seconds, 3), "fit": round(time.perf_counter() - start, 3)}
    return LayerProbe(encoder.name, scores, prefixes, len(y_train), len(y_test), seconds)


def _fit(classifier: SentimentClassifier, X, y, splits: Splits, progress, cancel) -> SentimentClassifier:
    try:
        return classifier.fit(X, y, progress=progress, cancel=cancel)
    except ValueError as exc:
        raise DataError(f"cannot probe on {splits.train.source or 'these sentences'}: {exc}") from None
