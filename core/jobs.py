"""The jobs: each thing a user does, written once for every front end.

The CLI, the app and the bench parse their input, call one job and render its typed result;
they compute no metric, decide no label, check no fast path and write no model folder themselves
(an import-linter contract in ``pyproject.toml`` keeps it so). Each job reports through one
progress type, :class:`Progress`, and stops between steps when its ``cancel`` event is set.

- :func:`train`: embed -> fit logistic regression (or fine-tune) -> report -> run history.
- :func:`save`: the bf16 fast-path check on the held-out split -> model folder (or, when the
  folder cannot be written any more, the state folder's ``unsaved/``) -> the run names its model.
- :func:`evaluate`: a saved model on labelled data, with the precision it ran at.
- :func:`predict`: label, probabilities and token scores of each text, streamed in order.
- :func:`attention`: what each token of one sentence attends to, per layer and head.
- :func:`embed`: both splits through the encoder, cached and resumable.
- :func:`sentence_map`: a saved or trained model's view of labelled sentences in 2-D.
- :func:`probe`: a classifier on each layer of the encoder alone.
- :func:`label`: every row of a file labelled by a saved model, locally (resumable) or on Ray.
- :func:`baseline`: TF-IDF + logistic regression on the same split, recorded as a run.
- :func:`doctor`: this machine and install as bertsent sees them (CPU, fast path, versions, folders).
- :func:`open_labelling`, :func:`embed_pool`, :func:`refit`: a person labels a pool of sentences,
  the model choosing what to ask next (journalled: nothing is lost, a session resumes).
- :func:`suggest`: the next sentences of a pool to label, for the labels in a file.
- :func:`simulate`: a labelled set replayed as the oracle, a strategy's learning curve beside random's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from bertsent.core.base.errors import BertsentError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from bertsent.core.analyses.doctor import Checkup
    from bertsent.core.analyses.inside import Attention, SentenceMap
    from bertsent.core.analyses.probe import LayerProbe
    from bertsent.core.base.errors import DataError
    from bertsent.core.data.classes import ClassSet
    from bertsent.core.data.dataset import Dataset, Splits
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder
    from bertsent.core.labelling.active import Fitted, Simulation
    from bertsent.core.labelling.annotate import Session
    from bertsent.core.labelling.label import LabelResult
    from bertsent.core.models.explain import Prediction
    from bertsent.core.models.fastpath import FastPathCheck
    from bertsent.core.models.finetune import FinetuneSettings
    from bertsent.core.models.model import SentimentModel
    from bertsent.core.models.report import ClassMetrics, Report
    from bertsent.core.models.runs import Run
    from bertsent.core.models.train import Embedded, TrainResult


@dataclass(frozen=True)
class Progress:
    """Where a job is: ``done`` of ``total`` (None: unknown) in its current ``stage``.

    ``rate`` is per second in the stage's unit (sentences, fits, steps), ``elapsed`` the seconds
    since the stage began; ``detail`` is a short note for the stage ("loss 0.412", "120 from cache").
    """

    stage: str
    done: int
    total: int | None
    rate: float | None = None
    detail: str = ""
    elapsed: float | None = None

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate (None when unknown)."""
        if not self.rate or self.total is None:
            return None
        return max(self.total - self.done, 0) / self.rate


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class Trained:
    """A finished training run: the model and its report, as recorded in the run history."""

    result: TrainResult
    run: Run  # the history's record (``model`` is set once :func:`save` has saved it)
    notes: tuple[str, ...] = ()  # what the user should know: truncation, one class predicted, not recorded

    @property
    def report(self) -> Report:
        return self.result.report

    @property
    def model(self) -> SentimentModel:
        return self.result.model


@dataclass(frozen=True)
class Baseline:
    """The TF-IDF baseline's report, as recorded in the run history."""

    report: Report
    run: Run
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Saved:
    """Where :func:`save` put a model, and the precision it will run at."""

    folder: Path | None  # None: it could not be saved anywhere
    fast_path: FastPathCheck | None
    problem: str | None = None  # why the model is not where it was asked to go

    @property
    def precision(self) -> str:
        """One line: which precision the saved model runs at by default here, and why ("" if no check ran)."""
        from bertsent.core.models.fastpath import describe_choice

        return describe_choice(self.fast_path) if self.fast_path is not None else ""


