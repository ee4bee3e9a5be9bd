"""Read tables of text: CSV, TSV, JSONL or plain lines, streamed row by row.

One reader for training files and for corpora to label, so both accept the same files and find
their columns by the same rule. Rows are streamed (a corpus of millions of lines never sits in
memory); a bad row is reported with its line number instead of stopping the read.
"""

from __future__ import annotations

import collections
import csv
import io
import itertools
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from bertsent.core.base import jsonio
from bertsent.core.base.errors import DataError

FORMATS = ("csv", "tsv", "jsonl", "lines")
SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".txt": "lines"}
# Names people give their columns, most specific first: the first match wins.
TEXT_COLUMN_NAMES = ("text", "sentence", "review", "content")
LABEL_COLUMN_NAMES = ("label", "sentiment", "class", "target")
STDIN = "-"

# A single field may be huge (a scraped page in one cell); the encoder bounds the work per text.
csv.field_size_limit(2**31 - 1)

Row = dict[str, str] | str  # the row's fields by column, or an error "reason: detail"

Quoting = Literal[0, 3]  # csv.QUOTE_MINIMAL (CSV) or csv.QUOTE_NONE (TSV)


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

    @property
    def delimiter(self) -> str:
        return self._delimiter

    def rows(self, *, typed: bool = False) -> Iterator[tuple[int, Row]]:
        """(line number, row) for every non-blank row after the header, in file order.

        ``typed=True`` keeps a JSONL object's values as parsed (lists, null; numbers as
        :class:`jsonio.Number`, their own text) instead of their JSON text, so a copy written back
        out keeps its types and values.
        """
        if self.format in ("csv", "tsv"):
            yield from self._delimited_rows()
        elif self.format == "jsonl":
            yield from self._jsonl_rows(typed)
        else:
            yield from self._plain_rows()

    def _delimited_rows(self) -> Iterator[tuple[int, Row]]:
        quoting: Quoting = csv.QUOTE_NONE if self.format == "tsv" else csv.QUOTE_MINIMAL
        width = len(self.columns)
        header_due = self.has_header
        for lineno, fields in _records(self._lines, self._delimiter, quoting, self.format.upper()):
            if isinstance(fields, str):
                yield lineno, fields
            elif not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line, before the header or anywhere
            elif header_due:
                header_due = False
            elif not any(field.strip() for field in fields):
                yield lineno, f"empty row: all {len(fields)} fields are empty"
            elif any(_undecodable(field) for field in fields):
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

    def _jsonl_rows(self, typed: bool) -> Iterator[tuple[int, Row]]:
        for lineno, line in _numbered(self._lines):
            if not line.strip():
                continue
            if _undecodable(line):
                yield lineno, "bad encoding: bytes that are not UTF-8"
                continue
            try:
                obj = jsonio.loads(line, exact_numbers=typed)
            except ValueError as exc:
                yield lineno, f"bad JSON: {getattr(exc, 'msg', exc)}"
                continue
            if not isinstance(obj, dict):
                yield lineno, "bad JSON: expected an object per line"
                continue
            yield lineno, obj if typed else {str(key): _field(value) for key, value in obj.items()}

    def _plain_rows(self) -> Iterator[tuple[int, Row]]:
        for lineno, line in _numbered(self._lines):
            if not line.strip():
                continue
            if _undecodable(line):
                yield lineno, "bad encoding: bytes that are not UTF-8"
                continue
            yield lineno, {"text": line}


def open_table(
    path: str | Path, *, format: str | None = None, known_columns: Sequence[str] = (), name: str | None = None
) -> Table:
    """Open ``path`` (``-`` is stdin) and read just enough to know its format and columns.

    ``name`` is how messages call the input (default ``path``): a copy of a pipe is named as the pipe.

    ``format`` defaults to the suffix (plain lines for stdin and unknown suffixes). A CSV or TSV
    file has a header when its first row names a known text or label column, or one of
    ``known_columns``, or when ``known_columns`` names any column but ``text``/``label`` (a name
    only a header can give); without one, its columns are ``text`` and ``label`` (or ``text`` alone).
    """
    source = str(path)
    shown = name or source
    if format is None:
        format = "lines" if shown == STDIN else SUFFIX_FORMATS.get(Path(shown).suffix.lower())
        if format is None:
            raise DataError(
                f"{shown}: unsupported file type {Path(shown).suffix or '(none)'!r}; use .csv, .tsv, .jsonl or .txt"
            )
    if format not in FORMATS:
        raise DataError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    first, lines = _peek(_open_text(source, shown))
    if format == "lines":
        return Table(shown, format, ("text",), False, lines)
    if format == "jsonl":
        return Table(shown, format, _jsonl_columns(first), False, lines)
    return _delimited_table(shown, format, lines, first, known_columns)


