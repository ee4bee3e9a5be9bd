"""Label a whole corpus: every input row comes back with the model's label, in order, resumably.

The input is streamed through the one table reader in *windows* (8,192 rows or 16 MiB of text,
whichever comes first). A window is tokenized, sorted by length into batches, classified, and
written as one numbered part file, renamed into place atomically; a small journal records each
part's row count, the sha256 of the input rows it came from and of its bytes. A run killed at any
moment leaves finished parts and a journal naming only finished parts. Running again re-reads the
input, skips every window whose input digest and part bytes match the journal, and computes the
rest; at the end the parts are concatenated (atomically) into the output and removed. Windows
are cut at the same rows in every run and each window's output depends only on its own rows, so
the result is byte-identical to an uninterrupted run. Nothing is written to the embedding cache.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from bertsent.core.decision import decide
from bertsent.core.errors import Cancelled, DataError
from bertsent.core.files import MIB, atomic_open, atomic_write_text, read_regular, sha256_file
from bertsent.core.table import STDIN, SUFFIX_FORMATS, Row, Table, find_column, open_table

if TYPE_CHECKING:  # scikit-learn (under the model) is slow to import, and `bertsent --help` needs none of it
    from bertsent.core.model import SentimentModel

JOURNAL_FORMAT = 1
WINDOW_ROWS = 8192
WINDOW_CHARS = 16 * 2**20  # bounds memory when rows are long (a scraped page per cell)
DIGITS = 6  # probabilities are written rounded, so the file reads the same wherever it is made
OUTPUT_FORMATS = ("csv", "tsv", "jsonl")


# --- the seam with the model's classes: the one place a probability matrix becomes columns ---


def class_names(model: SentimentModel) -> list[str]:
    """The model's classes as written to the output, in ``classes_`` order."""
    return model.classes.names


@dataclass(frozen=True)
class AddedColumns:
    """The columns labelling adds; a name the input already uses gets a ``predicted_`` prefix."""

    classes: tuple[str, ...]
    label: str
    probability: str
    per_class: tuple[str, ...]  # empty unless every class's probability was asked for
    error: str

    @classmethod
    def make(cls, classes: list[str], all_probabilities: bool, taken: tuple[str, ...]) -> AddedColumns:
        used = set(taken)

        def free(name: str) -> str:
            while name in used:
                name = f"predicted_{name}"
            used.add(name)
            return name

        label, probability = free("label"), free("probability")
        per_class = tuple(free(f"probability_{c}") for c in classes) if all_probabilities else ()
        return cls(tuple(classes), label, probability, per_class, free("error"))

    @property
    def names(self) -> tuple[str, ...]:
        return (self.label, self.probability, *self.per_class, self.error)

    def values(self, proba: np.ndarray) -> list[dict[str, object]]:
        """The added values of each row of ``proba`` (rows are sentences, columns classes)."""
        winners = decide(proba)
        rounded = np.round(proba, DIGITS).tolist()
        out = []
        for winner, row in zip(winners.tolist(), rounded, strict=True):
            values: dict[str, object] = {self.label: self.classes[winner], self.probability: row[winner]}
            values.update(zip(self.per_class, row, strict=False))
            values[self.error] = None
            out.append(values)
        return out

    def failed(self, reason: str) -> dict[str, object]:
        return {**dict.fromkeys(self.names[:-1]), self.error: reason}


# --- writing rows in the output format ---


class RowWriter:
    """Rows as bytes in the output format: CSV/TSV with a header, or JSON lines."""

    def __init__(self, format: str, columns: tuple[str, ...], added: AddedColumns, delimiter: str = ",") -> None:
        self.format = format
        self.columns = columns
        self.added = added
        self.delimiter = "\t" if format == "tsv" else delimiter

    def header(self) -> bytes:
        return self._delimited([[*self.columns, *self.added.names]]) if self.format != "jsonl" else b""

    def rows(self, rows: list[tuple[Row, dict[str, object]]]) -> bytes:
        if self.format == "jsonl":
            lines = []
            for fields, added in rows:
                obj = dict(fields) if isinstance(fields, dict) else {}
                obj.update(added)
                lines.append(json.dumps(obj, ensure_ascii=False) + "\n")
            return "".join(lines).encode("utf-8", "surrogateescape")
        table = []
        for fields, added in rows:
            given = fields if isinstance(fields, dict) else {}
            values = [_cell(given.get(column)) for column in self.columns]
            table.append(values + [_cell(added[name]) for name in self.added.names])
        return self._delimited(table)

    def _delimited(self, table: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        if self.format == "tsv":  # TSV has no quoting: a tab or line break inside a field becomes a space
            table = [[_one_line(v) for v in row] for row in table]
            writer = csv.writer(buffer, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar=None, lineterminator="\n")
        else:
            writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator="\n")
        writer.writerows(table)
        return buffer.getvalue().encode("utf-8", "surrogateescape")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{DIGITS}f}"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _one_line(value: str) -> str:
    return value.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


# --- the journal of finished parts ---


