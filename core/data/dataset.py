"""Load and validate labelled sentences (CSV, TSV, JSONL through ``core.data.table``) and split them.

Labels are data, kept exactly as written: integers when every label in a file is written as
Python writes that integer (so ``01``, ``+1``, ``-0``, ``1.0`` and ``١`` stay text and stay apart
from ``1``), strings otherwise. The class set (``core.data.classes``) and its order come from the data,
or from the order the user gives.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from bertsent.core.base.errors import DataError
from bertsent.core.base.text import sentence_problem
from bertsent.core.data.classes import MAX_CLASSES, MAX_NAME, ClassSet, names_of
from bertsent.core.data.table import find_column, open_table

SUFFIXES = (".tsv", ".csv", ".jsonl")
_INTEGER = re.compile(r"0|-?[1-9][0-9]*", re.ASCII)  # as str(int) writes one: no +, -0, leading zeros or spaces
INT64 = (-(2**63), 2**63 - 1)


def is_integer_label(value: str) -> bool:
    """True when ``value`` is an int64 written exactly as ``str(int(value))`` writes it."""
    return bool(_INTEGER.fullmatch(value)) and INT64[0] <= int(value) <= INT64[1]


def as_labels(values: Sequence[str]) -> np.ndarray:
    """Labels as given: an int64 array when every value is an integer label
    (:func:`is_integer_label`), else a string array of the values exactly as written."""
    if values and all(is_integer_label(value) for value in values):
        return np.asarray([int(value) for value in values], dtype=np.int64)
    return np.asarray(list(values), dtype=str)


@dataclass(frozen=True)
class Dataset:
    """Sentences with their labels (int64 or str array), in file order."""

    texts: list[str]
    labels: np.ndarray
    source: str = ""
    skipped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError("texts and labels differ in length")

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, indices: Sequence[int] | np.ndarray) -> Dataset:
        idx = np.asarray(indices, dtype=np.int64)
        return Dataset([self.texts[i] for i in idx], self.labels[idx], self.source)

    def head(self, n: int | None) -> Dataset:
        if n is None or n >= len(self):
            return self
        return Dataset(self.texts[:n], self.labels[:n], self.source, self.skipped)


@dataclass(frozen=True)
class Splits:
    """A train and a test set; ``given`` tells whether the test split came with the data.

    ``order`` names the classes in the order the user wants them (by label or shown name);
    without it they are sorted. A name that is not a label of the data is a DataError here.
    """

    train: Dataset
    test: Dataset
    given: bool
    order: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self.classes  # noqa: B018 -- a class order that does not fit the data fails at once

    @property
    def classes(self) -> ClassSet:
        """Every label of either split, in the user's order or sorted."""
        return ClassSet.of(np.concatenate([self.train.labels, self.test.labels]), self.order)

    def ordered(self, order: Sequence[str] | None) -> Splits:
        """The same splits with the classes in ``order`` (None: sorted)."""
        return replace(self, order=tuple(order) if order else None)


@dataclass(frozen=True)
class Summary:
    """Counts per label (in class order) and token-length statistics of one dataset."""

    n: int
    per_label: dict
    duplicates: int
    lengths: np.ndarray

    @property
    def length_stats(self) -> dict[str, float]:
        if not len(self.lengths):
            return {}
        lengths = self.lengths
        return {
            "min": int(lengths.min()),
            "mean": float(lengths.mean()),
            "median": float(np.median(lengths)),
            "p95": float(np.percentile(lengths, 95)),
            "max": int(lengths.max()),
        }


def summarize(
    dataset: Dataset, lengths: Sequence[int] | np.ndarray = (), classes: Sequence | np.ndarray | None = None
) -> Summary:
    """Summarize ``dataset``; ``lengths`` are its token counts (from ``Encoder.token_lengths``).

    ``classes`` (default: the dataset's own) lists every label counted, so splits line up.
    """
    classes = np.unique(dataset.labels) if classes is None else classes
    counts = Counter(dataset.labels.tolist())
    return Summary(
        n=len(dataset),
        per_label={label: counts.get(label, 0) for label in np.asarray(classes).tolist()},
        duplicates=len(dataset.texts) - len(set(dataset.texts)),
        lengths=np.asarray(lengths, dtype=np.int64),
    )


