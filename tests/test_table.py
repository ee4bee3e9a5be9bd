"""The one table reader: CSV (quoted newlines, BOM, CRLF, ; or ,), TSV, JSONL and plain lines."""

import pytest
from bertsent.core.base.errors import DataError
from bertsent.core.data.table import find_column, open_table


def _read(tmp_path, name, raw: bytes, **kwargs):
    path = tmp_path / name
    path.write_bytes(raw)
    table = open_table(path, **kwargs)
    return table, list(table.rows())


def test_spreadsheet_csv_with_bom_crlf_semicolons_and_a_quoted_newline(tmp_path):
    raw = '\ufeffreview;stars\r\n"good, and\r\nlong";5\r\nbad;1\r\n'.encode()
    table, rows = _read(tmp_path, "x.csv", raw)
    assert table.columns == ("review", "stars") and table.has_header
    assert rows == [(3, {"review": "good, and\r\nlong", "stars": "5"}), (4, {"review": "bad", "stars": "1"})]
    assert find_column(table.columns, None, "text") == "review"


def test_tsv_with_or_without_header_reads_quotes_literally(tmp_path):
    _, rows = _read(tmp_path, "a.tsv", b'sentence\tlabel\n"quoted" start\t1\n')
    assert rows == [(2, {"sentence": '"quoted" start', "label": "1"})]
    table, rows = _read(tmp_path, "b.tsv", b"fine film\t1\n\nbad one\t0\nno tab\n")
    assert table.columns == ("text", "label") and not table.has_header
    assert rows[:2] == [(1, {"text": "fine film", "label": "1"}), (3, {"text": "bad one", "label": "0"})]
    assert rows[2][0] == 4 and rows[2][1].startswith("missing column")


def test_bad_rows_are_reported_and_reading_goes_on(tmp_path):
    _, rows = _read(tmp_path, "c.jsonl", b'{"text": "ok", "label": 2}\n' + b"[" * 100_000 + b'\n\xff\n{"text": "b"}\n')
    assert rows[0] == (1, {"text": "ok", "label": "2"})
    assert rows[1] == (2, "bad JSON: nested too deeply")
    assert rows[2] == (3, "bad encoding: bytes that are not UTF-8")
    assert rows[3] == (4, {"text": "b"})


def test_plain_lines_and_column_errors(tmp_path):
    table, rows = _read(tmp_path, "d.txt", b"one\r\ntwo\n")
    assert table.columns == ("text",) and rows == [(1, {"text": "one"}), (2, {"text": "two"})]
    with pytest.raises(DataError, match=r"no column 'body'; columns found: 'text'"):
        find_column(table.columns, "body", "text")
    with pytest.raises(DataError, match="no label column .*--label-column"):
        find_column(("a", "b"), None, "label")
    with pytest.raises(DataError, match="unsupported file type"):
        open_table(tmp_path / "x.parquet")