@dataclass(frozen=True)
class Evaluation:
    """A saved model measured on labelled sentences."""

    accuracy: float
    macro_f1: float
    n: int
    precision: str  # the encoder precision the predictions were made at
    per_class: dict[str, ClassMetrics] = field(repr=False)
    confusion: list[list[int]] = field(repr=False)


def embed(
    splits: Splits,
    embedder: Embedder,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Embedded:
    """Embed both splits in one pass (cached: a cancelled run resumes where it stopped)."""
    from bertsent.core.models.train import embed_splits

    return embed_splits(embedder, splits, _embed_progress("embedding", progress), cancel)


def train(
    splits: Splits,
    *,
    embedder: Embedder | None = None,
    embedded: Embedded | None = None,
    encoder: str = "minilm",
    C: float | None = None,
    finetune: FinetuneSettings | None = None,
    device: str | None = None,
    data: str = "",
    record: bool = True,
    resume: bool = True,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Trained:
    """Train on ``splits.train``, report on ``splits.test`` and record the run.

    Frozen (the default): the sentences are embedded with ``embedder`` (reusing ``embedded`` when
    the caller embedded already) and logistic regression is fitted, ``C`` fixed or, when None,
    chosen by cross-validation. With ``finetune`` settings, ``encoder`` is fine-tuned with a
    linear head instead (checkpointed unless ``resume`` is False: a cancelled run resumes).
    ``data`` names the data in the run history; ``record=False`` leaves the history alone.
    """
    from bertsent.core.data.dataset import cv_folds
    from bertsent.core.models.runs import Run
    from bertsent.core.models.train import finetune as finetune_encoder
    from bertsent.core.models.train import fit

    if finetune is not None:
        result = finetune_encoder(
            splits,
            encoder,
            finetune,
            device=device,
            progress=_finetune_progress(progress),
            embed_progress=_embed_progress("scoring", progress),
            cancel=cancel,
            checkpoints="default" if resume else None,
            keep_checkpoint=resume,  # until :func:`save` has saved the model: nothing is lost before
        )
    else:
        if embedder is None:
            raise ValueError("a frozen-encoder run needs an embedder")
        if C is None:
            cv_folds(splits.train.labels, 5)  # too few sentences per class: say so before embedding
        if embedded is None:
            embedded = embed(splits, embedder, progress=progress, cancel=cancel)
        stage = "choosing C" if C is None else "fitting"
        result = fit(embedder, splits, embedded, C=C, progress=_steps(stage, progress), cancel=cancel)
    run = Run.from_report(result.report, data=data, data_sha256=result.data_hash)
    notes = [*run_notes(result.report, result.model.encoder.max_length), *(_record(run) if record else [])]
    return Trained(result, run, tuple(notes))


def save(
    result: TrainResult,
    folder: str | Path,
    *,
    run: Run | None = None,
    progress: ProgressFn | None = None,
) -> Saved:
    """Save a trained model to ``folder`` after checking the bf16 fast path on its held-out split.

    If the folder cannot be written now (it was checked before the work, so something changed),
    the model goes to the state folder's ``unsaved/<run id>`` instead and ``problem`` says so.
    The history's ``run`` (as recorded by :func:`train`) is pointed at the folder saved.
    """
    from bertsent.core.base.paths import state_dir
    from bertsent.core.base.schema import Invalid
    from bertsent.core.models.fastpath import check_fast_path
    from bertsent.core.models.persist import save_model

    held_out = result.held_out
    if progress:
        progress(Progress("checking bf16 against fp32", 0, len(held_out)))
    fast = check_fast_path(result.model, held_out.texts, held_out.labels)
    extra: dict[str, Any] = {
        "report": result.report,
        "data_hash": result.data_hash,
        "fast_path": fast and fast.to_dict(),
    }
    saved: Path | None = None
    problem = None
    try:
        saved = save_model(result.model, folder, **extra)
    except (BertsentError, Invalid) as exc:
        fallback = state_dir() / "unsaved" / (run.id if run is not None else time.strftime("%Y%m%d-%H%M%S"))
        try:
            saved = save_model(result.model, fallback, **extra)
            problem = f"{exc}; the model was saved to {fallback} instead"
        except (BertsentError, Invalid):
            problem = f"{exc}; the model could not be saved anywhere"
    if saved is not None:
        result.discard_checkpoint()  # a fine-tuning run's finished weights are safe in the folder now
        if run is not None:
            _record_model(run, str(saved))
    return Saved(saved, fast, problem)


def evaluate(
    model: SentimentModel,
    dataset: Dataset,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Evaluation:
    """Accuracy and macro F1 of ``model`` on ``dataset``, whose labels are the model's classes,
    given as labels or by their shown names (``1`` or ``positive``); any other label is a DataError."""
    from bertsent.core.data.dataset import align_labels
    from bertsent.core.models.report import class_metrics

    dataset = align_labels(dataset, model.classes)
    predicted = model.predict(dataset.texts, _embed_progress("embedding", progress), cancel)
    per_class, confusion = class_metrics(dataset.labels, predicted, model.classes)
    macro_f1 = float(np.mean([m.f1 for m in per_class.values()]))
    accuracy = float(np.mean(predicted == dataset.labels))
    return Evaluation(accuracy, macro_f1, len(dataset), model.encoder.precision, per_class, confusion)


def predict(
    model: SentimentModel,
    texts: Iterable[str],
    *,
    scores: bool = True,
    scored: int | str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Prediction | DataError]:
    """Label, probabilities and (with ``scores``) token and word scores of each text, in order.

    Streamed a block at a time, so a pipe of any length is predicted in bounded memory. A text
    that is not a sentence (empty, not valid UTF-8) yields its DataError in its place; the others
    go on. Token scores refer to the predicted class, or to the class ``scored`` when given.
    ``progress`` counts the forward passes of the block being predicted.
    """
    steps = _steps("predicting", progress)
    return model.explain_many(texts, scores=scores, scored=scored, progress=steps, cancel=cancel)


def predict_one(
    model: SentimentModel,
    text: str,
    *,
    scores: bool = True,
    scored: int | str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Prediction:
    """:func:`predict` of one text (as you type); a text that is not a sentence raises its DataError."""
    result = next(predict(model, [text], scores=scores, scored=scored, progress=progress, cancel=cancel))
    if isinstance(result, BertsentError):
        raise result
    return result


def attention(encoder: Encoder, text: str) -> Attention:
    """What each token of ``text`` attends to in every layer and head of ``encoder``."""
    from bertsent.core.analyses.inside import attention as attend

    return attend(encoder, text)


def sentence_map(
    model: SentimentModel,
    dataset: Dataset,
    *,
    method: str = "pca",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> SentenceMap:
    """A 2-D map of ``dataset``'s sentences as the model's classifier sees them; labels that are
    not the model's classes are refused, as :func:`evaluate` refuses them."""
    from bertsent.core.analyses.inside import sentence_map as project

    return project(model, dataset, method=method, progress=_embed_progress("embedding", progress), cancel=cancel)


def probe(
    encoder: Encoder,
    splits: Splits,
    *,
    reference: bool = True,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> LayerProbe:
    """A classifier on each layer alone ([CLS] and mean pooling), and the all-layer reference."""
    from bertsent.core.analyses.probe import probe_layers

    def report(p) -> None:
        if progress is None:
            return
        if p.stage == "embed":
            e = p.embed
            progress(Progress("embedding every layer", e.done, e.total, e.rate, f"{e.cached:,} from cache", e.elapsed))
        else:
            progress(Progress("probing layers", p.done, p.total))

    return probe_layers(encoder, splits, reference=reference, progress=report, cancel=cancel)


def label(
    model_folder: str | Path,
    source: str,
    out: str | Path,
    *,
    engine: str = "local",
    text_column: str | None = None,
    format: str | None = None,
    input_format: str | None = None,
    all_probabilities: bool = False,
    window_rows: int | None = None,
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: int | None = None,
    verbose: bool = False,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> LabelResult:
    """Label every row of ``source`` into ``out`` with the model in ``model_folder``: the local
    engine (resumable: an interrupted run continues where it stopped) or Ray (``engine="ray"``,
    on the cluster at ``address``)."""

    shared: dict[str, Any] = {
        "text_column": text_column,
        "format": format,
        "input_format": input_format,
        "all_probabilities": all_probabilities,
        "progress": label_progress(progress),
    }
    if engine == "ray":
        from bertsent.core.labelling.label_ray import label_with_ray

        return label_with_ray(
            model_folder,
            source,
            out,
            address=address,
            workers=workers,
            worker_threads=cpus_per_worker,
            verbose=verbose,
            **shared,
        )
    from bertsent.core.base.files import sha256_file
    from bertsent.core.labelling.label import WINDOW_ROWS, label_file
    from bertsent.core.models.persist import META, load_model

    return label_file(
        load_model(model_folder).model,
        source,
        out,
        window_rows=window_rows or WINDOW_ROWS,
        model_id=sha256_file(Path(model_folder) / META),
        cancel=cancel,
        **shared,
    )


def baseline(splits: Splits, *, data: str = "", record: bool = True, cancel: threading.Event | None = None) -> Baseline:
    """TF-IDF + logistic regression on the same split, recorded as a run (unless ``record`` is False)."""
    from bertsent.core.data.dataset import data_hash
    from bertsent.core.models.baseline import tfidf_report
    from bertsent.core.models.runs import Run

    report = tfidf_report(splits, cancel=cancel)
    run = Run.from_report(report, data=data, data_sha256=data_hash(splits.train))
    return Baseline(report, run, tuple(_record(run) if record else ()))


def doctor(*, refresh: bool = False) -> Checkup:
    """The machine's CPU and fast path (``refresh``: probed again), package versions and folders."""
    from bertsent.core.analyses.doctor import checkup

    return checkup(refresh=refresh)


def open_labelling(
    pool: str | Path,
    out: str | Path,
    *,
    classes: list[str] | None = None,
    labels: str | Path | None = None,
    test: str | Path | None = None,
    text_column: str | None = None,
    accept_classes: Callable[[ClassSet], None] | None = None,
) -> AbstractContextManager[Session]:
    """A labelling session on ``pool`` writing ``out`` (``text,label``), resumed from its journal
    when one is there; ``classes`` names the classes unless ``labels`` (a labelled file) or the
    journal gives them; ``test`` (a labelled file) scores each model; ``accept_classes`` may refuse
    the classes found (a :class:`DataError`) before anything is written. Use it in a ``with``
    block: the journal stays locked while it is open."""
    from bertsent.core.labelling.annotate import open_session

    return open_session(
        pool, out, classes=classes, labels=labels, test=test, text_column=text_column, accept_classes=accept_classes
    )


def embed_pool(
    session: Session,
    embedder: Embedder,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Embed a session's pool (and its given labels and test file) once (cached: a cancelled run
    resumes where it stopped) and cluster it."""
    session.embed(embedder, _embed_progress("embedding the pool", progress), cancel)


def refit(
    session: Session,
    *,
    labelled: tuple[np.ndarray, np.ndarray] | None = None,
    cancel: threading.Event | None = None,
) -> Fitted | None:
    """Fit the classifier on a session's labels so far and cross-validate it (None while a class
    has fewer than two labels). On a worker thread, pass ``labelled`` (``session.training_data()``
    taken on the thread that labels) and hand the result to ``session.use`` there."""
    from bertsent.core.labelling import active

    X, y = labelled if labelled is not None else session.training_data()
    return active.fit(X, y, session.classes, session.pool, layers=session.layers, cancel=cancel)


def suggest(
    pool: str | Path,
    labels: str | Path,
    embedder: Embedder | Callable[[], Embedder],
    *,
    n: int = 20,
    strategy: str | None = None,
    text_column: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> list[tuple[int, str]]:
    """The next ``n`` sentences of ``pool`` to label for the labels in ``labels``, best first, as
    (row among the pool's distinct texts, text). ``embedder`` may be a function that makes one,
    called only once both files have been read."""
    from bertsent.core.labelling.active import DEFAULT_STRATEGY
    from bertsent.core.labelling.annotate import suggest_from_files

    return suggest_from_files(
        pool,
        labels,
        embedder,
        n=n,
        strategy=strategy or DEFAULT_STRATEGY,
        text_column=text_column,
        progress=_embed_progress("embedding", progress),
        cancel=cancel,
    )


def simulate(
    splits: Splits,
    embedder: Embedder,
    *,
    strategy: str | None = None,
    budget: int = 400,
    seeds: int = 3,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> Simulation:
    """Replay ``splits.train`` as the oracle (10 random first labels, then 10 per round chosen by
    ``strategy``), scoring on ``splits.test`` after each round; random picks on the same seeds beside it."""
    from bertsent.core.labelling.active import DEFAULT_STRATEGY
    from bertsent.core.labelling.active import simulate as replay

    embedded = embed(splits, embedder, progress=progress, cancel=cancel)
    classes = splits.classes
    return replay(
        embedded.train,
        splits.train.labels,
        embedded.test,
        splits.test.labels,
        classes,
        strategy=strategy or DEFAULT_STRATEGY,
        budget=budget,
        seeds=seeds,
        layers=len(embedder.layers),
        progress=_steps("simulating", progress),
        cancel=cancel,
    )


def run_notes(report: Report, max_length: int) -> list[str]:
    """What a finished run should tell its user besides the report."""
    notes = []
    if report.truncated:
        notes.append(f"{report.truncated} sentences were longer than {max_length} tokens and were truncated")
    predicted = [sum(column) for column in zip(*report.confusion, strict=True)]
    if sum(1 for count in predicted if count) == 1 and report.n_test > 1:
        hint = ""
        if report.C is not None:
            hint = f" (C = {report.C:g} may be too small for {report.n_train:,} sentences: try a larger --C, or --cv)"
        notes.append(f"the model predicts one label for every test sentence{hint}")
    return notes


def _record(run: Run) -> list[str]:
    """Add ``run`` to the history; failing that is a note, not a failed job (the work is done)."""
    from bertsent.core.models.runs import RunHistory

    try:
        RunHistory().add(run)
    except BertsentError as exc:
        return [f"the run was not recorded: {exc}"]
    return []


def _record_model(run: Run, folder: str) -> None:
    from bertsent.core.models.runs import RunHistory

    try:
        RunHistory().set_model(run.id, folder)
    except BertsentError:
        pass  # the model is saved; the history keeps the run without its folder


def _steps(stage: str, progress: ProgressFn | None) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(Progress(stage, done, total))


def _embed_progress(stage: str, progress: ProgressFn | None):
    if progress is None:
        return None

    def report(p) -> None:
        progress(Progress(stage, p.done, p.total, p.rate, f"{p.cached:,} from cache", p.elapsed))

    return report


def label_progress(progress: ProgressFn | None):
    """Corpus labelling's progress (rows, resumed and bad ones) as a job's :class:`Progress`."""

    def rows(p) -> None:
        if progress is not None:
            detail = ", ".join(f"{n:,} {what}" for n, what in ((p.resumed, "resumed"), (p.bad, "bad")) if n)
            progress(Progress("labelling", p.done, p.total, p.rate, detail, p.elapsed))

    return rows


def _finetune_progress(progress: ProgressFn | None):
    if progress is None:
        return None

    def report(p) -> None:  # rate in steps per second, the unit of done and total
        detail = f"loss {p.loss:.3f}, {p.rate:,.0f} sentences/s"
        progress(Progress("fine-tuning", p.step, p.total, p.rate / p.batch_size, detail, p.elapsed))

    return report
