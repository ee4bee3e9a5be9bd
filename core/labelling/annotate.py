"""A labelling session: a pool of unlabelled sentences, the labels a person gives them one by one,
and nothing lost.

Every decision (a label, a skip, an undo) is one JSON line appended to the journal
``<out>.journal`` and fsynced before the call returns; the labelled file ``out`` (``text,label``
CSV, a normal training file) is then rebuilt from the journal atomically. A session killed at any
moment (``kill -9`` included) loses at most the decision being written: a torn last line is
ignored when the journal is read again, and opening the same pool with the same ``out`` resumes.
The journal names each sentence by its index among the pool's distinct texts and a hash of its
text, so a pool that changed is noticed instead of labels landing on other sentences.

Labels given in a file beforehand (``labels``) count as labelled: they teach the model and start
the labelled file, and their sentences are never asked for. A labelled test file (``test``) is
never trained on: after each refit the model's accuracy on it stands beside the cross-validated
estimate, and its sentences are never asked for either (a label on one would leak into the test).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bertsent.core.base.errors import DataError
from bertsent.core.base.files import atomic_write_text, locked
from bertsent.core.base.text import sentence_problem
from bertsent.core.data.classes import ClassSet, Label
from bertsent.core.data.dataset import Dataset, align_labels, as_labels, load_dataset
from bertsent.core.data.table import find_column, open_table
from bertsent.core.encoding.embed import Embedder, ProgressCallback
from bertsent.core.labelling import active
from bertsent.core.models.explain import Prediction

JOURNAL_FORMAT = 1
JOURNAL_KIND = "bertsent labelling journal"
SKIP, UNDO = "skip", "undo"


def text_key(text: str) -> str:
    """How the journal names a sentence's text: the first 16 hex digits of its sha256."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def read_pool(path: str | Path, text_column: str | None = None) -> tuple[list[str], int]:
    """The distinct texts of a CSV, TSV, JSONL or plain-text file in file order (the text column
    found as everywhere), and how many rows were left out (bad, empty or repeated)."""
    if Path(path).is_dir():
        raise DataError(f"{path}: is a folder; name a file of sentences (.txt, .csv, .tsv or .jsonl)")
    table = open_table(path, known_columns=(text_column,) if text_column else ())
    column = None if table.format == "jsonl" else find_column(table.columns, text_column, "text", table.source)
    texts: dict[str, None] = {}
    left_out = 0
    for _, row in table.rows():
        key = column or (find_column(tuple(row), text_column, "text") if isinstance(row, dict) else None)
        text = row.get(key) if isinstance(row, dict) and key else None
        if not isinstance(text, str) or sentence_problem(text) or text.strip() in texts:
            left_out += 1
            continue
        texts[text.strip()] = None
    if not texts:
        raise DataError(f"{path}: no sentences to label")
    return list(texts), left_out


def class_set(names: Sequence[str]) -> ClassSet:
    """The classes a person names, in their order: integers when every name is one (as in files)."""
    cleaned = [name.strip() for name in names]
    if len(cleaned) < 2 or any(not name for name in cleaned):
        raise DataError("name at least two classes, none empty")
    if len(set(cleaned)) != len(cleaned):
        raise DataError(f"a class is named twice: {', '.join(cleaned)}")
    return ClassSet(tuple(as_labels(cleaned).tolist()))


@dataclass(frozen=True)
class HeldOutScore:
    """The model fitted on ``labels`` labels, scored on the ``n`` sentences of the test file."""

    labels: int
    accuracy: float
    n: int


@dataclass(frozen=True)
class Decision:
    """One line of the journal: a label (or a skip) given to pool sentence ``index``."""

    index: int
    label: Label | None  # None: skipped
    strategy: str
    time: str


