"""The classic recipe end to end: embed both splits, fit logistic regression, report on test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from bertsent.core.base.decision import decide
from bertsent.core.base.errors import DataError
from bertsent.core.base.regularization import DEFAULT_CS
from bertsent.core.data.dataset import Dataset, Splits, data_hash
from bertsent.core.encoding.embed import Embedder, ProgressCallback
from bertsent.core.models.classifier import SentimentClassifier
from bertsent.core.models.finetune import FinetuneCallback, FineTuner, FinetuneSettings
from bertsent.core.models.model import SentimentModel
from bertsent.core.models.report import Report, build_report


@dataclass(frozen=True)
class Embedded:
    """Embeddings of both splits, rows in split order."""

    train: np.ndarray
    test: np.ndarray
    seconds: float
    truncated: int


@dataclass(frozen=True)
class TrainResult:
    model: SentimentModel
    report: Report
    test_proba: np.ndarray  # class probabilities per test sentence (columns: model.classes), for mistakes
    data_hash: str
    held_out: Dataset  # the split the report was measured on (and the fast path is checked on at save)
    checkpoint: Path | None = None  # fine-tuning's final checkpoint, kept until the model is saved

    def discard_checkpoint(self) -> None:
        """Remove the kept checkpoint: call once the model is saved (a rerun then starts afresh)."""
        if self.checkpoint is not None:
            self.checkpoint.unlink(missing_ok=True)

    @property
    def test_pred(self) -> np.ndarray:
        return self.model.classes.array[decide(self.test_proba)]

    def mistakes(self) -> list[Mistake]:
        """The held-out sentences the model got wrong, most confident first (file order on ties)."""
        predicted = self.test_pred
        wrong = np.flatnonzero(predicted != self.held_out.labels)
        confidence = self.test_proba.max(axis=1)
        order = wrong[np.argsort(-confidence[wrong], kind="stable")]
        truth, guess = self.held_out.labels.tolist(), predicted.tolist()
        return [Mistake(self.held_out.texts[i], truth[i], guess[i], float(confidence[i])) for i in order.tolist()]


@dataclass(frozen=True)
class Mistake:
    """A misclassified held-out sentence: its label, the label predicted and that prediction's probability."""

    text: str
    label: int | str
    predicted: int | str
    confidence: float


def embed_splits(
    embedder: Embedder,
    splits: Splits,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Embedded:
    """Embed train and test sentences in one pass (one progress bar, one sorted batching)."""
    start = time.perf_counter()
    vectors = embedder.vectors(splits.train.texts + splits.test.texts, progress, cancel)
    n = len(splits.train)
    return Embedded(vectors.array[:n], vectors.array[n:], time.perf_counter() - start, vectors.truncated)


def fit(
    embedder: Embedder,
    splits: Splits,
    embedded: Embedded,
    *,
    C: float | None = None,
    Cs: tuple[float, ...] = DEFAULT_CS,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> TrainResult:
    """Fit the classifier on the train embeddings and report on the test split.

    ``C=None`` picks C from ``Cs`` by cross-validation; ``progress(done, total)`` counts the fits
    of that search; ``cancel`` stops between fits.
    """
    start = time.perf_counter()
    try:
        classifier = SentimentClassifier(C=C, Cs=Cs, classes=splits.classes.labels).fit(
            embedded.train, splits.train.labels, progress=progress, cancel=cancel
        )
    except ValueError as exc:
        raise DataError(f"cannot train on {splits.train.source or 'these sentences'}: {exc}") from None
    seconds = {"embed": round(embedded.seconds, 3), "fit": round(time.perf_counter() - start, 3)}
    model = SentimentModel(embedder, classifier)
    return _result(model, splits, embedded, C=classifier.C_, cv=classifier.cv_, seconds=seconds)


def finetune(
    splits: Splits,
    encoder: str = "minilm",
    settings: FinetuneSettings | None = None,
    *,
    device: str | None = None,
    progress: FinetuneCallback | None = None,
    embed_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    checkpoints: str | Path | None = "default",
    keep_checkpoint: bool = False,
) -> TrainResult:
    """Fine-tune ``encoder`` with a linear head on the train split, then report as :func:`fit` does.

    ``keep_checkpoint``: leave the finished run's checkpoint (``TrainResult.checkpoint``) until the
    caller has saved the model and calls ``discard_checkpoint``; a rerun before that resumes at the end.
    """
    settings = settings or FinetuneSettings()
    start = time.perf_counter()
    tuner = FineTuner(encoder, settings, device=device, checkpoints=checkpoints)
    model = tuner.fit(splits.train, progress, cancel, classes=splits.classes, keep_checkpoint=keep_checkpoint)
    tuned = time.perf_counter() - start
    embedded = embed_splits(model.embedder, splits, embed_progress, cancel)
    seconds = {"finetune": round(tuned, 3), "embed": round(embedded.seconds, 3)}
    result = _result(model, splits, embedded, C=None, method="finetune", settings=asdict(settings), seconds=seconds)
    return replace(result, checkpoint=tuner.checkpoint)


def _result(model: SentimentModel, splits: Splits, embedded: Embedded, **details) -> TrainResult:
    """Predict both splits from their embeddings and build the report."""
    test_proba = model.classifier.predict_proba(embedded.test)
    report = build_report(
        splits.train.labels,
        model.classifier.predict(embedded.train),
        splits.test.labels,
        model.classes.array[decide(test_proba)],
        classes=model.classes,
        encoder=model.encoder.name,
        pooling=model.embedder.pooling,
        truncated=embedded.truncated,
        **details,
    )
    return TrainResult(model, report, test_proba, data_hash(splits.train), splits.test)


def train(
    embedder: Embedder,
    splits: Splits,
    *,
    C: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> TrainResult:
    """:func:`embed_splits` then :func:`fit`."""
    return fit(embedder, splits, embed_splits(embedder, splits, progress, cancel), C=C, cancel=cancel)