class Journal:
    """``OUTPUT.parts/``: numbered part files and ``journal.json`` naming the finished ones."""

    def __init__(self, folder: Path, settings: dict) -> None:
        self.folder = folder
        self.settings = settings
        self.parts: list[dict] = []
        self.restarted = False
        try:
            saved = json.loads(read_regular(folder / "journal.json", 64 * MIB))
        except (OSError, ValueError):
            saved = None
        if isinstance(saved, dict) and saved.get("settings") == settings and isinstance(saved.get("parts"), list):
            self.parts = saved["parts"]
        elif folder.exists():
            self.restarted = saved is not None  # other settings: what is there cannot be reused
            shutil.rmtree(folder)

    def part_path(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}"

    def finished(self, index: int, input_digest: str) -> dict | None:
        """The journal's entry for window ``index`` if that part is done from the same input rows."""
        if index >= len(self.parts):
            return None
        entry = self.parts[index]
        path = self.part_path(index)
        if entry.get("input") == input_digest and path.is_file() and sha256_file(path) == entry.get("sha256"):
            return entry
        return None

    def add(self, index: int, data: bytes, input_digest: str, rows: int, bad: int) -> None:
        """Write part ``index`` atomically, then record it in the journal (windows are checked one by
        one, so the parts after a recomputed one stay valid when their own rows are unchanged)."""
        with atomic_open(self.part_path(index)) as handle:
            handle.write(data)
        entry = {"rows": rows, "bad": bad, "input": input_digest, "sha256": hashlib.sha256(data).hexdigest()}
        self.parts[index : index + 1] = [entry]
        self._save()

    def truncate(self, count: int) -> None:
        if len(self.parts) > count:
            del self.parts[count:]
            self._save()

    def _save(self) -> None:
        atomic_write_text(
            self.folder / "journal.json", json.dumps({"settings": self.settings, "parts": self.parts}, indent=1)
        )


# --- the run ---


