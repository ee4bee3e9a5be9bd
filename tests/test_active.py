"""Choosing what to label next (core.labelling.active): strategies, the model on few labels, the simulation."""

from __future__ import annotations

import numpy as np
import pytest
from bertsent.core.data.classes import ClassSet
from bertsent.core.labelling import active

LABEL_SETS = {"0/1": [0, 1], "5 strings": ["awful", "bad", "so so", "good", "great"]}


def blobs(labels: list, n: int = 60, dim: int = 16, spread: float = 1.0, seed: int = 0):
    """``n`` points a class around one centre per class (the same centres for every ``seed``),
    and their labels."""
    centres = np.random.default_rng(0).normal(0, 3, (len(labels), dim))
    rng = np.random.default_rng(seed + 1)
    X = np.concatenate([centre + rng.normal(0, spread, (n, dim)) for centre in centres]).astype(np.float32)
    y = np.asarray([label for label in labels for _ in range(n)])
    order = rng.permutation(len(y))
    return X[order], y[order]


@pytest.fixture(params=list(LABEL_SETS), ids=list(LABEL_SETS))
def labels(request) -> list:
    return LABEL_SETS[request.param]


def test_every_strategy_picks_distinct_untaken_sentences(labels):
    X, y = blobs(labels)
    pool = active.Pool(X)
    classes = ClassSet(tuple(labels))
    taken = np.zeros(len(X), dtype=bool)
    taken[:40] = True
    fitted = active.fit(X[taken], y[taken], classes, pool, estimate=False)
    assert fitted is not None and fitted.proba.shape == (len(X), len(labels))
    counts = np.bincount(classes.indices(y[taken]), minlength=len(labels)).tolist()
    for strategy in active.STRATEGIES:
        picks = active.query(
            strategy, pool, taken, 7, proba=fitted.proba, label_counts=counts, rng=np.random.default_rng(0)
        )
        assert len(picks) == 7 and len(set(picks.tolist())) == 7, strategy
        assert not taken[picks].any(), strategy


def test_margin_and_least_confidence_ask_for_the_most_uncertain():
    proba = np.asarray([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0], [0.34, 0.33, 0.33]])
    pool = active.Pool(np.random.default_rng(0).normal(size=(4, 8)))
    taken = np.zeros(4, dtype=bool)
    counts = [5, 5, 5]
    margin = active.query("margin", pool, taken, 4, proba=proba, label_counts=counts)
    least = active.query("least-confidence", pool, taken, 4, proba=proba, label_counts=counts)
    assert margin.tolist() == [2, 3, 1, 0]  # gaps 0, 0.01, 0.05, 0.85
    assert least.tolist() == [3, 1, 2, 0]  # top probabilities 0.34, 0.4, 0.5, 0.9


def test_diverse_covers_the_clusters_before_repeating_one():
    X, y = blobs(list(range(5)), n=40, spread=0.1)
    pool = active.Pool(X)
    picks = active.query("diverse", pool, np.zeros(len(X), dtype=bool), 5)
    assert len(set(y[picks].tolist())) == 5  # one sentence of each well-separated group


def test_auto_starts_diverse_and_turns_to_uncertainty_once_each_class_has_a_few():
    X, y = blobs(list(range(5)), n=40, spread=0.1)
    pool = active.Pool(X)
    taken = np.zeros(len(X), dtype=bool)
    proba = np.full((len(X), 5), 0.2)
    proba[:, 0] += np.linspace(0, 0.5, len(X))  # the lower the index, the more uncertain
    proba /= proba.sum(axis=1, keepdims=True)
    cold = active.query("auto", pool, taken, 3, proba=proba, label_counts=[1, 3, 3, 3, 3])
    assert cold.tolist() == active.query("diverse", pool, taken, 3).tolist()
    warm = active.query("auto", pool, taken, 3, proba=proba, label_counts=[3] * 5)
    assert max(warm) < 3 * active.CANDIDATES  # among the most uncertain candidates...
    assert len(set(pool.cluster[warm].tolist())) == 3  # ...from three clusters


def test_no_model_yet_means_diverse_and_an_empty_pool_means_nothing():
    X, _ = blobs([0, 1], n=10)
    pool = active.Pool(X)
    taken = np.zeros(len(X), dtype=bool)
    assert active.query("margin", pool, taken, 3).tolist() == active.query("diverse", pool, taken, 3).tolist()
    assert active.query("margin", pool, np.ones(len(X), dtype=bool), 3).tolist() == []
    with pytest.raises(ValueError, match="unknown strategy"):
        active.query("cleverest", pool, taken, 3)


