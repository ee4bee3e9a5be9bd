"""bertsent for scripts: the documented, typed Python API (every public name is in ``__all__``).

    from bertsent.core.api import load_data, train, save, load_model, predict

    splits = load_data("../shared/data/sst2", limit=400)
    trained = train(splits)                       # embed, choose C, report on the held-out split
    print(f"{trained.report.accuracy:.1%}")
    save(trained, "models/sst2")
    model = load_model("models/sst2")
    for p in predict(model, ["a gorgeous, witty film"]):
        print(p.label_name, round(p.probability, 3), [(w.token, round(w.score, 2)) for w in p.words])

Data comes from a path (a CSV, TSV or JSONL file, or a folder with ``train.*`` and ``test.*``),
from lists of texts and labels, or from any table with named columns (a pandas DataFrame, a dict
of lists: duck-typed, pandas is not needed). Every long call takes ``progress`` (called with a
:class:`Progress`) and ``cancel`` (a ``threading.Event``; setting it stops the work between
steps with :class:`~bertsent.core.base.errors.Cancelled`). Errors are
:class:`~bertsent.core.base.errors.BertsentError` subclasses with one-line messages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from bertsent.core.base.errors import BertsentError, Cancelled, DataError
from bertsent.core.data.classes import ClassSet
from bertsent.core.data.dataset import (
    Dataset,
    Splits,
    find_column,
    from_records,
    given_split,
    load_dataset,
    load_splits,
    split,
)
from bertsent.core.jobs import Evaluation, Progress, ProgressFn, Saved, Trained, evaluate
from bertsent.core.labelling.active import Simulation
from bertsent.core.labelling.annotate import Session
from bertsent.core.models.explain import Prediction
from bertsent.core.models.model import SentimentModel

__all__ = [
    "BertsentError",
    "Cancelled",
    "ClassSet",
    "DataError",
    "Dataset",
    "Evaluation",
    "Prediction",
    "Progress",
    "ProgressFn",
    "Saved",
    "SentimentModel",
    "Session",
    "Simulation",
    "Splits",
    "Trained",
    "evaluate",
    "label_file",
    "load_data",
    "load_model",
    "open_labelling",
    "predict",
    "save",
    "simulate",
    "suggest",
    "train",
]


class Table(Protocol):
    """Anything with named columns: a pandas DataFrame, a dict of lists."""

    def __getitem__(self, column: str, /) -> Iterable[Any]: ...


def load_data(
    source: str | Path | Sequence[str] | Table,
    labels: Sequence[object] | None = None,
    *,
    test: str | Path | Table | tuple[Sequence[object], Sequence[object]] | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    classes: Sequence[str] | None = None,
    limit: int | None = None,
    test_size: float = 0.25,
    seed: int = 42,
    skip_bad: bool = False,
) -> Splits:
    """Labelled sentences split into train and test.

    ``source`` is a path, a list of texts (with ``labels``), or a table with named columns
    (found as in files: ``text``/``sentence``/..., ``label``/``sentiment``/..., or named with
    ``text_column``/``label_column``). ``test`` gives the held-out data in any of those forms;
    without it a stratified split of ``test_size`` is held out. ``classes`` orders the classes
    (default: integers numerically, other labels sorted).
    """
    if isinstance(source, (str, Path)):
        if test is not None:
            raise DataError("a path brings its own test split (a folder's test.*, or a stratified split)")
        return load_splits(
            source,
            limit=limit,
            test_size=test_size,
            seed=seed,
            skip_bad=skip_bad,
            text_column=text_column,
            label_column=label_column,
            class_order=classes,
        )

    def in_memory(data: object, data_labels: Sequence[object] | None, name: str) -> Dataset:
        found = _in_memory(data, data_labels, name, text_column, label_column, skip_bad)
        return found.head(limit)

    train_set = in_memory(source, labels, "train")
    if test is None:
        return split(train_set, test_size=test_size, seed=seed).ordered(classes)
    if isinstance(test, (str, Path)):
        test_set = load_dataset(test, skip_bad=skip_bad, text_column=text_column, label_column=label_column)
        test_set = test_set.head(limit)
    else:
        test_set = in_memory(*test, "test") if isinstance(test, tuple) else in_memory(test, None, "test")
    return given_split(train_set, test_set).ordered(classes)


def _in_memory(
    source: Any,
    labels: Sequence[object] | None,
    name: str,
    text_column: str | None,
    label_column: str | None,
    skip_bad: bool,
) -> Dataset:
    if labels is not None:
        return from_records(source, labels, source=f"({name} texts)", skip_bad=skip_bad)
    names = _column_names(source)
    if names is None:
        raise DataError(f"{name} data: give a path, a table with named columns, or texts with their labels")
    text_key = find_column(names, text_column, "text", f"({name} table)")
    label_key = find_column(names, label_column, "label", f"({name} table)")
    return from_records(source[text_key], source[label_key], source=f"({name} table)", skip_bad=skip_bad)


def _column_names(source: object) -> tuple[str, ...] | None:
    if isinstance(source, Mapping):
        return tuple(str(key) for key in source)
    columns = getattr(source, "columns", None)  # a DataFrame
    return None if columns is None else tuple(str(column) for column in columns)


def train(
    splits: Splits,
    *,
    encoder: str = "minilm",
    pooling: str | None = None,
    layers: str | None = None,
    C: float | None = None,
    finetune: bool = False,
    epochs: int | None = None,
    device: str | None = None,
    precision: str = "auto",
    cache: bool = True,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Trained:
    """Train a classifier on ``splits.train`` and report on ``splits.test`` (the run is recorded in
    the run history, as ``bertsent train`` records it).

    Frozen by default: ``encoder`` embeds each sentence (``pooling``: the default recipe, or
    ``mean``/``cls``; ``layers``: the layer set it reads, as ``--layers`` takes it, None for the
    pooling's default) and logistic regression is fitted, ``C`` fixed or chosen by
    cross-validation. ``finetune=True`` trains the encoder too, with a linear head.
    """
    from bertsent.core import jobs

    if finetune:
        from bertsent.core.models.finetune import FinetuneSettings

        settings = FinetuneSettings() if epochs is None else FinetuneSettings(epochs=epochs)
        return jobs.train(splits, encoder=encoder, finetune=settings, device=device, progress=progress, cancel=cancel)
    from bertsent.core.encoding.embed import DEFAULT_POOLING, Embedder
    from bertsent.core.encoding.encoder import Encoder

    loaded = Encoder.load(encoder, device=device, precision=precision)
    embedder = Embedder(loaded, pooling or DEFAULT_POOLING, layers=layers, cache=cache)
    return jobs.train(splits, embedder=embedder, C=C, progress=progress, cancel=cancel)


def save(trained: Trained, folder: str | Path, *, progress: ProgressFn | None = None) -> Saved:
    """Save a trained model to ``folder`` (with the bf16 fast-path check, as ``bertsent train`` saves)."""
    from bertsent.core import jobs

    return jobs.save(trained.result, folder, run=trained.run, progress=progress)


def load_model(folder: str | Path, *, device: str | None = None) -> SentimentModel:
    """A saved model, checked against its ``model.json`` (a model folder cannot run code)."""
    from bertsent.core.models.persist import load_model as load_saved

    return load_saved(folder, device=device).model


def predict(
    model: SentimentModel,
    texts: Iterable[str],
    *,
    scores: bool = True,
    scored: int | str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Prediction]:
    """Label, probabilities and (with ``scores``) token and word scores for each text, in order.

    Token scores refer to the predicted class, or to the class ``scored``. A text that cannot be
    classified (empty, not valid UTF-8) raises its DataError when reached.
    """
    from bertsent.core import jobs

    for prediction in jobs.predict(model, texts, scores=scores, scored=scored, progress=progress, cancel=cancel):
        if isinstance(prediction, DataError):
            raise prediction
        yield prediction


def label_file(
    model: SentimentModel,
    source: str | Path,
    out: str | Path,
    *,
    text_column: str | None = None,
    all_probabilities: bool = False,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Label every row of ``source`` into ``out`` (its columns kept, the label and probability
    added); an interrupted run resumes where it stopped. Returns ``out``."""
    from bertsent.core.jobs import label_progress
    from bertsent.core.labelling.label import label_file as label_rows

    label_rows(
        model,
        source,
        out,
        text_column=text_column,
        all_probabilities=all_probabilities,
        progress=label_progress(progress),
        cancel=cancel,
    )
    return Path(out)


def open_labelling(
    pool: str | Path,
    out: str | Path,
    *,
    classes: Sequence[str] | None = None,
    labels: str | Path | None = None,
    test: str | Path | None = None,
    text_column: str | None = None,
    encoder: str = "minilm",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> AbstractContextManager[Session]:
    """Label ``pool`` (a CSV, TSV, JSONL or plain-text file) into ``out`` by hand, the model
    choosing what to ask next; a context manager yielding the embedded session::

        with open_labelling("reviews.txt", "labelled.csv", classes=["bad", "good"]) as session:
            for index in session.suggest(5):
                session.label(index, "good" if "great" in session.texts[index] else "bad")
                session.refit()

    Every label is journalled (``out`` + ``.journal``) before ``label`` returns; opening the same
    pool and ``out`` again resumes. ``labels`` is a labelled file of labels given beforehand;
    ``test`` a labelled file never trained on: after each refit ``session.test_score`` is the
    model's accuracy on it.
    """
    from contextlib import contextmanager

    from bertsent.core import jobs
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

    @contextmanager
    def session() -> Iterator[Session]:
        with jobs.open_labelling(
            pool, out, classes=list(classes) if classes else None, labels=labels, test=test, text_column=text_column
        ) as opened:
            jobs.embed_pool(opened, Embedder(Encoder.load(encoder)), progress=progress, cancel=cancel)
            opened.use(jobs.refit(opened, cancel=cancel))
            yield opened

    return session()


def suggest(
    pool: str | Path,
    labels: str | Path,
    *,
    n: int = 20,
    strategy: str | None = None,
    text_column: str | None = None,
    encoder: str = "minilm",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> list[tuple[int, str]]:
    """The next ``n`` sentences of ``pool`` to label for the labels in ``labels`` (a labelled
    file), best first, as (row among the pool's distinct texts, text)."""
    from bertsent.core import jobs
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

    return jobs.suggest(
        pool,
        labels,
        lambda: Embedder(Encoder.load(encoder)),  # loaded once both files have been read
        n=n,
        strategy=strategy,
        text_column=text_column,
        progress=progress,
        cancel=cancel,
    )


def simulate(
    splits: Splits,
    *,
    strategy: str | None = None,
    budget: int = 400,
    seeds: int = 3,
    encoder: str = "minilm",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Simulation:
    """Replay ``splits.train``'s labels as the oracle and score on ``splits.test``: the learning
    curve of ``strategy`` (default: ``auto``) beside random picks on the same seeds."""
    from bertsent.core import jobs
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

    embedder = Embedder(Encoder.load(encoder))
    return jobs.simulate(
        splits, embedder, strategy=strategy, budget=budget, seeds=seeds, progress=progress, cancel=cancel
    )