@dataclass(frozen=True)
class LabelProgress:
    done: int  # rows finished, resumed ones included
    total: int | None  # estimated from the input's line count; None for stdin
    resumed: int
    bad: int
    elapsed: float
    rate: float  # rows labelled per second in this run (resumed rows excluded)

    @property
    def eta(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(self.total - self.done, 0) / self.rate


@dataclass(frozen=True)
class LabelResult:
    output: Path
    format: str
    rows: int
    bad: int
    resumed: int  # rows taken from an interrupted run's parts
    seconds: float
    restarted: bool  # an interrupted run with other settings was found and discarded
    first_errors: tuple[str, ...]  # "line N: reason" of the first few bad rows


@dataclass(frozen=True)
class Window:
    rows: list[tuple[int, Row]]
    digest: str


def output_format(out: str | Path, explicit: str | None, table: Table) -> str:
    """``explicit``, else the output's suffix, else the input's format (plain lines become JSONL)."""
    if explicit:
        if explicit not in OUTPUT_FORMATS:
            raise DataError(f"unknown output format {explicit!r}; use one of {', '.join(OUTPUT_FORMATS)}")
        return explicit
    by_suffix = SUFFIX_FORMATS.get(Path(out).suffix.lower())
    if by_suffix in OUTPUT_FORMATS:
        return by_suffix
    return table.format if table.format in OUTPUT_FORMATS else "jsonl"


def label_file(
    model: SentimentModel,
    source: str | Path,
    out: str | Path,
    *,
    text_column: str | None = None,
    format: str | None = None,
    input_format: str | None = None,
    all_probabilities: bool = False,
    model_id: str = "",
    window_rows: int = WINDOW_ROWS,
    window_chars: int = WINDOW_CHARS,
    progress: Callable[[LabelProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> LabelResult:
    """Label every row of ``source`` into ``out``; resumes an interrupted run with the same settings.

    ``model_id`` identifies the model for the journal (the sha256 of its ``model.json``): parts
    made by another model are never reused.
    """
    start = time.perf_counter()
    source, out = str(source), Path(out)
    plan = make_plan(model, source, out, text_column, format, input_format, all_probabilities)
    table, text, fmt, added, writer = plan.table, plan.text_column, plan.format, plan.added, plan.writer
    settings = {
        "journal": JOURNAL_FORMAT,
        "input": source if source == STDIN else str(Path(source).resolve()),
        "model": model_id,
        "fingerprint": model.encoder.fingerprint,
        "precision": model.encoder.precision,
        "text_column": text,
        "format": fmt,
        "columns": list(writer.columns) + list(added.names),
        "window": [window_rows, window_chars],
    }
    journal = Journal(Path(f"{out}.parts"), settings)
    total = None if source == STDIN else _count_rows(source, table)
    done = resumed = bad = labelled = 0
    errors: list[str] = []

    def report() -> None:
        if progress:
            elapsed = time.perf_counter() - start
            progress(LabelProgress(done, total, resumed, bad, elapsed, labelled / elapsed if elapsed > 0 else 0.0))

    report()
    count = 0
    for window in _windows(table.rows(typed=True), window_rows, window_chars):
        rows = len(window.rows)
        entry = journal.finished(count, window.digest)
        if entry is None:

            def batch_done(n: int) -> None:
                nonlocal done, labelled
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"labelling cancelled after {done:,} rows; run the same command again to resume")
                done, labelled = done + n, labelled + n
                report()

            data, window_bad, window_errors = _label_window(model, window.rows, text, added, writer, batch_done)
            journal.add(count, data, window.digest, rows, window_bad)
            errors.extend(window_errors[: max(0, 5 - len(errors))])
            done += window_bad  # good rows were counted batch by batch
            labelled += window_bad
        else:
            window_bad = int(entry["bad"])
            resumed += rows
            done += rows
        bad += window_bad
        count += 1
        report()
    journal.truncate(count)
    with atomic_open(out) as handle:
        handle.write(writer.header())
        for part in range(count):
            with open(journal.part_path(part), "rb") as piece:
                shutil.copyfileobj(piece, handle, 1 << 20)
    shutil.rmtree(journal.folder, ignore_errors=True)
    return LabelResult(out, fmt, done, bad, resumed, time.perf_counter() - start, journal.restarted, tuple(errors))


@dataclass(frozen=True)
class Plan:
    """What a labelling run reads and writes, shared by the local and the Ray engine."""

    table: Table
    text_column: str
    format: str
    added: AddedColumns
    writer: RowWriter


def make_plan(
    model: SentimentModel,
    source: str,
    out: Path,
    text_column: str | None,
    format: str | None,
    input_format: str | None,
    all_probabilities: bool,
) -> Plan:
    if source != STDIN and Path(source).resolve() == out.resolve():
        raise DataError(f"{out}: the output would replace the input; choose another --out")
    table = open_table(source, format=input_format, known_columns=(text_column,) if text_column else ())
    text = find_column(table.columns, text_column, "text", table.source)
    fmt = output_format(out, format, table)
    added = AddedColumns.make(class_names(model), all_probabilities, table.columns)
    return Plan(table, text, fmt, added, RowWriter(fmt, table.columns, added, table.delimiter))


def _windows(rows: Iterator[tuple[int, Row]], max_rows: int, max_chars: int) -> Iterator[Window]:
    """Consecutive runs of rows, cut where ``max_rows`` or ``max_chars`` is reached: the same cuts
    for the same input in every run. Each carries the sha256 of its rows."""
    batch: list[tuple[int, Row]] = []
    digest = hashlib.sha256()
    chars = 0
    for lineno, row in rows:
        blob = json.dumps([lineno, row], ensure_ascii=False)
        digest.update(blob.encode("utf-8", "surrogateescape") + b"\n")
        batch.append((lineno, row))
        chars += len(blob)
        if len(batch) >= max_rows or chars >= max_chars:
            yield Window(batch, digest.hexdigest())
            batch, digest, chars = [], hashlib.sha256(), 0
    if batch:
        yield Window(batch, digest.hexdigest())


def _label_window(
    model: SentimentModel,
    rows: list[tuple[int, Row]],
    text_column: str,
    added: AddedColumns,
    writer: RowWriter,
    progress: Callable[[int], None],
) -> tuple[bytes, int, list[str]]:
    """One window's output bytes, its count of bad rows and their ``line N: reason`` messages."""
    values, errors = label_rows(model, rows, text_column, added, progress)
    data = writer.rows([(row, v) for (_, row), v in zip(rows, values, strict=True)])
    return data, len(errors), errors


def label_rows(
    model: SentimentModel,
    rows: list[tuple[int | None, Row]],
    text_column: str,
    added: AddedColumns,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, object]], list[str]]:
    """The added values of each row (length-sorted batches over all of them), and the bad rows'
    ``line N: reason`` messages. Used by the local engine per window and by each Ray worker per batch."""
    texts: list[str] = []
    values: list[dict[str, object] | None] = []
    errors: list[str] = []
    for lineno, row in rows:
        reason = row if isinstance(row, str) else _text_problem(row.get(text_column), text_column)
        if reason:
            errors.append(f"line {lineno}: {reason}" if lineno else reason)
            values.append(added.failed(errors[-1]))
        else:
            texts.append(row[text_column])
            values.append(None)
    if texts:
        encoder = model.encoder
        ids = encoder.tokenizer(
            texts,
            add_special_tokens=True,
            truncation=True,
            max_length=encoder.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        seen = 0

        def advanced(done: int, _total: int) -> None:
            nonlocal seen
            progress(done - seen)
            seen = done

        labelled = iter(added.values(model.proba_ids(ids, progress=advanced if progress else None)))
        values = [v if v is not None else next(labelled) for v in values]
    return values, errors


def _text_problem(text: object, column: str) -> str | None:
    if text is None:
        return f"no {column!r} field"
    if not isinstance(text, str):
        return f"{column!r} is not text"
    if not text.strip():
        return "empty text"
    return None


def _count_rows(source: str, table: Table) -> int:
    """Rows to expect, from the number of lines (exact unless fields hold line breaks or lines are blank)."""
    lines = 0
    last = b"\n"
    with open(source, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"
    return max(lines - table.has_header, 0)