def test_similar_finds_the_sentences_of_the_same_group_first():
    X, y = blobs(list(range(4)), n=20, spread=0.1)
    pool = active.Pool(X)
    near = pool.similar(0, 10)
    assert 0 not in near.tolist() and (y[near] == y[0]).all()
    exclude = y == y[0]
    assert not (y[pool.similar(0, 5, exclude=exclude)] == y[0]).any()


def test_no_model_until_each_class_has_two_labels_then_a_cross_validated_estimate(labels):
    X, y = blobs(labels, n=20)
    classes = ClassSet(tuple(labels))
    first = [np.flatnonzero(y == label)[0] for label in labels]
    assert active.fit(X[first], y[first], classes) is None
    some = [i for label in labels for i in np.flatnonzero(y == label)[:6]]
    fitted = active.fit(
        X[some], y[some], classes, active.Pool(X), C=1.0
    )  # C for 16 dimensions, not an encoder's thousands
    assert fitted is not None and fitted.n == len(some)
    estimate = fitted.estimate
    assert estimate.folds == 5 and estimate.n == len(some)
    assert 0.9 <= estimate.accuracy <= 1 and 0 <= estimate.error < 0.1
    assert fitted.classifier.classes_.tolist() == labels  # the user's class order


def test_the_model_on_few_labels_reads_the_deepest_third_of_the_layer_blocks():
    assert active.deep_columns(24, 6) == slice(16, 24)  # layers 4-5 of 0-5
    assert active.deep_columns(28, 7) == slice(16, 28)  # the deepest 3 of 7: a third, rounded up
    assert active.deep_columns(24, 1) == slice(0, 24)  # one layer: all of it
    assert active.deep_columns(25, 6) == slice(0, 25)  # not six equal blocks: every column


def test_only_the_deep_blocks_steer_the_model(labels):
    X, y = blobs(labels, n=30, dim=16)  # the classes differ in every column
    shallow, deep = X.copy(), X.copy()
    shallow[:, 8:] = np.random.default_rng(5).normal(size=(len(X), 8))  # the signal in the first block only
    deep[:, :8] = np.random.default_rng(5).normal(size=(len(X), 8))  # the signal in the second block only
    classes = ClassSet(tuple(labels))
    some = [i for label in labels for i in np.flatnonzero(y == label)[:8]]
    read_deep = active.fit(deep[some], y[some], classes, active.Pool(deep), C=1.0, layers=2, estimate=False)
    read_shallow = active.fit(shallow[some], y[some], classes, active.Pool(shallow), C=1.0, layers=2, estimate=False)
    assert (read_deep.classifier.predict(deep) == y).mean() > 0.9
    assert (read_shallow.classifier.predict(shallow) == y).mean() < 0.6  # blind to the first block
    weights = read_deep.classifier.to_arrays()["coef"]
    assert weights.shape == (1 if len(labels) == 2 else len(labels), 16)  # a full-width classifier...
    assert not weights[:, :8].any() and weights[:, 8:].all()  # ...that weighs the deep block only
    everything = active.fit(shallow[some], y[some], classes, None, C=1.0, layers=1, estimate=False)
    assert (everything.classifier.predict(shallow) == y).mean() > 0.9  # one block: every column read


def test_the_vectors_are_standardized_with_the_pools_statistics():
    X, y = blobs([0, 1], n=40, dim=8)
    classes = ClassSet((0, 1))
    some = [*np.flatnonzero(y == 0)[:3], *np.flatnonzero(y == 1)[:3]]
    fitted = active.fit(X[some], y[some], classes, active.Pool(X), C=1.0, estimate=False)
    arrays = fitted.classifier.to_arrays()
    np.testing.assert_allclose(arrays["mean"], X.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(arrays["scale"], X.astype(np.float64).std(axis=0))
    alone = active.fit(X[some], y[some], classes, C=1.0, estimate=False)  # no pool: the labelled rows'
    np.testing.assert_allclose(alone.classifier.to_arrays()["mean"], X[some].astype(np.float64).mean(axis=0))


def test_simulation_curves_start_from_the_same_labels_and_beat_chance(labels):
    X, y = blobs(labels, n=50, spread=2.5)
    Xt, yt = blobs(labels, n=20, spread=2.5, seed=1)
    ticks = []
    classes = ClassSet(tuple(labels))
    sim = active.simulate(
        X, y, Xt, yt, classes, strategy="margin", budget=50, seeds=2, C=1.0, progress=lambda d, t: ticks.append(d)
    )
    assert [p.labels for p in sim.curve] == [10, 20, 30, 40, 50] == [p.labels for p in sim.random]
    assert sim.curve[-1].accuracy > 1.5 / len(labels) and sim.all_labels > 0.9
    assert ticks[-1] == 2 * 5 * 2 + 1
    as_json = sim.to_dict()
    assert set(as_json) >= {"strategy", "curve", "random", "all_labels"}
    assert set(as_json["curve"][0]) == {"labels", "accuracy", "std"}
