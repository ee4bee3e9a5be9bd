"""The one class set: order, names and short names, carried from the data through the classifier."""

import numpy as np
import pytest
from bertsent.core.base.errors import DataError
from bertsent.core.data.classes import ClassSet, short_names
from bertsent.core.data.dataset import load_splits
from bertsent.core.models.classifier import SentimentClassifier

SST5 = ["very negative", "negative", "neutral", "positive", "very positive"]


def test_integers_keep_numeric_order_and_strings_sort_without_an_order():
    assert ClassSet.of([10, 2, 1, 2]).labels == (1, 2, 10)
    assert ClassSet.of(["b", "a", "c"]).labels == ("a", "b", "c")
    assert ClassSet.of([1, 0]).names == ["negative", "positive"]  # SST2's convention, exactly 0 and 1
    assert ClassSet.of([0, 1, 2]).names == ["0", "1", "2"]


def test_the_users_order_by_label_or_by_shown_name():
    assert ClassSet.of(np.asarray(SST5[::-1]), SST5).labels == tuple(SST5)
    assert ClassSet.of([0, 1], ["positive", "negative"]).labels == (1, 0)  # shown names work too
    assert ClassSet.of([0, 1], ["1", "0"]).names == ["positive", "negative"]  # each label keeps its name
    assert ClassSet.of([0, 1], ["1", "0"]).labels == (1, 0)


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (["negative", "positive", "neutral"], "'neutral' is not a label"),
        (["negative", "negative", "positive"], "named twice"),
        (["negative"], "leaves out 'positive'"),
    ],
)
def test_a_wrong_order_is_one_clear_error(order, message):
    with pytest.raises(DataError, match=message):
        ClassSet.of(["negative", "positive"], order)


def test_find_tone_and_short_names():
    classes = ClassSet(tuple(SST5))
    assert classes.find("neutral") == "neutral"
    with pytest.raises(DataError, match="no class 'meh'"):
        classes.find("meh")
    assert [classes.tone(i) for i in range(5)] == [0] * 5  # 3+ classes: colour by the class scored
    binary = ClassSet((0, 1))
    assert [binary.tone(0), binary.tone(1)] == [-1, 1]  # the first class red, the second green
    assert classes.short_names() == ["v.neg", "neg", "neu", "pos", "v.pos"]
    six = short_names([*SST5, "very very positive"], 4)
    assert len(set(six)) == 6 and all(len(name) <= 4 for name in six)


@pytest.mark.parametrize(
    "labels",
    [np.array([0, 1] * 30), np.array(["bad", "good", "so so"] * 20), np.array(SST5 * 12)],
    ids=["0/1", "3 strings", "5 strings with spaces"],
)
def test_the_classifier_keeps_the_given_order_and_its_columns_follow(labels):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(len(labels), 8)) + np.searchsorted(np.unique(labels), labels)[:, None]
    sorted_fit = SentimentClassifier(C=1.0).fit(X, labels)
    order = tuple(np.unique(labels).tolist()[::-1])
    ordered_fit = SentimentClassifier(C=1.0, classes=order).fit(X, labels)
    assert ordered_fit.classes_.tolist() == list(order)
    # The same model, columns reversed: the class order is bookkeeping, not a different fit.
    np.testing.assert_allclose(ordered_fit.predict_proba(X), sorted_fit.predict_proba(X)[:, ::-1], atol=1e-6)
    assert (ordered_fit.predict(X) == sorted_fit.predict(X)).all()
    restored = SentimentClassifier.from_arrays(ordered_fit.to_arrays())
    assert restored.classes_.tolist() == list(order)
    np.testing.assert_array_equal(restored.predict_proba(X), ordered_fit.predict_proba(X))


def test_a_class_of_the_order_without_training_sentences_is_refused():
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(ValueError, match="'c' has no training sentence"):
        SentimentClassifier(C=1.0, classes=("a", "b", "c")).fit(X, np.array(["a", "b"] * 10))


def test_load_splits_applies_the_order_and_refuses_a_wrong_one_before_any_work(tmp_path):
    rows = "".join(f"sentence {i},{SST5[i % 5]}\n" for i in range(40))
    (tmp_path / "d.csv").write_text("text,label\n" + rows)
    assert load_splits(tmp_path / "d.csv").classes.labels == tuple(sorted(SST5))
    assert load_splits(tmp_path / "d.csv", class_order=SST5).classes.labels == tuple(SST5)
    with pytest.raises(DataError, match="leaves out"):
        load_splits(tmp_path / "d.csv", class_order=SST5[:4])


def test_zero_and_one_keep_their_colours_in_either_order():
    from bertsent.core.models.explain import Prediction, display_axis

    reversed_ = ClassSet((1, 0))
    assert reversed_.names == ["positive", "negative"]
    assert [reversed_.tone(0), reversed_.tone(1)] == [1, -1] and reversed_.axis == ("negative", "positive")
    towards_positive = Prediction("x", 1, "positive", 0.9, [], [], classes=(1, 0), names=("positive", "negative"))
    scored_positive = Prediction(**{**towards_positive.__dict__, "scored": 1})
    assert display_axis(scored_positive) == (1, "negative", "positive")  # green stays towards positive


def test_float_labels_of_a_scikit_learn_caller_stay_floats():
    X = np.random.default_rng(0).normal(size=(40, 4))
    fitted = SentimentClassifier(C=1.0).fit(X, np.array([0.0, 1.0] * 20))
    assert fitted.classes_.dtype.kind == "f" and 0 <= fitted.score(X, np.array([0.0, 1.0] * 20)) <= 1
