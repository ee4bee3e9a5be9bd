"""Data loading, validation with line numbers, and splitting."""

import json

import numpy as np
import pytest
from bertsent.core.base.errors import DataError
from bertsent.core.data.classes import ClassSet
from bertsent.core.data.dataset import load_dataset, load_splits, split, summarize


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
        (b"good\t1\nno tab here\n", "bad.tsv:2: missing column: expected 2 columns (text, label), found 1"),
        (b"good\t1\nbad\t \n", "bad.tsv:2: empty label"),
        (b"good\t\n", "bad.tsv:1: empty label"),
        (b"good\t1\n \t0\n", "bad.tsv:2: empty sentence"),
        (b"good\t1\nfine\t0\textra\n", "bad.tsv:2: extra columns"),
        (b"good\t1\n\xff\xfe bad\t0\n", "bad.tsv:2: bad encoding"),
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
    path = write(tmp_path, "mixed.tsv", b"good\t1\nno tab\nbad\t\nok\t0\n \t7\n")
    data = load_dataset(path, skip_bad=True)
    assert data.texts == ["good", "ok"]
    assert data.skipped == {"missing column": 1, "empty label": 1, "empty sentence": 1}


def test_jsonl_and_csv_errors(tmp_path):
    with pytest.raises(DataError, match=r"b.jsonl:2: bad JSON"):
        load_dataset(write(tmp_path, "b.jsonl", '{"text": "a", "label": 1}\n{oops\n'))
    with pytest.raises(DataError, match=r"c.jsonl:1: missing field"):
        load_dataset(write(tmp_path, "c.jsonl", json.dumps({"comment": "a", "label": 1})))
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
    with pytest.raises(DataError, match="one class only"):
        split(load_dataset(path))


def test_summary(tmp_path):
    data = load_dataset(write(tmp_path, "s.tsv", "a b\t1\nc\t0\na b\t1\n"))
    summary = summarize(data, [4, 3, 4])
    assert summary.per_label == {0: 1, 1: 2}
    assert summary.duplicates == 1
    assert summary.length_stats["max"] == 4 and summary.length_stats["min"] == 3


def test_labels_are_data_strings_or_integers(tmp_path):
    from bertsent.core.data.classes import ClassSet

    words = load_dataset(write(tmp_path, "w.csv", "text,label\ngood,positive\nbad,negative\nmeh,neutral\n"))
    assert words.labels.tolist() == ["positive", "negative", "neutral"]
    assert ClassSet.of(words.labels).names == ["negative", "neutral", "positive"]
    three = load_dataset(write(tmp_path, "n.tsv", "a\t2\nb\t0\nc\t1\n"))
    assert three.labels.dtype == np.int64 and three.labels.tolist() == [2, 0, 1]
    assert ClassSet.of(three.labels).names == ["0", "1", "2"]
    assert ClassSet.of([1, 0, 1]).names == ["negative", "positive"]  # the SST2 convention, for exactly 0 and 1


def test_spreadsheet_csv_with_quoted_newline_semicolons_and_named_columns(tmp_path):
    content = '\ufeffid;Review Text;Stars\r\n1;"first line\r\nsecond; line";5\r\n2;plain;1\r\n'
    path = write(tmp_path, "export.csv", content)
    data = load_dataset(path, text_column="review text", label_column="Stars")
    assert data.texts == ["first line\r\nsecond; line", "plain"] and data.labels.tolist() == [5, 1]
    with pytest.raises(DataError) as error:
        load_dataset(path, text_column="Review Text", label_column="rating")
    assert "no column 'rating'; columns found: 'id', 'Review Text', 'Stars'" in str(error.value)
    with pytest.raises(DataError, match="no text column .* use --text-column"):
        load_dataset(path, label_column="Stars")