def find_column(columns: Sequence[str], wanted: str | None, kind: str, source: str = "") -> str:
    """The column holding ``kind`` ("text" or "label"): the one named ``wanted``, else a common name.

    Names match case-insensitively (``wanted`` exactly, first); two columns that match the same
    name (``Text`` and ``text``) are an error naming both; a miss is one line listing the columns found.
    """
    names = TEXT_COLUMN_NAMES if kind == "text" else LABEL_COLUMN_NAMES
    where = f"{source}: " if source else ""
    option = "--text-column" if kind == "text" else "--label-column"
    if wanted and wanted in columns:
        return wanted
    for candidate in [wanted] if wanted else names:
        matches = [column for column in columns if column.strip().lower() == candidate.strip().lower()]
        if len(matches) > 1:
            both = " and ".join(repr(column) for column in matches)
            raise DataError(f"{where}columns {both} both match {candidate!r}; name one exactly with {option}")
        if matches:
            return matches[0]
    found = ", ".join(repr(column) for column in columns) or "none"
    if wanted:
        raise DataError(f"{where}no column {wanted!r}; columns found: {found}")
    raise DataError(f"{where}no {kind} column (looked for {', '.join(names)}); columns found: {found}; use {option}")


def _open_text(source: str, shown: str) -> IO[str]:
    """UTF-8 text with a BOM dropped; undecodable bytes survive as surrogates, so one bad row
    is reported as such instead of ending the read. Lines end at ``\\n`` only (see
    :func:`line_text`), untranslated, so the CSV parser sees line breaks inside quoted fields."""
    try:
        binary = sys.stdin.buffer if source == STDIN else open(source, "rb")  # noqa: SIM115 (closed with the stream)
    except IsADirectoryError:
        raise DataError(f"{shown}: is a folder, not a file") from None
    except OSError as exc:
        raise DataError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="\n")


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
    quoting: Quoting = csv.QUOTE_NONE if format == "tsv" else csv.QUOTE_MINIMAL
    try:
        header = [
            f.replace(_LONE_CR, "\r")
            for f in next(csv.reader([_hide_lone_cr(first)], delimiter=delimiter, quoting=quoting), [])
        ]
    except csv.Error:
        header = []
    names = {name.lower() for name in (*TEXT_COLUMN_NAMES, *LABEL_COLUMN_NAMES, *known)}
    # A column named by the caller (other than the positional text/label) can only be in a header.
    named = any(name.strip().lower() not in ("text", "label") for name in known)
    has_header = named or any(field.strip().lower() in names for field in header)
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
        obj = jsonio.loads(first)
    except ValueError:
        return ()
    return tuple(str(key) for key in obj) if isinstance(obj, dict) else ()


def line_text(line: str) -> str:
    """A line without its end. The one rule for every reader (files, stdin, ``predict``): a line
    ends at ``\\n`` or ``\\r\\n``; any other ``\\r`` is part of the text."""
    if line.endswith("\n"):
        line = line[:-2] if line.endswith("\r\n") else line[:-1]
    return line


def _numbered(lines: Iterator[str]) -> Iterator[tuple[int, str]]:
    for lineno, line in enumerate(lines, start=1):
        yield lineno, line_text(line)


# Stands for a lone \r while the csv module reads a line (it would take it for a line break);
# decoded text never holds it (undecodable bytes become \udc80-\udcff).
_LONE_CR = "\ud800"


def _records(
    lines: Iterator[str], delimiter: str, quoting: Quoting, kind: str
) -> Iterator[tuple[int, list[str] | str]]:
    """Each record's fields with the number of its last line, or an error with its line number.

    A quoted field can span lines; one still open at the end of the input is an error on the
    line where it opened, and the lines after that one are read again as records, so an
    unclosed quote costs one row, not every row after it.
    """
    numbered = enumerate(lines, start=1)
    again: collections.deque[tuple[int, str]] = collections.deque()
    record: list[tuple[int, str]] = []  # the lines the record being read has taken
    ended = False

    def feed() -> Iterator[str]:
        nonlocal ended
        while True:
            item = again.popleft() if again else next(numbered, None)
            if item is None:
                ended = True
                return
            record.append(item)
            yield _hide_lone_cr(item[1])

    while True:
        ended = False
        reader = csv.reader(feed(), delimiter=delimiter, quoting=quoting, strict=False)
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield record[-1][0] if record else 0, f"bad {kind}: {exc}"
                record.clear()
                continue
            if ended:  # only a quoted field reads on past its line: this one never closed
                yield record[0][0], "unclosed quote: a quoted field opens on this line and never closes"
                again.extendleft(reversed(record[1:]))
                record.clear()
                break
            yield record[-1][0], [field.replace(_LONE_CR, "\r") if _LONE_CR in field else field for field in fields]
            record.clear()


def _hide_lone_cr(line: str) -> str:
    if "\r" not in line:
        return line
    body, end = (line[:-2], "\r\n") if line.endswith("\r\n") else (line, "")
    return body.replace("\r", _LONE_CR) + end


def _undecodable(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _field(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
