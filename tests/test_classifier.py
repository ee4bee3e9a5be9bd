"""The classifier: cross-validated C, progress, cancel, and its plain-array state."""

import os
import threading

import numpy as np
import pytest
from bertsent.core.base.errors import Cancelled
from bertsent.core.models.classifier import SentimentClassifier


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 100)
    X = rng.normal(size=(200, 8)) + y[:, None] * 0.8
    return X, y


def test_cv_picks_the_best_mean_fold_accuracy_and_reports_progress(blobs):
    X, y = blobs
    steps = []
    model = SentimentClassifier(Cs=(0.001, 0.1, 10.0), folds=4).fit(X, y, progress=lambda d, t: steps.append((d, t)))
    assert model.cv_.folds == 4 and len(model.cv_.scores) == 3
    assert model.C_ == model.cv_.Cs[int(np.argmax(model.cv_.scores))]
    assert [d for d, _ in steps] == list(range(1, 14)) and steps[-1] == (13, 13)
    assert (model.predict(X) == y).mean() > 0.6


def test_cancel_stops_between_fits(blobs):
    X, y = blobs
    cancel = threading.Event()
    fits = []

    def progress(done, total):
        fits.append(done)
        if done == 2:
            cancel.set()

    with pytest.raises(Cancelled):
        SentimentClassifier(folds=3).fit(X, y, progress=progress, cancel=cancel)
    # No fit starts once cancelled; fits already running on other cores (folds run side by side)
    # finish: at most one more here, never the rest of the 27.
    assert fits[:2] == [1, 2] and len(fits) <= 2 + (min(3, os.cpu_count() or 1) - 1)


def test_arrays_round_trip(blobs):
    X, y = blobs
    model = SentimentClassifier(C=1.0).fit(X, y)
    again = SentimentClassifier.from_arrays(model.to_arrays())
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    with pytest.raises(ValueError, match="one class only"):
        SentimentClassifier(C=1.0).fit(X, np.ones(200, dtype=int))


@pytest.mark.parametrize("classes", [2, 5])
def test_a_loaded_classifier_predicts_scikit_learns_probabilities_bit_for_bit(classes):
    """LinearClassifier computes what StandardScaler + LogisticRegression compute, in numpy."""
    from bertsent.core.models.linear import LinearClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(classes)
    X = (rng.normal(size=(300, 40)) * rng.uniform(0.1, 5, size=40)).astype(np.float32)
    y = rng.integers(0, classes, 300)
    X[np.arange(300), y] += 2
    fitted = SentimentClassifier(C=0.3).fit(X, y)
    scaler = StandardScaler().fit(X.astype(np.float64))
    scaler.mean_, scaler.scale_ = fitted.mean_, fitted.scale_
    reference = LogisticRegression().fit(scaler.transform(X.astype(np.float64)), y)
    reference.coef_, reference.intercept_ = fitted.coef_, fitted.intercept_
    new = (rng.normal(size=(500, 40)) * 3).astype(np.float32)
    expected = reference.predict_proba(scaler.transform(new.astype(np.float64)))
    loaded = LinearClassifier.from_arrays(fitted.to_arrays())
    assert np.array_equal(loaded.predict_proba(new), expected) and np.array_equal(fitted.predict_proba(new), expected)
    assert loaded.predict(new).tolist() == fitted.predict(new).tolist()
    with pytest.raises(ValueError, match="expects rows of 40 features"):
        loaded.predict_proba(new[:, :39])


def test_a_two_output_head_is_stored_as_one_row_with_the_same_softmax():
    import numpy as np
    from bertsent.core.models.classifier import SentimentClassifier

    rng = np.random.default_rng(0)
    weight, bias, x = rng.normal(size=(2, 4)), rng.normal(size=2), rng.normal(size=(6, 4))
    logits = x @ weight.T + bias
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    head = SentimentClassifier.from_linear(weight, bias, np.array(["neg", "pos"]))
    assert head.coef_.shape == (1, 4)
    assert np.allclose(head.predict_proba(x), softmax)
    assert head.predict(x).tolist() == np.array(["neg", "pos"])[softmax.argmax(axis=1)].tolist()
    three = SentimentClassifier.from_linear(rng.normal(size=(3, 4)), rng.normal(size=3), np.array([0, 1, 2]))
    assert np.allclose(three.predict_proba(x).sum(axis=1), 1)


def test_cv_curve_does_not_move_with_noise_in_the_last_bits(encoder, sst2_dir):
    """Another CPU model or thread count changes the vectors' last bits; the CV accuracies (a chart
    in the app, and the chosen C) must not follow. scikit-learn's default tolerance failed this."""
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import Embedder

    splits = load_splits(sst2_dir, limit=200)
    X = Embedder(encoder).embed(splits.train.texts)
    curves = set()
    for seed in range(6):
        noise = 1 + 1e-6 * np.random.default_rng(seed).standard_normal(X.shape)
        curves.add(tuple(SentimentClassifier().fit(X * noise.astype(np.float32), splits.train.labels).cv_.scores))
    assert len(curves) == 1


def test_the_c_search_stops_once_two_cs_in_a_row_score_below_the_best():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 60)
    X = np.hstack([rng.normal(size=(120, 2)) + y[:, None], rng.normal(size=(120, 60))])  # noise to overfit
    Cs = tuple(float(c) for c in np.logspace(-4, 2, 13))
    full = SentimentClassifier(Cs=Cs, patience=None).fit(X, y)
    early = SentimentClassifier(Cs=Cs).fit(X, y)
    tried = len(early.cv_.Cs)
    assert tried < len(Cs)  # weak regularization overfits the noise columns: the curve falls
    assert early.cv_.scores == full.cv_.scores[:tried]  # the same fits, only fewer of them
    best = max(early.cv_.scores)
    assert all(s < best for s in early.cv_.scores[-2:])  # it stopped because the last two fell short
    assert not any(all(s < max(full.cv_.scores[:n]) for s in full.cv_.scores[n - 2 : n]) for n in range(2, tried))
    assert early.C_ == full.C_ or max(full.cv_.scores[tried:]) > best


def test_arrays_of_another_float_width_are_checked_without_overflow_warnings():
    """The bounds (1e6) overflow float16: the checks compare in float64."""
    import warnings

    from bertsent.core.models.linear import LinearClassifier

    rng = np.random.default_rng(0)
    arrays = {
        "mean": rng.normal(size=4),
        "scale": np.ones(4),
        "coef": rng.normal(size=(1, 4)).astype(np.float16),
        "intercept": np.zeros(1, dtype=np.float16),
        "classes": np.array([0, 1]),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert LinearClassifier.from_arrays(arrays).predict_proba(rng.normal(size=(3, 4))).shape == (3, 2)