def test_wrong_label_column_with_hundreds_of_values_is_refused(tmp_path):
    rows = "".join(f"sentence {i},{i}\n" for i in range(300))
    with pytest.raises(DataError, match="300 distinct values .* more than 100 classes: probably the wrong column"):
        load_dataset(write(tmp_path, "ids.csv", "text,label\n" + rows))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "a\t0\nb\t1\nc\t0\nd\t1\n",
            "4 sentences are too few for a stratified 75%/25% split of 2 classes; need at least 5",
        ),
        ("a\tx\nb\ty\nc\ty\nd\tx\ne\tz\n", "class 'z' has 1 sentence; a train/test split needs at least 2"),
    ],
)
def test_too_few_sentences_per_class_to_split_names_the_minimum(tmp_path, rows, message):
    with pytest.raises(DataError) as error:
        load_splits(write(tmp_path, "small.tsv", rows))
    assert message in str(error.value)


def test_minimum_split_size_really_splits(tmp_path):
    from bertsent.core.data.dataset import min_split_size

    for classes in (2, 3, 5):
        n = min_split_size(classes, 0.25)
        rows = "".join(f"s{i}\t{i % classes}\n" for i in range(n))
        splits = load_splits(write(tmp_path, f"m{classes}.tsv", rows))
        assert set(splits.test.labels.tolist()) == set(range(classes))


def test_too_few_per_class_for_cross_validation(tmp_path):
    from bertsent.core.data.dataset import cv_folds

    assert cv_folds(np.array([0, 0, 0, 1, 1, 1, 1, 1, 1]), 5) == 3
    with pytest.raises(DataError, match="class 'b' has 1 training sentence; cross-validation needs at least 2"):
        cv_folds(np.array(["a", "a", "b"]), 5)


def test_folder_test_labels_must_occur_in_train(tmp_path):
    write(tmp_path, "train.csv", "text,label\na,x\nb,y\n")
    write(tmp_path, "test.csv", "text,label\nc,x\nd,z\n")
    with pytest.raises(DataError, match="label 'z' does not occur in"):
        load_splits(tmp_path)


def test_folder_with_integer_and_text_labels_compares_them_as_text(tmp_path):
    write(tmp_path, "train.csv", "text,label\na,1\nb,other\n")
    write(tmp_path, "test.csv", "text,label\nc,1\n")
    write(tmp_path, "dev.csv", "text,label\nunused,1\n")
    splits = load_splits(tmp_path)
    assert splits.classes.names == ["1", "other"]


def test_align_labels_to_a_models_classes(tmp_path):
    from bertsent.core.data.dataset import align_labels

    data = load_dataset(write(tmp_path, "e.csv", "text,label\na,1\nb,0\n"))
    assert align_labels(data, ClassSet(("0", "1"))).labels.tolist() == ["1", "0"]
    with pytest.raises(DataError, match="label 1 is not one of the classes of the model"):
        align_labels(data, ClassSet(("neg", "pos")))


def test_labels_may_name_a_models_classes_by_their_shown_names(tmp_path):
    from bertsent.core.data.dataset import align_labels

    named = load_dataset(write(tmp_path, "n.csv", "text,label\na,positive\nb,negative\nc,1\n"))
    assert align_labels(named, ClassSet((0, 1))).labels.tolist() == [1, 0, 1]
    with pytest.raises(DataError, match=r"label 'good' is not one of the classes of the model \('0' \(negative\), '1'"):
        align_labels(load_dataset(write(tmp_path, "g.csv", "text,label\na,good\nb,negative\n")), ClassSet((0, 1)))
    five = ClassSet(("very negative", "negative", "neutral", "positive", "very positive"))
    assert align_labels(named, ClassSet(("0", "1", "positive", "negative"))).labels.tolist() == [
        "positive", "negative", "1"
    ]  # fmt: skip
    with pytest.raises(DataError, match="'very negative', 'negative', 'neutral', 'positive', 'very positive'"):
        align_labels(named, five)


def test_sst5_loads_with_five_named_classes(sst5_splits):
    assert len(sst5_splits.train) == 8544 and len(sst5_splits.test) == 2210
    assert sst5_splits.classes.names == ["negative", "neutral", "positive", "very negative", "very positive"]
    assert sum(sst5_splits.train.labels == "very negative") == 1092
