"""Load and validate labelled sentences (SST2-style .tsv, GLUE .tsv, .csv, .jsonl) and split them."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from bertsent.core import jsonio
from bertsent.core.errors import DataError

SUFFIXES = (".tsv", ".csv", ".jsonl")
LABELS = (0, 1)
LABEL_NAMES = {0: "negative", 1: "positive"}
TEXT_KEYS = ("sentence", "text")


@dataclass(frozen=True)
class Dataset:
    """Sentences with 0/1 labels, in file order."""

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
    """A train and a test set; ``given`` tells whether the test split came with the data."""

    train: Dataset
    test: Dataset
    given: bool


@dataclass(frozen=True)
class Summary:
    """Counts per label and token-length statistics of one dataset."""

    n: int
    per_label: dict[int, int]
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


def summarize(dataset: Dataset, lengths: Sequence[int] | np.ndarray = ()) -> Summary:
    """Summarize ``dataset``; ``lengths`` are its token counts (from ``Encoder.token_lengths``)."""
    counts = Counter(int(label) for label in dataset.labels)
    return Summary(
        n=len(dataset),
        per_label={label: counts.get(label, 0) for label in LABELS},
        duplicates=len(dataset.texts) - len(set(dataset.texts)),
        lengths=np.asarray(lengths, dtype=np.int64),
    )


def load_dataset(path: str | Path, *, skip_bad: bool = False) -> Dataset:
    """Read one file. Bad rows raise DataError naming file and line, or are counted when skipped."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; use .tsv, .csv or .jsonl")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    texts: list[str] = []
    labels: list[int] = []
    skipped: Counter[str] = Counter()
    for lineno, row in _rows(path, raw):
        if isinstance(row, str):
            if not skip_bad:
                raise DataError(f"{path}:{lineno}: {row}")
            skipped[row.split(":")[0]] += 1
            continue
        texts.append(row[0])
        labels.append(row[1])
    if not texts:
        detail = f" ({sum(skipped.values())} bad rows skipped)" if skipped else ""
        raise DataError(f"{path}: no sentences found{detail}")
    return Dataset(texts, np.asarray(labels, dtype=np.int64), str(path), dict(skipped))


def load_splits(
    path: str | Path,
    *,
    limit: int | None = None,
    test_size: float = 0.25,
    seed: int = 42,
    skip_bad: bool = False,
) -> Splits:
    """A folder with ``train.*`` and ``test.*`` keeps its split; one file is split stratified.

    ``limit`` keeps the first N sentences of each file read (the tutorial uses 2,000).
    """
    path = Path(path)
    if path.is_dir():
        train = load_dataset(_find_split(path, "train"), skip_bad=skip_bad).head(limit)
        test = load_dataset(_find_split(path, "test"), skip_bad=skip_bad).head(limit)
        return Splits(train, test, given=True)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    return split(load_dataset(path, skip_bad=skip_bad).head(limit), test_size=test_size, seed=seed)


def split(dataset: Dataset, *, test_size: float = 0.25, seed: int = 42) -> Splits:
    """Stratified train/test split with a fixed seed."""
    from sklearn.model_selection import train_test_split

    counts = Counter(int(label) for label in dataset.labels)
    if len(counts) < 2 or min(counts.values()) < 2:
        raise DataError(f"{dataset.source}: need at least 2 sentences of each label to split, have {dict(counts)}")
    train_idx, test_idx = train_test_split(
        np.arange(len(dataset)), test_size=test_size, random_state=seed, stratify=dataset.labels
    )
    return Splits(dataset.take(np.sort(train_idx)), dataset.take(np.sort(test_idx)), given=False)


def _find_split(folder: Path, name: str) -> Path:
    for suffix in SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: no {name}.tsv, {name}.csv or {name}.jsonl in this folder")


Row = tuple[str, int] | str  # a good row, or an error message "reason: detail"


def _rows(path: Path, raw: bytes) -> Iterator[tuple[int, Row]]:
    suffix = path.suffix.lower()
    lines = list(_decoded_lines(raw))
    if suffix == ".jsonl":
        yield from _jsonl_rows(lines)
    elif suffix == ".csv":
        yield from _csv_rows(lines)
    else:
        yield from _tsv_rows(lines)


class _NotUTF8(str):
    """A line that is not UTF-8, as the reason why: a type of its own, so no real line looks like one."""


