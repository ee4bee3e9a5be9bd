"""Read tables of text: CSV, TSV, JSONL or plain lines, streamed row by row.

One reader for training files and for corpora to label, so both accept the same files and find
their columns by the same rule. Rows are streamed (a corpus of millions of lines never sits in
memory); a bad row is reported with its line number instead of stopping the read.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bertsent.core.errors import DataError

FORMATS = ("csv", "tsv", "jsonl", "lines")
SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".txt": "lines"}
# Names people give their columns, most specific first: the first match wins.
TEXT_COLUMN_NAMES = ("text", "sentence", "review", "content")
LABEL_COLUMN_NAMES = ("label", "sentiment", "class", "target")
STDIN = "-"

# A single field may be huge (a scraped page in one cell); the encoder bounds the work per text.
csv.field_size_limit(2**31 - 1)

Row = dict[str, str] | str  # the row's fields by column, or an error "reason: detail"


@dataclass(frozen=True)
class Table:
    """An opened table: its format, its columns (from the header, or positional names) and rows.

    ``rows()`` can be called once: it reads the stream the table was opened on.
    """

    source: str
    format: str
    columns: tuple[str, ...]
    has_header: bool
    _lines: Iterator[str]
    _delimiter: str = ","

    def rows(self) -> Iterator[tuple[int, Row]]:
        """(line number, row) for every non-blank row after the header, in file order."""
        if self.format in ("csv", "tsv"):
            yield from self._delimited_rows()
        elif self.format == "jsonl":
            yield from self._jsonl_rows()
        else:
            yield from self._plain_rows()

    def _delimited_rows(self) -> Iterator[tuple[int, Row]]:
        quoting = csv.QUOTE_NONE if self.format == "tsv" else csv.QUOTE_MINIMAL
        reader = csv.reader(self._lines, delimiter=self._delimiter, quoting=quoting, strict=False)
        width = len(self.columns)
        first = True
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, f"bad {self.format.upper()}: {exc}"
                continue
            if first and self.has_header:
                first = False
                continue
            first = False
            if not any(field.strip() for field in fields):
                continue
            lineno = reader.line_num
            if any(_undecodable(field) for field in fields):
                yield lineno, "bad encoding: bytes that are not UTF-8"
            elif len(fields) < width:
                yield (
                    lineno,
                    f"missing column: expected {width} columns ({', '.join(self.columns)}), found {len(fields)}",
                )
            elif len(fields) > width:
                yield lineno, f"extra columns: expected {width} columns, found {len(fields)}"
            else:
                yield lineno, dict(zip(self.columns, fields, strict=True))

    def _jsonl_rows(self) -> Iterator[tuple[int, Row]]:
        for lineno, line in _numbered(self._lines):
            if not line.strip():
                continue
            if _undecodable(line):
                yield lineno, "bad encoding: bytes that are not UTF-8"
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, f"bad JSON: {exc.msg}"
                continue
            except RecursionError:
                yield lineno, "bad JSON: nested too deeply"
                continue
            if not isinstance(obj, dict):
                yield lineno, "bad JSON: expected an object per line"
                continue
            yield lineno, {str(key): _field(value) for key, value in obj.items()}

    def _plain_rows(self) -> Iterator[tuple[int, Row]]:
        for lineno, line in _numbered(self._lines):
            if not line.strip():
                continue
            if _undecodable(line):
                yield lineno, "bad encoding: bytes that are not UTF-8"
                continue
            yield lineno, {"text": line}


def open_table(path: str | Path, *, format: str | None = None, known_columns: Sequence[str] = ()) -> Table:
    """Open ``path`` (``-`` is stdin) and read just enough to know its format and columns.

    ``format`` defaults to the suffix (plain lines for stdin and unknown suffixes). A CSV or TSV
    file has a header when its first row names a known text or label column, or one of
    ``known_columns``; without one, its columns are ``text`` and ``label`` (or ``text`` alone).
    """
    source = str(path)
    if format is None:
        format = "lines" if source == STDIN else SUFFIX_FORMATS.get(Path(source).suffix.lower())
        if format is None:
            raise DataError(
                f"{source}: unsupported file type {Path(source).suffix or '(none)'!r}; use .csv, .tsv, .jsonl or .txt"
            )
    if format not in FORMATS:
        raise DataError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    first, lines = _peek(_open_text(source))
    if format == "lines":
        return Table(source, format, ("text",), False, lines)
    if format == "jsonl":
        return Table(source, format, _jsonl_columns(first), False, lines)
    return _delimited_table(source, format, lines, first, known_columns)


def find_column(columns: Sequence[str], wanted: str | None, kind: str, source: str = "") -> str:
    """The column holding ``kind`` ("text" or "label"): the one named ``wanted``, else a common name.

    Names match case-insensitively; a miss is one line listing the columns found.
    """
    names = TEXT_COLUMN_NAMES if kind == "text" else LABEL_COLUMN_NAMES
    lowered = {column.strip().lower(): column for column in columns}
    for candidate in [wanted] if wanted else names:
        if candidate.strip().lower() in lowered:
            return lowered[candidate.strip().lower()]
    found = ", ".join(repr(column) for column in columns) or "none"
    where = f"{source}: " if source else ""
    if wanted:
        raise DataError(f"{where}no column {wanted!r}; columns found: {found}")
    option = "--text-column" if kind == "text" else "--label-column"
    raise DataError(f"{where}no {kind} column (looked for {', '.join(names)}); columns found: {found}; use {option}")


def _open_text(source: str) -> IO[str]:
    """UTF-8 text with a BOM dropped; undecodable bytes survive as surrogates, so one bad row
    is reported as such instead of ending the read. ``newline=""`` lets the CSV parser see
    line breaks inside quoted fields."""
    try:
        binary = sys.stdin.buffer if source == STDIN else open(source, "rb")  # noqa: SIM115 (closed with the stream)
    except IsADirectoryError:
        raise DataError(f"{source}: is a folder, not a file") from None
    except OSError as exc:
        raise DataError(f"{source}: cannot read: {exc.strerror or exc}") from None
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _peek(stream: IO[str]) -> tuple[str, Iterator[str]]:
    """The first non-blank line, and every line (that one included) still to be read."""
    peeked: list[str] = []
    for line in stream:
        peeked.append(line)
        if line.strip():
            break
    return (peeked[-1] if peeked else ""), itertools.chain(peeked, stream)


def _delimited_table(source: str, format: str, lines: Iterator[str], first: str, known: Sequence[str]) -> Table:
    delimiter = "\t" if format == "tsv" else _sniff_delimiter(first)
    quoting = csv.QUOTE_NONE if format == "tsv" else csv.QUOTE_MINIMAL
    try:
        header = next(csv.reader([first], delimiter=delimiter, quoting=quoting), [])
    except csv.Error:
        header = []
    names = {name.lower() for name in (*TEXT_COLUMN_NAMES, *LABEL_COLUMN_NAMES, *known)}
    has_header = any(field.strip().lower() in names for field in header)
    if has_header:
        columns = tuple(field.strip() for field in header)
        if len(set(columns)) != len(columns):
            raise DataError(f"{source}: the header names a column twice: {', '.join(columns)}")
    else:
        columns = ("text",) if len(header) == 1 else ("text", "label")
    return Table(source, format, columns, has_header, lines, delimiter)


def _sniff_delimiter(line: str) -> str:
    """``,`` or ``;`` (spreadsheets in many locales export ``;``): the one the first line uses more."""
    return ";" if line.count(";") > line.count(",") else ","


def _jsonl_columns(first: str) -> tuple[str, ...]:
    """The keys of the first object, so callers can find their columns by the same rule."""
    try:
        obj = json.loads(first)
    except (json.JSONDecodeError, RecursionError):
        return ()
    return tuple(str(key) for key in obj) if isinstance(obj, dict) else ()


def _numbered(lines: Iterator[str]) -> Iterator[tuple[int, str]]:
    for lineno, line in enumerate(lines, start=1):
        yield lineno, line.rstrip("\r\n")


def _undecodable(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _field(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
