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

import contextlib
import dataclasses
import hashlib
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from bertsent.core.base import jsonio
from bertsent.core.base.decision import decide
from bertsent.core.base.errors import Cancelled, DataError
from bertsent.core.base.files import atomic_open, atomic_write_text, follow_umask, locked, sha256_file
from bertsent.core.base.schema import Anything, Int, List, Map, Obj, Str
from bertsent.core.base.text import sentence_problem
from bertsent.core.data.table import STDIN, SUFFIX_FORMATS, Row, Table, find_column, open_table

if TYPE_CHECKING:  # scikit-learn (under the model) is slow to import, and `bertsent --help` needs none of it
    from bertsent.core.models.model import SentimentModel

JOURNAL_FORMAT = 2  # 2: numbers kept as their text in the rows' digests
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
    """Rows as bytes in the output format: CSV/TSV with a header, or JSON lines.

    Input values come out as they came in: CSV and TSV cells as their text, JSON numbers as their
    own text (:class:`jsonio.Number`), strict JSON. TSV is written without quoting (as bertsent
    reads it): a ``"`` is kept as it is, a tab or line break inside a field becomes a space.
    """

    def __init__(self, format: str, columns: tuple[str, ...], added: AddedColumns, delimiter: str = ",") -> None:
        self.format = format
        self.columns = columns
        self.added = added
        self.delimiter = "\t" if format == "tsv" else delimiter

    def header(self) -> bytes:
        return self._delimited([[*self.columns, *self.added.names]]) if self.format != "jsonl" else b""

    def rows(self, rows: list[tuple[Row, dict[str, object]]]) -> bytes:
        if self.format == "jsonl":
            lines = [jsonio.line({**(fields if isinstance(fields, dict) else {}), **added}) for fields, added in rows]
            return "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape")
        table = []
        for fields, added in rows:
            given = fields if isinstance(fields, dict) else {}
            values = [_cell(given.get(column)) for column in self.columns]
            table.append(values + [_added_cell(added[name]) for name in self.added.names])
        return self._delimited(table)

    def _delimited(self, table: list[list[str]]) -> bytes:
        if self.format == "tsv":
            text = "".join("\t".join(_one_line(value) for value in row) + "\n" for row in table)
        else:
            text = "".join(self.delimiter.join(self._quoted(value) for value in row) + "\n" for row in table)
        return text.encode("utf-8", "surrogateescape")

    def _quoted(self, value: str) -> str:
        """A CSV field, quoted when it holds the delimiter, a quote or any line break (a lone ``\\r`` too)."""
        if self.delimiter in value or '"' in value or "\n" in value or "\r" in value:
            return '"' + value.replace('"', '""') + '"'
        return value


def _cell(value: object) -> str:
    """An input value as a CSV/TSV cell: text as it is, anything else as its JSON text."""
    if value is None:
        return ""
    return value if isinstance(value, str) else jsonio.line(value)


def _added_cell(value: object) -> str:
    return f"{value:.{DIGITS}f}" if isinstance(value, float) else _cell(value)


def _one_line(value: str) -> str:
    return value.replace("\t", " ").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


# --- the parts folder and its journal ---

MARKER = "made-by-bertsent-label"  # in every parts folder bertsent makes: a folder without it is not ours
JOURNAL = "journal.json"
SPOOL = "input"  # a copy of a pipe or stdin, which can be read only once
MAX_JOURNAL_BYTES = 256 * 2**20
# What a run writes in the folder besides the marker (removed last): parts, the journal, the copy
# of a pipe, and atomic_open's temporary files for the first two. Nothing else there is removed.
_OURS = re.compile(r"part-\d{6}|journal\.json|input|\.(part-\d{6}|journal\.json)\..+\.part")
_DIGEST = Str(r"[0-9a-f]{64}")
JOURNAL_SCHEMA = Obj(
    {
        "settings": Map(Str(), Anything(), max_len=100),
        "parts": List(Obj({"rows": Int(0), "bad": Int(0), "input": _DIGEST, "sha256": _DIGEST}), max_len=10**8),
    }
)


