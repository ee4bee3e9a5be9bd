"""Data loading, validation with line numbers, and splitting."""

import json

import numpy as np
import pytest
from bertsent.core.data import load_dataset, load_splits, split, summarize
from bertsent.core.errors import DataError


def write(tmp_path, name, content: bytes | str):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_sst2_files_load_with_their_counts(sst2_dir):
    splits = load_splits(sst2_dir)
    assert splits.given
    assert len(splits.train) == 6920 and len(splits.test) == 1821
    assert np.bincount(splits.train.labels).tolist() == [3310, 3610]
    assert np.bincount(splits.test.labels).tolist() == [912, 909]
    assert splits.train.texts[0].startswith("a stirring , funny and finally transporting")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("plain.tsv", "good film\t1\nbad film\t0\n"),
        ("glue.tsv", "sentence\tlabel\ngood film\t1\nbad film\t0\n"),
        ("data.csv", 'text,label\n"good, film",1\nbad film,0\n'),
        ("rev.csv", "label,sentence\n1,good film\n0,bad film\n"),
        ("data.jsonl", '{"text": "good film", "label": 1}\n{"sentence": "bad film", "label": "0"}\n'),
        ("crlf.tsv", "\ufeffgood film\t1\r\n\r\nbad film\t0\r\n"),
    ],
)
def test_formats(tmp_path, name, content):
    data = load_dataset(write(tmp_path, name, content))
    assert data.labels.tolist() == [1, 0]
    assert data.texts[0] in ("good film", "good, film") and data.texts[1] == "bad film"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"good\t1\nno tab here\n", "bad.tsv:2: missing tab"),
        (b"good\t1\nbad\tpos\n", "bad.tsv:2: bad label: 'pos' is not 0 or 1"),
        (b"good\t2\n", "bad.tsv:1: bad label: '2'"),
        (b"good\t-1\n", "bad.tsv:1: bad label: '-1'"),
        (b"good\t\n", "bad.tsv:1: bad label: ''"),
        (b"good\t1\n \t0\n", "bad.tsv:2: empty sentence"),
        (b"good\t1\nfine\t0\textra\n", "bad.tsv:2: extra columns"),
        (b"good\t1\n\xff\xfe bad\t0\n", "bad.tsv:2: bad encoding: bad UTF-8 at byte 1"),
        (b"", "bad.tsv: no sentences found"),
        (b"sentence\tlabel\n", "bad.tsv: no sentences found"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, content, message):
    with pytest.raises(DataError) as error:
        load_dataset(write(tmp_path, "bad.tsv", content))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_skip_bad_counts_reasons(tmp_path):
    path = write(tmp_path, "mixed.tsv", b"good\t1\nno tab\nbad\tpos\nok\t0\nx\t7\n")
    data = load_dataset(path, skip_bad=True)
    assert data.texts == ["good", "ok"]
    assert data.skipped == {"missing tab": 1, "bad label": 2}


def test_jsonl_and_csv_errors(tmp_path):
    with pytest.raises(DataError, match=r"b.jsonl:2: bad JSON"):
        load_dataset(write(tmp_path, "b.jsonl", '{"text": "a", "label": 1}\n{oops\n'))
    with pytest.raises(DataError, match=r"c.jsonl:1: missing field"):
        load_dataset(write(tmp_path, "c.jsonl", json.dumps({"review": "a", "label": 1})))
    with pytest.raises(DataError, match=r"d.csv:2: missing column"):
        load_dataset(write(tmp_path, "d.csv", "text,label\nonly one field\n"))
    with pytest.raises(DataError, match="unsupported file type"):
        load_dataset(write(tmp_path, "e.txt", "a\t1\n"))


def test_missing_path_and_folder_without_splits(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        load_splits(tmp_path / "nope.tsv")
    with pytest.raises(DataError, match="no train.tsv"):
        load_splits(tmp_path)


def test_single_file_gets_a_stratified_seeded_split(tmp_path):
    rows = "".join(f"sentence {i}\t{i % 2}\n" for i in range(200))
    path = write(tmp_path, "all.tsv", rows)
    first, second = load_splits(path), load_splits(path)
    assert not first.given
    assert len(first.test) == 50 and len(first.train) == 150
    assert np.bincount(first.test.labels).tolist() == [25, 25]
    assert first.test.texts == second.test.texts
    assert not set(first.train.texts) & set(first.test.texts)


def test_limit_takes_the_first_sentences(sst2_dir):
    splits = load_splits(sst2_dir, limit=100)
    full = load_splits(sst2_dir)
    assert splits.train.texts == full.train.texts[:100] and splits.test.texts == full.test.texts[:100]


def test_one_class_cannot_be_split(tmp_path):
    path = write(tmp_path, "one.tsv", "".join(f"s{i}\t1\n" for i in range(10)))
    with pytest.raises(DataError, match="at least 2 sentences of each label"):
        split(load_dataset(path))


def test_summary(tmp_path):
    data = load_dataset(write(tmp_path, "s.tsv", "a b\t1\nc\t0\na b\t1\n"))
    summary = summarize(data, [4, 3, 4])
    assert summary.per_label == {0: 1, 1: 2}
    assert summary.duplicates == 1
    assert summary.length_stats["max"] == 4 and summary.length_stats["min"] == 3
