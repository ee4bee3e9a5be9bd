"""The script API's data from memory: lists, tables (duck-typed), and a test split in any form."""

import numpy as np
import pytest
from bertsent.core.api import load_data
from bertsent.core.base.errors import DataError

TEXTS = [f"sentence number {i}" for i in range(40)]


class Missing:
    """Like pandas' NA: comparing it raises."""

    def __ne__(self, other):
        raise TypeError("boolean value of NA is ambiguous")

    def __eq__(self, other):
        raise TypeError("boolean value of NA is ambiguous")

    __hash__ = object.__hash__


def test_lists_and_tables_give_the_same_splits():
    labels = ["good", "bad"] * 20
    from_lists = load_data(TEXTS, labels)
    from_table = load_data({"review": TEXTS, "sentiment": labels})
    assert from_lists.train.texts == from_table.train.texts and from_lists.classes.labels == ("bad", "good")
    assert load_data(TEXTS, labels, classes=["good", "bad"]).classes.labels == ("good", "bad")


def test_missing_values_are_bad_rows_and_whole_floats_are_integers():
    labels = [0.0, 1.0] * 20
    texts = [*TEXTS[:-2], None, float("nan")]
    splits = load_data({"text": texts, "label": labels[:-1] + [Missing()]}, skip_bad=True)
    assert splits.classes.labels == (0, 1) and splits.classes.names == ["negative", "positive"]
    assert sum(splits.train.skipped.values()) == 2
    with pytest.raises(DataError, match="item 39: empty sentence"):
        load_data(texts, labels)


def test_a_test_split_as_a_path_or_as_lists_is_checked_like_a_folder(tmp_path):
    labels = [0, 1] * 20
    (tmp_path / "test.csv").write_text("text,label\na fine film,1\na dull film,0\n")
    assert len(load_data(TEXTS, labels, test=tmp_path / "test.csv").test) == 2
    with pytest.raises(DataError, match="label 2 does not occur"):
        load_data(TEXTS, labels, test=(["x", "y"], [0, 2]))
    with pytest.raises(DataError, match="40 texts but 39 labels"):
        load_data(TEXTS, labels[:-1])


def test_a_label_longer_than_a_model_keeps_is_a_bad_row():
    labels = ["good", "bad"] * 20
    labels[3] = "x" * 199 + " "  # shown quoted: 202 characters
    splits = load_data(TEXTS, labels, skip_bad=True)
    with pytest.raises(DataError, match="longer than 200 characters"):
        load_data(TEXTS, labels)
    assert np.asarray(splits.classes.labels).tolist() == ["bad", "good"]