def check_destination(source: str, out: Path) -> None:
    """Refuse, before any work, an output that would destroy something: a folder, a file that is
    not a regular file, a file in a model folder, the input itself."""
    from bertsent.core.models.persist import META  # loaded already: labelling needs a model

    if out.is_dir():
        raise DataError(f"{out}: is a folder; choose another --out (a file to write)")
    if out.exists() and not out.is_file():
        raise DataError(f"{out}: is not a regular file; choose another --out")
    if (out.parent / META).is_file():
        raise DataError(f"{out}: is inside the model folder {out.parent}; choose another --out")
    if source != STDIN and (
        Path(source).resolve() == out.resolve() or (out.exists() and Path(source).exists() and out.samefile(source))
    ):
        raise DataError(f"{out}: the output would replace the input; choose another --out")


@contextlib.contextmanager
def parts_folder(folder: Path, out: Path) -> Iterator[Path]:
    """``folder`` made now (with its marker) or left by an earlier run, locked for the whole run.

    A folder without the marker is not ours and is refused, as is one another run holds. Left
    early with no journal in it (nothing to resume), the folder is removed again.
    """
    if not folder.exists() and not folder.is_symlink():
        _make_parts_folder(folder, out)
    if folder.is_symlink() or not folder.is_dir() or not _regular_file(folder / MARKER):
        raise DataError(f"{folder}: exists and was not made by bertsent label; move it away or choose another --out")
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(locked(folder, wait=False))
        except BlockingIOError:
            raise DataError(
                f"{folder}: another 'bertsent label' is writing {out}; wait for it to end or choose another --out"
            ) from None
        try:
            yield folder
        except BaseException:
            if not (folder / JOURNAL).exists():
                remove_parts_folder(folder)
            raise


def _make_parts_folder(folder: Path, out: Path) -> None:
    """Made under a temporary name with its marker, then renamed: it never exists without one."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise DataError(f"{out}: cannot write there: {exc.strerror or exc}; choose another --out") from None
    try:
        follow_umask(staging, directory=True)
        (staging / MARKER).write_text("made by bertsent label; removed when the labelling ends\n", encoding="utf-8")
        os.rename(staging, folder)  # fails if another run made the folder first: that one is checked instead
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if not folder.exists():
            raise DataError(f"{out}: cannot write there: {exc.strerror or exc}; choose another --out") from None


def remove_parts_folder(folder: Path) -> None:
    """Remove what labelling made in ``folder`` (the marker last), then the folder if that empties it."""
    _remove_ours(folder)
    with contextlib.suppress(OSError):
        (folder / MARKER).unlink()
        folder.rmdir()


def _remove_ours(folder: Path, keep: tuple[str, ...] = ()) -> None:
    for entry in os.scandir(folder):
        if entry.name not in keep and _OURS.fullmatch(entry.name) and not entry.is_dir(follow_symlinks=False):
            os.unlink(entry.path)


def _regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


class Journal:
    """``OUTPUT.parts/``: numbered part files and ``journal.json`` naming the finished ones."""

    def __init__(self, folder: Path, settings: dict) -> None:
        self.folder = folder
        self.settings = settings
        self.parts: list[dict] = []
        self.restarted = False
        saved = read_journal(folder)
        if saved is not None and saved["settings"] == settings:
            self.parts = saved["parts"]
        elif saved is not None:  # other settings: what is there cannot be reused
            self.restarted = True
            _remove_ours(folder, keep=(SPOOL,))

    def part_path(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}"

    def finished(self, index: int, input_digest: str) -> dict | None:
        """The journal's entry for window ``index`` if that part is done from the same input rows."""
        if index >= len(self.parts):
            return None
        entry = self.parts[index]
        path = self.part_path(index)
        if entry["input"] == input_digest and _regular_file(path) and sha256_file(path) == entry["sha256"]:
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
        atomic_write_text(self.folder / JOURNAL, jsonio.dumps({"settings": self.settings, "parts": self.parts}))