def load_dataset(
    path: str | Path,
    *,
    skip_bad: bool = False,
    text_column: str | None = None,
    label_column: str | None = None,
) -> Dataset:
    """Read one labelled file. Bad rows raise DataError naming file and line, or are counted when skipped.

    Columns are found by name (``text_column``/``label_column``, else the common names); a file
    without a header has the text first and the label second.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a file")
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; use .tsv, .csv or .jsonl")
    table = open_table(path, known_columns=[name for name in (text_column, label_column) if name])
    # A JSON object names its own fields, so JSONL columns are found row by row unless named.
    per_row = table.format == "jsonl"
    text_key = text_column if per_row else find_column(table.columns, text_column, "text", table.source)
    label_key = label_column if per_row else find_column(table.columns, label_column, "label", table.source)
    rows = ((f"{path}:{lineno}", row, text_key, label_key) for lineno, row in table.rows())
    return _checked_rows(rows, str(path), label_key or "label", skip_bad)


def _checked_rows(
    rows: Iterable[tuple[str, dict[str, str] | str, str | None, str | None]],
    source: str,
    label_column: str,
    skip_bad: bool,
) -> Dataset:
    """The sentences of ``(where, row or why it is bad, text key, label key)`` checked by one rule
    (:func:`_labelled`): a bad row is an error naming ``where``, or is counted when skipped."""
    texts: list[str] = []
    labels: list[str] = []
    skipped: Counter[str] = Counter()
    for where, row, text_key, label_key in rows:
        checked = row if isinstance(row, str) else _labelled(row, text_key, label_key)
        if isinstance(checked, str):
            if not skip_bad:
                raise DataError(f"{where}: {checked}")
            skipped[checked.split(":")[0]] += 1
            continue
        texts.append(checked[0])
        labels.append(checked[1])
    if not texts:
        detail = f" ({sum(skipped.values())} bad rows skipped)" if skipped else ""
        raise DataError(f"{source}: no sentences found{detail}")
    _check_class_count(labels, source, label_column)
    return Dataset(texts, as_labels(labels), source, dict(skipped))


def _check_class_count(labels: list[str], source: str, column: str) -> None:
    distinct = set(labels)
    if len(distinct) > MAX_CLASSES:
        examples = ", ".join(repr(_short(label)) for label in sorted(distinct)[:3])
        raise DataError(
            f"{source}: the label column {column!r} has {len(distinct):,} distinct values "
            f"({examples}, ...), more than {MAX_CLASSES} classes: probably the wrong column; "
            "choose one with --label-column"
        )


def _labelled(row: dict[str, str], text_key: str | None, label_key: str | None) -> tuple[str, str] | str:
    """(text, label) of a row, or the reason it is bad; a key of None is looked up by the common names."""
    try:
        text_key = text_key or find_column(tuple(row), None, "text")
        label_key = label_key or find_column(tuple(row), None, "label")
    except DataError as exc:
        return f"missing field: {exc}"
    text, label = row.get(text_key), row.get(label_key)
    if text is None or label is None:
        return f"missing field: expected {text_key!r} and {label_key!r}"
    if problem := sentence_problem(text):
        return problem
    if not label.strip():
        return "empty label: the label is empty"
    if any(ord(char) < 32 or ord(char) == 127 for char in label):
        return "bad label: control characters in the label"  # numpy would drop a trailing NUL, merging classes
    if len(names_of([label])[0]) > MAX_NAME:
        return f"bad label: longer than {MAX_NAME} characters"  # model.json keeps at most that
    return text.strip(), label  # the label exactly as written: "good " and "good" are two classes


def _short(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"


def load_splits(
    path: str | Path,
    *,
    limit: int | None = None,
    test_size: float = 0.25,
    seed: int = 42,
    skip_bad: bool = False,
    text_column: str | None = None,
    label_column: str | None = None,
    class_order: Sequence[str] | None = None,
) -> Splits:
    """A folder with ``train.*`` and ``test.*`` keeps its split; one file is split stratified.

    ``class_order`` names every class in the order views and models keep (default: sorted).

    ``limit`` keeps the first N sentences of each file read (the tutorial uses 2,000). A folder's
    ``dev.*``/``validation.*`` file is allowed and not used (C is chosen by cross-validation).
    """
    path = Path(path)

    def load(file: Path) -> Dataset:
        return load_dataset(file, skip_bad=skip_bad, text_column=text_column, label_column=label_column).head(limit)

    if path.is_dir():
        return given_split(load(_find_split(path, "train")), load(_find_split(path, "test"))).ordered(class_order)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    return split(load(path), test_size=test_size, seed=seed).ordered(class_order)


def given_split(train: Dataset, test: Dataset) -> Splits:
    """A train and a test set given apart (a folder's files, or a script's data), checked as one:
    labels of one type, every test label a class of the train set, at least two classes."""
    train, test = _same_label_type(train, test)
    unknown = sorted(set(test.labels.tolist()) - set(train.labels.tolist()), key=str)
    if unknown:
        raise DataError(
            f"{test.source}: label {unknown[0]!r} does not occur in {train.source}; "
            "a model can only predict the classes it was trained on"
        )
    check_classes(train)
    return Splits(train, test, given=True)


def align_labels(dataset: Dataset, classes: ClassSet, what: str = "the model") -> Dataset:
    """``dataset`` with labels of the same type as ``classes``: each label given as a class's label
    or its shown name (``1`` or ``positive``, as :meth:`ClassSet.find` reads a user's class); any
    other label is an error naming both."""
    pairs = list(zip(classes.labels, classes.names, strict=True))
    known = {name: label for label, name in pairs} | {str(label): label for label, _ in pairs}  # a label wins
    labels = []
    for label in dataset.labels.tolist():
        if str(label) not in known:
            names = ", ".join(repr(name) if name == str(value) else f"{str(value)!r} ({name})" for value, name in pairs)
            raise DataError(f"{dataset.source}: label {label!r} is not one of the classes of {what} ({names})")
        labels.append(known[str(label)])
    return Dataset(dataset.texts, np.asarray(labels, dtype=classes.array.dtype), dataset.source, dataset.skipped)


def _same_label_type(train: Dataset, test: Dataset) -> tuple[Dataset, Dataset]:
    """Integer labels in one file and text in the other are all compared as text."""
    if train.labels.dtype.kind == test.labels.dtype.kind:
        return train, test
    return _as_text(train), _as_text(test)


def _as_text(dataset: Dataset) -> Dataset:
    return Dataset(dataset.texts, dataset.labels.astype(str), dataset.source, dataset.skipped)


def check_classes(dataset: Dataset) -> None:
    """At least two classes to learn from."""
    classes = np.unique(dataset.labels)
    if len(classes) < 2:
        raise DataError(
            f"{dataset.source or 'the training data'}: one class only ({_short(str(classes[0]))!r}); "
            "need at least 2 classes to train"
        )


def min_split_size(n_classes: int, test_size: float) -> int:
    """The fewest sentences a stratified split can hold out one of each class from, on both sides."""
    n = 2 * n_classes
    while math.ceil(test_size * n) < n_classes or n - math.ceil(test_size * n) < n_classes:
        n += 1
    return n


def split(dataset: Dataset, *, test_size: float = 0.25, seed: int = 42) -> Splits:
    """Stratified train/test split with a fixed seed; too few sentences per class is one clear error."""
    from sklearn.model_selection import train_test_split

    check_classes(dataset)
    counts = Counter(dataset.labels.tolist())
    where = dataset.source or "the data"
    label, fewest = min(counts.items(), key=lambda item: item[1])
    if fewest < 2:
        raise DataError(
            f"{where}: class {_short(str(label))!r} has {fewest} sentence; "
            "a train/test split needs at least 2 sentences of each class"
        )
    minimum = min_split_size(len(counts), test_size)
    if len(dataset) < minimum:
        raise DataError(
            f"{where}: {len(dataset)} sentences are too few for a stratified {1 - test_size:.0%}/{test_size:.0%} "
            f"split of {len(counts)} classes; need at least {minimum} (at least 2 of each class)"
        )
    train_idx, test_idx = train_test_split(
        np.arange(len(dataset)), test_size=test_size, random_state=seed, stratify=dataset.labels
    )
    train = replace(dataset.take(np.sort(train_idx)), skipped=dataset.skipped)  # the file's bad rows, said once
    return Splits(train, dataset.take(np.sort(test_idx)), given=False)


def cv_folds(labels: np.ndarray, folds: int, *, remedy: str = "pass a fixed C (--C or --no-cv)") -> int:
    """Stratified folds usable on ``labels``: at most ``folds``, at most the smallest class's size.

    A class with a single sentence cannot be cross-validated: one clear error naming the minimum.
    """
    counts = Counter(np.asarray(labels).tolist())
    label, fewest = min(counts.items(), key=lambda item: item[1])
    if fewest < 2:
        raise DataError(
            f"class {_short(str(label))!r} has {fewest} training sentence; cross-validation needs at least "
            f"2 of each class ({folds} for {folds} folds); add sentences or {remedy}"
        )
    return min(folds, fewest)


def _find_split(folder: Path, name: str) -> Path:
    for suffix in SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: no {name}.tsv, {name}.csv or {name}.jsonl in this folder")


def data_hash(dataset: Dataset) -> str:
    """sha256 over sentences and labels, to record what a model was trained on."""
    digest = hashlib.sha256()
    for text, label in zip(dataset.texts, dataset.labels.tolist(), strict=True):
        digest.update(f"{label}\t{text}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def from_records(
    texts: Iterable[object], labels: Iterable[object], *, source: str = "(in memory)", skip_bad: bool = False
) -> Dataset:
    """Sentences and labels held in memory, checked by the rules a file's rows are checked by
    (empty sentences, text that is not valid UTF-8, empty labels) and with labels made integers
    or strings by the same rule. Values are taken as their text (``str``); None and NaN are empty."""
    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise DataError(f"{source}: {len(texts):,} texts but {len(labels):,} labels")
    rows = (
        (f"{source}: item {number}", {"text": _as_text_value(t), "label": _as_text_value(y)}, "text", "label")
        for number, (t, y) in enumerate(zip(texts, labels, strict=True), start=1)
    )
    return _checked_rows(rows, source, "label", skip_bad)


def _as_text_value(value: object) -> str:
    """A value as the text a file would hold: missing (None, NaN, pandas' NA) is empty, a whole
    float (a pandas integer column that had a gap) is written as its integer."""
    if value is None:
        return ""
    try:
        if value != value:  # NaN of any float type
            return ""
    except TypeError:  # pandas' NA cannot be compared: it is missing
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)