class Session:
    """A labelling session over ``pool``; open it with :func:`open_session` (which locks the journal
    against a second session on the same file)."""

    def __init__(
        self,
        texts: list[str],
        out: Path,
        classes: ClassSet,
        given: Dataset | None,
        journal: Path,
        decisions: list[Decision],
        handle,
        test: Dataset | None = None,
    ) -> None:
        self.texts = texts
        self.out = out
        self.classes = classes
        self.given = given
        self.test = test  # labelled sentences to score each model on, never trained on
        self.journal_path = journal
        self.decisions = decisions
        self.left_out = 0  # pool rows left out: bad, empty or repeated
        self._handle = handle
        self._index = {text: i for i, text in enumerate(texts)}
        self.taken = np.zeros(len(texts), dtype=bool)  # labelled, skipped or given: never asked again
        self.labels: dict[int, Label] = {}
        for decision in decisions:
            self._apply(decision)
        self.reserved = np.zeros(len(texts), dtype=bool)  # in the given labels or the test file: never asked
        for known in (given, test):
            for text in known.texts if known is not None else ():
                if (i := self._index.get(text)) is not None:
                    self.reserved[i] = True
        self.taken |= self.reserved
        self.embedder: Embedder | None = None
        self.layers = 1  # layer blocks in each vector (the recipe's layer set), for active.fit
        self.vectors: np.ndarray | None = None  # the pool's, once embedded
        self.pool: active.Pool | None = None
        self.given_vectors: np.ndarray | None = None
        self.test_vectors: np.ndarray | None = None
        self.fitted: active.Fitted | None = None
        self.history: list[tuple[int, float, float]] = []  # (labels, CV accuracy, its error) after each fit
        self.test_history: list[HeldOutScore] = []  # the test file's accuracy after each fit (with a test file)

    # --- decisions ---

    def label(self, index: int, label: Label | str, strategy: str = "") -> None:
        """Give pool sentence ``index`` the class ``label`` (a class or its shown name); written
        to the journal (fsynced) and the labelled file before this returns."""
        if not isinstance(label, int) or label not in self.classes.labels:
            label = self.classes.find(str(label))
        self._record(Decision(self._checked(index), label, strategy, _now()))

    def skip(self, index: int, strategy: str = "") -> None:
        """Never ask for ``index`` again (until the skip is undone)."""
        self._record(Decision(self._checked(index), None, strategy, _now()))

    def undo(self) -> Decision | None:
        """Take back the last label or skip; returns it (None: nothing to undo)."""
        if not self.decisions:
            return None
        self._append({UNDO: True, "time": _now()})
        last = self.decisions.pop()
        self.taken[last.index] = self.reserved[last.index]
        self.labels.pop(last.index, None)
        self.write_labelled()
        return last

    def _checked(self, index: int) -> int:
        if not 0 <= index < len(self.texts):
            raise DataError(f"no sentence {index} in the pool (it has {len(self.texts):,})")
        if self.taken[index]:
            raise DataError(f"sentence {index} is labelled or skipped already; undo first")
        return int(index)

    def _record(self, decision: Decision) -> None:
        self._append(
            {
                "time": decision.time,
                "index": decision.index,
                "text": text_key(self.texts[decision.index]),
                **({"label": decision.label} if decision.label is not None else {SKIP: True}),
                "strategy": decision.strategy,
            }
        )
        self.decisions.append(decision)
        self._apply(decision)
        self.write_labelled()

    def _apply(self, decision: Decision) -> None:
        self.taken[decision.index] = True
        if decision.label is not None:
            self.labels[decision.index] = decision.label

    def _append(self, entry: dict) -> None:
        """One journal line, on disk (fsynced) before it returns; a line the disk refused is cut
        back off, so it is neither half there nor written later (the journal is unbuffered)."""
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")
        fd = self._handle.fileno()
        start = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(line)
            while view:  # a write may take part of the line
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):  # what got through goes: the decision is not made
                os.ftruncate(fd, start)
            raise DataError(f"{self.journal_path}: cannot write: {exc.strerror or exc}; that was not saved") from None

    def write_labelled(self) -> None:
        """The labelled file from the given labels and the journal's, atomically (``text,label``)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["text", "label"])
        if self.given is not None:
            writer.writerows(zip(self.given.texts, self.given.labels.tolist(), strict=True))
        writer.writerows((self.texts[i], label) for i, label in self.labels.items())
        try:
            atomic_write_text(self.out, buffer.getvalue())
        except OSError as exc:
            raise DataError(
                f"{self.out}: cannot write: {exc.strerror or exc}; the journal has every label, "
                "and the file is rewritten with the next one or on opening again"
            ) from None

    # --- what is known so far ---

    def labelled(self) -> tuple[list[int], np.ndarray]:
        """Pool indices labelled in this session (in the order given) and their labels."""
        indices = list(self.labels)
        return indices, np.asarray([self.labels[i] for i in indices], dtype=self.classes.array.dtype)

    def counts(self) -> list[int]:
        """Labels per class (given ones included), in class order."""
        _, y = self.labelled()
        if self.given is not None:
            y = np.concatenate([self.given.labels.astype(y.dtype), y])
        return (
            np.bincount(self.classes.indices(y), minlength=len(self.classes)).tolist()
            if len(y)
            else [0] * len(self.classes)
        )

    @property
    def remaining(self) -> int:
        return int((~self.taken).sum())

    # --- the model in the loop ---

    def embed(self, embedder: Embedder, progress: ProgressCallback | None = None, cancel=None) -> None:
        """Embed the pool (and the given labels' and the test file's sentences) once: cached, so a
        cancelled or interrupted embedding resumes; then cluster the pool for the ``diverse`` strategy."""
        given = self.given.texts if self.given is not None else []
        test = self.test.texts if self.test is not None else []
        vectors = embedder.embed(self.texts + given + test, progress, cancel)
        self.vectors, self.given_vectors, self.test_vectors = np.split(
            vectors, [len(self.texts), len(self.texts) + len(given)]
        )
        self.pool = active.Pool(self.vectors)
        self.embedder = embedder
        self.layers = len(embedder.layers)

    def training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The vectors and labels to fit on: given labels, then this session's."""
        if self.vectors is None or self.given_vectors is None:
            raise DataError("the pool is not embedded yet")
        indices, y = self.labelled()
        X = self.vectors[indices]
        if self.given is not None:
            X = np.concatenate([self.given_vectors, X])
            y = np.concatenate([self.given.labels.astype(y.dtype), y])
        return X, y

    def explain(self, index: int, cancel: threading.Event | None = None) -> Prediction | None:
        """The current model's prediction for sentence ``index`` with its token scores (one
        forward pass per token: call it off the UI thread); None while there is no model."""
        from bertsent.core.models.model import SentimentModel

        if self.fitted is None or self.embedder is None:
            return None
        return SentimentModel(self.embedder, self.fitted.classifier).explain(self.texts[index], cancel=cancel)

    def refit(self, cancel: threading.Event | None = None) -> active.Fitted | None:
        """Fit the classifier on every label so far and cross-validate it; the pool's
        probabilities then steer the uncertainty strategies. None while a class has too few labels."""
        X, y = self.training_data()
        fitted = active.fit(X, y, self.classes, self.pool, layers=self.layers, cancel=cancel)
        self.use(fitted)
        return fitted

    def use(self, fitted: active.Fitted | None, scored: HeldOutScore | None = None) -> None:
        """Make ``fitted`` (from :meth:`refit`, maybe on another thread) the model in use, with its
        score on the test file: ``scored`` when :meth:`score` ran on that thread too (predicting a
        large test file takes tens of milliseconds), else computed here."""
        self.fitted = fitted
        if fitted is not None and fitted.estimate is not None:
            estimate = fitted.estimate
            self.history = [h for h in self.history if h[0] < estimate.n] + [
                (estimate.n, estimate.accuracy, estimate.error)
            ]
        if scored is None and fitted is not None:
            scored = self.score(fitted)
        if scored is not None:
            self.test_history = [s for s in self.test_history if s.labels < scored.labels] + [scored]

    def score(self, fitted: active.Fitted | None) -> HeldOutScore | None:
        """``fitted``'s accuracy on the test file (None: no test file, or no model yet)."""
        if fitted is None or self.test is None or self.test_vectors is None:
            return None
        correct = fitted.classifier.predict(self.test_vectors) == self.test.labels
        return HeldOutScore(fitted.n, float(correct.mean()), len(correct))

    @property
    def test_score(self) -> HeldOutScore | None:
        """The model in use's accuracy on the test file (None: no test file, or no model yet)."""
        if self.fitted is None or not self.test_history or self.test_history[-1].labels != self.fitted.n:
            return None
        return self.test_history[-1]

    def suggest(self, n: int = 1, strategy: str = active.DEFAULT_STRATEGY, *, seed: int | None = None) -> list[int]:
        """The next ``n`` sentences to label by ``strategy``, best first."""
        if self.pool is None:
            raise DataError("the pool is not embedded yet")
        proba = self.fitted.proba if self.fitted is not None else None
        rng = np.random.default_rng(seed)
        return active.query(
            strategy, self.pool, self.taken, n, proba=proba, label_counts=self.counts(), rng=rng
        ).tolist()

    def similar(self, index: int, n: int = 10) -> list[int]:
        """The ``n`` unlabelled sentences nearest sentence ``index``, nearest first."""
        if self.pool is None:
            raise DataError("the pool is not embedded yet")
        return self.pool.similar(index, n, exclude=self.taken).tolist()

    def guess(self, index: int) -> tuple[Label, float] | None:
        """The current model's class for sentence ``index`` and its probability (None: no model yet)."""
        if self.fitted is None:
            return None
        row = self.fitted.proba[index]
        best = int(np.argmax(row))
        return self.classes.labels[best], float(row[best])


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal")