def read_journal(folder: Path) -> dict | None:
    """The journal in ``folder`` (None when there is none), checked against :data:`JOURNAL_SCHEMA`;
    anything else there is one line naming it and how to start over."""
    path = folder / JOURNAL

    def damaged(reason: str) -> DataError:
        return DataError(f"{path}: damaged ({reason}); delete the folder {folder} to start over")

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise damaged(exc.strerror or str(exc)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_JOURNAL_BYTES:
        os.close(fd)
        too_big = stat.S_ISREG(info.st_mode)
        raise damaged(f"larger than {MAX_JOURNAL_BYTES // 2**20} MiB" if too_big else "not a regular file")
    with open(fd, "rb") as handle:
        try:
            saved = jsonio.loads(handle.read(MAX_JOURNAL_BYTES + 1))
            JOURNAL_SCHEMA.check(saved, JOURNAL)
        except (OSError, ValueError) as exc:
            raise damaged(str(exc)) from None
    for index, part in enumerate(saved["parts"]):
        if part["bad"] > part["rows"]:
            raise damaged(f"part {index} has more bad rows than rows")
    return saved


# --- the run ---


@dataclass(frozen=True)
class LabelProgress:
    done: int  # rows finished, resumed ones included
    total: int | None  # the input's rows (a pipe or stdin is copied first, so it is known too)
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
    check_destination(source, out)
    stream = None if _is_file(source) else _open_stream(source)  # before the folder: a missing input makes none
    folder = Path(f"{out}.parts")
    with parts_folder(folder, out):
        readable = source if stream is None else _spool(stream, source, folder / SPOOL)
        plan = make_plan(model, readable, out, text_column, format, input_format, all_probabilities, name=source)
        table, text, fmt, added, writer = plan.table, plan.text_column, plan.format, plan.added, plan.writer
        settings = {
            "journal": JOURNAL_FORMAT,
            "input": _input_id(source),
            "model": model_id,
            "fingerprint": model.encoder.fingerprint,
            "precision": model.encoder.precision,
            "text_column": text,
            "format": fmt,
            "columns": list(writer.columns) + list(added.names),
            "window": [window_rows, window_chars],
        }
        journal = Journal(folder, settings)
        total = plan.total
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
                        raise Cancelled(
                            f"labelling cancelled after {done:,} rows; run the same command again to resume"
                        )
                    done, labelled = done + n, labelled + n
                    report()

                data, window_bad, window_errors = _label_window(model, window.rows, text, added, writer, batch_done)
                with _writing(journal.part_path(count), folder):
                    journal.add(count, data, window.digest, rows, window_bad)
                errors.extend(window_errors[: max(0, 5 - len(errors))])
                done += window_bad  # good rows were counted batch by batch
                labelled += window_bad
            else:
                window_bad = entry["bad"]
                resumed += rows
                done += rows
            bad += window_bad
            count += 1
            report()
        with _writing(folder / JOURNAL, folder):
            journal.truncate(count)
        with _writing(out, folder):
            _join(out, writer.header(), [journal.part_path(part) for part in range(count)])
        remove_parts_folder(folder)
    return LabelResult(out, fmt, done, bad, resumed, time.perf_counter() - start, journal.restarted, tuple(errors))


def _join(out: Path, header: bytes, parts: list[Path]) -> None:
    with atomic_open(out) as handle:
        handle.write(header)
        for part in parts:
            with open(part, "rb") as piece:
                shutil.copyfileobj(piece, handle, 1 << 20)


@contextlib.contextmanager
def _writing(path: Path, folder: Path) -> Iterator[None]:
    """A full disk (or another failure) writing ``path`` is one line naming it and how to go on."""
    try:
        yield
    except OSError as exc:
        raise DataError(
            f"{path}: cannot write: {exc.strerror or exc}; finished parts are kept in {folder}, "
            "run the same command again to resume"
        ) from None


def _is_file(source: str) -> bool:
    """A regular file, which can be read more than once (a pipe, ``/dev/stdin`` on a pipe or ``-`` cannot)."""
    return source != STDIN and os.path.isfile(source)


def _input_id(source: str) -> str:
    """How the journal names the input: a file by its real path; a pipe by the name it was given
    (``/dev/fd/63`` resolves to a new ``pipe:[N]`` every run)."""
    if source == STDIN:
        return source
    return str(Path(source).resolve()) if _is_file(source) else os.path.abspath(source)


def _open_stream(source: str) -> BinaryIO:
    if source == STDIN:
        return sys.stdin.buffer
    try:
        return open(source, "rb")  # noqa: SIM115 (closed by _spool)
    except IsADirectoryError:
        raise DataError(f"{source}: is a folder, not a file") from None
    except OSError as exc:
        raise DataError(f"{source}: cannot read: {exc.strerror or exc}") from None


def _spool(stream: BinaryIO, source: str, copy: Path) -> str:
    """Copy a stream into ``copy`` in our parts folder, read once: the rows are then counted and read
    from the copy, and a rerun fed the same stream resumes like one on a file."""
    try:
        with open(copy, "wb") as handle:
            shutil.copyfileobj(stream, handle, 1 << 20)
    except OSError as exc:
        raise DataError(f"{source}: cannot copy it into {copy}: {exc.strerror or exc}") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return str(copy)


@dataclass(frozen=True)
class Plan:
    """What a labelling run reads and writes, shared by the local and the Ray engine."""

    table: Table
    text_column: str
    format: str
    added: AddedColumns
    writer: RowWriter
    total: int | None = None  # rows in the input, when it is a file (read once more to count them)


def make_plan(
    model: SentimentModel,
    source: str,
    out: Path,
    text_column: str | None,
    format: str | None,
    input_format: str | None,
    all_probabilities: bool,
    *,
    name: str | None = None,
) -> Plan:
    """The columns read and written. A file input is read through once first: its rows are counted
    (the progress total) and a JSONL input's columns are every key of every object, in order of first
    appearance, so the added columns' names (``predicted_`` before a name in use) avoid every key."""
    if source != STDIN and Path(source).resolve() == out.resolve():
        raise DataError(f"{out}: the output would replace the input; choose another --out")
    known = (text_column,) if text_column else ()
    table = open_table(source, format=input_format, known_columns=known, name=name)
    total = None
    if _is_file(source):
        total, keys = 0, {}
        for _, row in open_table(source, format=table.format, known_columns=known, name=name).rows(typed=True):
            total += 1
            if table.format == "jsonl" and isinstance(row, dict):
                keys.update(dict.fromkeys(row))
        if table.format == "jsonl":
            table = dataclasses.replace(table, columns=tuple(keys))
    text = find_column(table.columns, text_column, "text", table.source)
    fmt = output_format(out, format, table)
    added = AddedColumns.make(class_names(model), all_probabilities, table.columns)
    return Plan(table, text, fmt, added, RowWriter(fmt, table.columns, added, table.delimiter), total)


def _windows(rows: Iterator[tuple[int, Row]], max_rows: int, max_chars: int) -> Iterator[Window]:
    """Consecutive runs of rows, cut where ``max_rows`` or ``max_chars`` is reached: the same cuts
    for the same input in every run. Each carries the sha256 of its rows."""
    batch: list[tuple[int, Row]] = []
    digest = hashlib.sha256()
    chars = 0
    for lineno, row in rows:
        blob = jsonio.line([lineno, row])
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
    rows: Sequence[tuple[int | None, Row]],
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
        reason = row if isinstance(row, str) else _text_problem(row, text_column)
        if reason or isinstance(row, str):
            errors.append(f"line {lineno}: {reason}" if lineno else str(reason))
            values.append(added.failed(errors[-1]))
        else:
            texts.append(row[text_column])
            values.append(None)
    if not texts:
        return [v for v in values if v is not None], errors  # every row failed: no None left
    ids, _ = model.encoder.encode_ids(texts)  # the encoder's one path: bounded on huge rows
    seen = 0

    def advanced(done: int, _total: int) -> None:
        nonlocal seen
        if progress is not None:
            progress(done - seen)
        seen = done

    labelled = iter(added.values(model.proba_ids(ids, progress=advanced)))
    return [v if v is not None else next(labelled) for v in values], errors


def _text_problem(row: Mapping[str, object], column: str) -> str | None:
    """Why the row's text cannot be labelled: its column is missing, or :func:`sentence_problem`."""
    return f"no {column!r} field" if column not in row else sentence_problem(row[column])