def _decoded_lines(raw: bytes) -> Iterator[tuple[int, str]]:
    """(line number, text without line ending); a line that is not UTF-8 becomes a ``_NotUTF8``; blanks dropped."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        try:
            yield lineno, line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, _NotUTF8(f"bad UTF-8 at byte {exc.start + 1}")


def _label(value: object) -> int | str:
    text = str(value).strip()
    if text in ("0", "1"):
        return int(text)
    shown = text if len(text) <= 20 else text[:20] + "…"
    return f"bad label: {shown!r} is not 0 or 1"


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be tokenized, or None: lone surrogates stand for bytes that were not
    UTF-8 (command-line arguments, stdin) or come from a JSON ``\\ud800`` escape."""
    match = _SURROGATE.search(text)
    if match is None:
        return None
    code = ord(match.group())
    what = f"byte 0x{code - 0xDC00:02x}" if code >= 0xDC80 else f"lone surrogate U+{code:04X}"
    return f"not valid UTF-8 text ({what} at character {match.start() + 1})"


_SURROGATE = re.compile("[\ud800-\udfff]")


def _row(text: object, label: object) -> Row:
    if not isinstance(text, str) or not text.strip():
        return "empty sentence: the sentence is empty"
    if problem := text_problem(text):
        return f"bad encoding: {problem}"
    parsed = _label(label)
    if isinstance(parsed, str):
        return parsed
    return text.strip(), parsed


def _is_header(fields: Sequence[str]) -> bool:
    return fields[-1].strip().lower() == "label" and fields[0].strip().lower() in TEXT_KEYS


def _tsv_rows(lines: list[tuple[int, str]]) -> Iterator[tuple[int, Row]]:
    for position, (lineno, line) in enumerate(lines):
        if isinstance(line, _NotUTF8):
            yield lineno, "bad encoding: " + line
            continue
        fields = line.split("\t")
        if position == 0 and len(fields) == 2 and _is_header(fields):
            continue
        if len(fields) == 1:
            yield lineno, "missing tab: expected 'sentence<TAB>label'"
        elif len(fields) > 2:
            yield lineno, f"extra columns: expected 2 tab-separated columns, found {len(fields)}"
        else:
            yield lineno, _row(fields[0], fields[1])


def _csv_rows(lines: list[tuple[int, str]]) -> Iterator[tuple[int, Row]]:
    text_col, label_col = 0, 1
    for position, (lineno, line) in enumerate(lines):
        if isinstance(line, _NotUTF8):
            yield lineno, "bad encoding: " + line
            continue
        try:
            fields = next(csv.reader(io.StringIO(line)))
        except (csv.Error, StopIteration) as exc:
            yield lineno, f"bad CSV: {exc}"
            continue
        lowered = [f.strip().lower() for f in fields]
        if position == 0 and "label" in lowered and any(k in lowered for k in TEXT_KEYS):
            label_col = lowered.index("label")
            text_col = next(lowered.index(k) for k in TEXT_KEYS if k in lowered)
            continue
        if len(fields) <= max(text_col, label_col):
            yield lineno, f"missing column: expected a sentence and a label, found {len(fields)} field(s)"
        else:
            yield lineno, _row(fields[text_col], fields[label_col])


def _jsonl_rows(lines: list[tuple[int, str]]) -> Iterator[tuple[int, Row]]:
    for lineno, line in lines:
        if isinstance(line, _NotUTF8):
            yield lineno, "bad encoding: " + line
            continue
        try:
            obj = jsonio.loads(line)
        except ValueError as exc:  # also nesting too deep for the parser
            yield lineno, f"bad JSON: {getattr(exc, 'msg', exc)}"
            continue
        if not isinstance(obj, dict):
            yield lineno, "bad JSON: expected an object with 'text' (or 'sentence') and 'label'"
            continue
        text = next((obj[k] for k in TEXT_KEYS if k in obj), None)
        if text is None or "label" not in obj:
            yield lineno, "missing field: expected 'text' (or 'sentence') and 'label'"
        else:
            yield lineno, _row(text, obj["label"])


def data_hash(dataset: Dataset) -> str:
    """sha256 over sentences and labels, to record what a model was trained on."""
    digest = hashlib.sha256()
    for text, label in zip(dataset.texts, dataset.labels.tolist(), strict=True):
        digest.update(f"{label}\t{text}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