@contextlib.contextmanager
def open_session(
    pool: str | Path,
    out: str | Path,
    *,
    classes: Sequence[str] | None = None,
    labels: str | Path | None = None,
    test: str | Path | None = None,
    text_column: str | None = None,
    accept_classes: Callable[[ClassSet], None] | None = None,
) -> Iterator[Session]:
    """A session labelling ``pool`` into ``out``, resumed from ``out``'s journal when there is one.

    ``classes`` names the classes (required unless the journal or ``labels`` gives them);
    ``labels`` is a labelled file (``text,label``) of labels given beforehand; ``test`` a labelled
    file with the session's classes to score each model on. ``accept_classes`` may refuse the
    classes found (raising :class:`DataError`) before anything is written.
    """
    out = Path(out)
    journal = journal_path(out)
    if out.exists() and not journal.exists():
        raise DataError(f"{out}: exists and was not written by a labelling session; choose another file")
    if out.is_dir():
        raise DataError(f"{out}: is a folder; name a file to write the labels to")
    texts, left_out = read_pool(pool, text_column)
    new = not journal.exists()
    try:
        journal.parent.mkdir(parents=True, exist_ok=True)
        # unbuffered: a line the disk refused must not linger in a buffer, to be written later
        handle = open(journal, "ab", buffering=0)  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise DataError(f"{journal}: cannot write the journal: {exc.strerror or exc}") from None
    try:
        with handle, _locked(journal):
            header, entries, whole = read_journal(journal)
            if header is None and out.exists():
                raise DataError(
                    f"{journal}: its first line is gone, so the labels in {out.name} cannot be resumed; "
                    f"to keep them, give {out.name} as the labels file of a session writing another file"
                )
            handle.truncate(whole)  # a line torn by a crash goes: the next one starts on its own line
            if labels is None and header is not None and header.get("labels"):
                labels = header["labels"]
            given = load_dataset(labels) if labels is not None else None
            chosen = _classes(classes, header, given)
            if accept_classes is not None:
                accept_classes(chosen)
            if given is not None:
                given = align_labels(given, chosen, "this session")
            held_out = align_labels(load_dataset(test), chosen, "this session") if test is not None else None
            decisions = _replay(entries, texts, chosen, journal)
            if held_out is not None:
                _held_out(held_out, str(test), given, {texts[d.index] for d in decisions if d.label is not None})
            session = Session(texts, out, chosen, given, journal, decisions, handle, test=held_out)
            session.left_out = left_out
            if header is None:
                session._append(
                    {
                        "kind": JOURNAL_KIND,
                        "format": JOURNAL_FORMAT,
                        "pool": str(Path(pool).resolve()),
                        "classes": list(chosen.labels),
                        "labels": str(Path(labels).resolve()) if labels is not None else None,
                    }
                )
            session.write_labelled()
            yield session
    except BaseException:
        if new and journal.exists() and journal.stat().st_size == 0:
            journal.unlink()  # refused before the first line: leave nothing behind
        raise


@contextlib.contextmanager
def _locked(journal: Path) -> Iterator[None]:
    try:
        with locked(journal, wait=False):
            yield
    except BlockingIOError:
        raise DataError(f"{journal}: another labelling session is using it; close that one first") from None


def _held_out(test: Dataset, source: str, given: Dataset | None, labelled: set[str]) -> None:
    """Refuse a test file that shares sentences with the labels the model learns from."""
    learnt = labelled | set(given.texts if given is not None else ())
    shared = [text for text in test.texts if text in learnt]
    if shared:
        raise DataError(
            f"{source}: {len(shared):,} of its sentences are labels the model learns from "
            f"(first: {shared[0][:60]!r}); a test file must be held out"
        )


def _classes(named: Sequence[str] | None, header: dict | None, given: Dataset | None) -> ClassSet:
    if header is not None:
        kept = ClassSet(tuple(header["classes"]))
        # named as its labels or, as the screen shows them, by their names (negative,positive for 0,1)
        if named and class_set(named) != kept and [name.strip() for name in named] != kept.names:
            raise DataError(
                f"this session's classes are {', '.join(kept.names)}; to label with others choose another file"
            )
        return kept
    if named:
        return class_set(named)
    if given is not None:
        return ClassSet.of(given.labels)
    raise DataError("name the classes (at least two), or give a file of labels to take them from")


def read_journal(path: Path) -> tuple[dict | None, list[dict], int]:
    """The journal's header, its entries and the length in bytes of its whole lines: a last line
    cut short by a crash is left out (it is the decision being written when the session died).
    Anything else unreadable is one line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [], 0
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    whole = data.rfind(b"\n") + 1
    lines = data[:whole].split(b"\n")
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line.decode("utf-8", "surrogatepass"))
        except ValueError:
            raise DataError(f"{path}: line {number} is damaged; move the file away to start over") from None
        if not isinstance(entry, dict):
            raise DataError(f"{path}: line {number} is not a journal entry")
        entries.append(entry)
    if not entries:
        return None, [], whole
    header = entries[0]
    if header.get("kind") != JOURNAL_KIND or header.get("format") != JOURNAL_FORMAT:
        raise DataError(f"{path}: not a bertsent labelling journal (format {JOURNAL_FORMAT})")
    if not _class_list(header.get("classes")):
        raise DataError(f"{path}: the journal names no classes, or damaged ones; move the file away to start over")
    if not isinstance(header.get("labels"), str | None):
        raise DataError(f"{path}: line 1 names a damaged labels file {header['labels']!r}")
    return header, entries[1:], whole


def _class_list(classes) -> bool:
    """Whether a journal's classes are as a session writes them: two or more distinct labels, all
    whole numbers or all non-blank strings."""
    if not isinstance(classes, list) or len(classes) < 2 or len(set(map(repr, classes))) < len(classes):
        return False
    kinds = {type(c) for c in classes}
    return kinds == {int} or (kinds == {str} and all(c.strip() for c in classes))


def _replay(entries: list[dict], texts: list[str], classes: ClassSet, path: Path) -> list[Decision]:
    """The decisions still standing after every undo, each checked against the pool's texts."""
    by_key = {text_key(text): i for i, text in enumerate(texts)}
    decisions: list[Decision] = []
    decided: set[int] = set()
    for number, entry in enumerate(entries, start=2):
        if entry.get(UNDO):
            if decisions:
                decided.discard(decisions.pop().index)
            continue
        index, key = entry.get("index"), entry.get("text")
        if not isinstance(index, int) or not isinstance(key, str):
            raise DataError(f"{path}: line {number} is not a journal entry")
        if not (0 <= index < len(texts) and text_key(texts[index]) == key):
            if key not in by_key:
                raise DataError(
                    f"{path}: line {number} labels a sentence the pool no longer has; "
                    "label the pool it was made for, or choose another file"
                )
            index = by_key[key]  # the pool's rows moved: the text decides
        label = entry.get("label") if not entry.get(SKIP) else None
        if label is not None and label not in classes.labels:
            raise DataError(f"{path}: line {number} has the label {label!r}, not one of the classes")
        if index in decided:
            raise DataError(f"{path}: line {number} decides sentence {index} a second time without an undo (damaged)")
        decided.add(index)
        decisions.append(Decision(index, label, str(entry.get("strategy", "")), str(entry.get("time", ""))))
    return decisions


def suggest_from_files(
    pool: str | Path,
    labels: str | Path,
    embedder: Embedder | Callable[[], Embedder],
    *,
    n: int = 20,
    strategy: str = active.DEFAULT_STRATEGY,
    text_column: str | None = None,
    seed: int | None = 0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[tuple[int, str]]:
    """The next ``n`` sentences of ``pool`` to label, (row among the pool's distinct texts, text),
    best first, for the labels in ``labels`` (a labelled file); no journal is written.
    ``embedder`` may be a function that makes one: it is called once both files are read, so a
    bad file costs no encoder load."""
    texts, _ = read_pool(pool, text_column)
    given = load_dataset(labels)
    classes = ClassSet.of(given.labels)
    if not isinstance(embedder, Embedder):
        embedder = embedder()
    vectors = embedder.embed(texts + given.texts, progress, cancel)
    pool_vectors, given_vectors = vectors[: len(texts)], vectors[len(texts) :]
    taken = np.isin(np.asarray(texts, dtype=object), np.asarray(given.texts, dtype=object))
    vectors_to_label = active.Pool(pool_vectors)
    layers = len(embedder.layers)
    fitted = active.fit(
        given_vectors, given.labels, classes, vectors_to_label, layers=layers, estimate=False, cancel=cancel
    )
    counts = np.bincount(classes.indices(given.labels), minlength=len(classes)).tolist()
    picks = active.query(
        strategy,
        vectors_to_label,
        taken,
        n,
        proba=None if fitted is None else fitted.proba,
        label_counts=counts,
        rng=np.random.default_rng(seed),
    )
    return [(int(i), texts[i]) for i in picks]
