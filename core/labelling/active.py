"""Choosing what to label next: query strategies over a pool of sentence vectors, the classifier
refitted on the labels so far, its cross-validated accuracy, and the simulation that measures a
strategy against random picks on labelled data.

Own code, a few lines of numpy each, rather than scikit-activeml or small-text: both wrap the
classifier in their own estimator API and pull in dependencies bertsent does not need for four
scoring rules (see docs/guide/active-labelling.md for what was measured).

Strategies (``STRATEGIES``):

- ``least-confidence``: the sentences whose most likely class is least likely;
- ``margin``: the smallest gap between the two most likely classes (the same as least
  confidence for two classes);
- ``diverse``: the sentence nearest the centre of a cluster (k-means on the vectors): of the
  clusters with the fewest labels, the one farthest from those labelled, so the first labels
  cover the pool;
- ``random``;
- ``auto`` (the default): ``diverse`` while any class has fewer than :data:`COLD_START` labels (no model yet),
  then ``margin`` among the pool's clusters (the most uncertain sentence of each of the least
  labelled clusters among the most uncertain candidates): ahead of margin and random on SST2
  (see docs/guide/active-labelling.md);
- ``similar`` is not a strategy but :meth:`Pool.similar`: the nearest neighbours of one sentence.

The model on the labels so far (:func:`fit`): logistic regression with a fixed C on the deepest
layer blocks of the vectors, standardized with the whole pool's statistics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from bertsent.core.base.errors import Cancelled
from bertsent.core.data.classes import ClassSet

if TYPE_CHECKING:  # scikit-learn takes a second to import; `bertsent --help` lists the strategies without it
    from bertsent.core.models.classifier import SentimentClassifier

STRATEGIES = ("auto", "margin", "least-confidence", "diverse", "random")
DEFAULT_STRATEGY = "auto"
# The classifier's C, fixed: the best of 0.001, 0.003 and 0.01 at 100 SST2 labels (see
# docs/guide/active-labelling.md); choosing C by cross-validation would cost a search per label.
# Measured again with the pool's standardization and layers 3-5 (validation protocol below, seeds
# 10-15, lbfgs tolerance 1e-4): 0.001 73.0% / 79.3%, 0.003 74.9% / 79.0%, 0.01 73.9% / 79.0% at
# 100 / 400 labels; C growing or shrinking with the root of the labels: no better.
LABELLED_C = 0.003
# The model on few labels reads the deepest 1/DEEP_PART of the recipe's layer blocks (rounded
# up). Validation protocol (pool: 5,000 SST2 train sentences, scored on the other 1,920; SST-5:
# 6,176 of train, the other 2,368; seeds 10-21), MiniLM layers 0-5, auto at 100 / 400 labels and
# its mean over 50-400: SST2 all six blocks 72.7% / 78.4% / 75.6%, layers 3-5 73.5% / 79.2% /
# 76.5%, layers 4-5 74.5% / 79.0% / 76.8%; SST-5 all six 32.3% / 36.3% / 34.4% (labelled rows'
# standardization), 3-5 32.7% / 37.3% / 35.0%, 4-5 32.9% / 37.8% / 35.2%. The last third won
# both means (by less than the noise over the half); seeds 10-15 also put layers 2-5 below 3-5,
# seeds 10-12 layer 5 alone.
DEEP_PART = 3
# Labels per class before uncertainty sampling starts (auto): as soon as a model exists. Measured
# against 3: the same curve on SST2; on SST-5 (where a rare class kept diverse going) 3 points
# more at 50 and 100 labels, 1 more at 400, 0.6 less at 200.
MIN_PER_CLASS = 2  # labels each class needs before a model is fitted (and cross-validated)
COLD_START = MIN_PER_CLASS
CLUSTERS = 50
PROJECTED = 32  # dimensions the vectors are projected to for clusters and neighbours
CANDIDATES = 20  # auto: candidates per pick, the most uncertain, spread over clusters (measured: 5, 10, 20, 40, 80)


class Pool:
    """The vectors of the sentences to label, with their clusters, a projection for neighbours and
    the columns' means and standard deviations the model standardizes with (computed once: a
    second or two for 10,000 sentences)."""

    def __init__(self, vectors: np.ndarray, *, seed: int = 0) -> None:
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.standard = standardizer(self.vectors)
        self.projected = _project(self.vectors, PROJECTED, seed)
        self.cluster, self.centre_distance, self.centres = _kmeans(
            self.projected, min(CLUSTERS, len(self.vectors)), seed
        )

    def __len__(self) -> int:
        return len(self.vectors)

    def similar(self, index: int, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
        """The ``n`` sentences nearest sentence ``index`` (cosine of the projected vectors), nearest
        first, neither ``index`` itself nor any marked in ``exclude`` (a boolean mask)."""
        unit = self.projected / np.maximum(np.linalg.norm(self.projected, axis=1, keepdims=True), 1e-12)
        similarity = unit @ unit[index]
        similarity[index] = -np.inf
        if exclude is not None:
            similarity[exclude] = -np.inf
        order = np.argsort(-similarity, kind="stable")
        return order[: min(n, int(np.isfinite(similarity).sum()))]


def query(
    strategy: str,
    pool: Pool,
    taken: np.ndarray,
    n: int,
    *,
    proba: np.ndarray | None = None,
    label_counts: Sequence[int] = (),
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The next ``n`` pool indices to label by ``strategy``, best first.

    ``taken`` marks sentences labelled or skipped (a boolean mask), ``proba`` holds the current
    model's class probabilities for the whole pool (None: no model yet, so uncertainty strategies
    fall back to ``diverse``), ``label_counts`` the labels per class so far (auto's cold start).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    free = np.flatnonzero(~taken)
    n = min(n, len(free))
    if n == 0:
        return free
    if strategy == "random":
        return (rng or np.random.default_rng()).choice(free, n, replace=False)
    cold = not label_counts or min(label_counts) < COLD_START
    if strategy == "diverse" or proba is None or (strategy == "auto" and cold):
        return _diverse(pool, taken, free, n)
    if strategy == "least-confidence":
        return free[np.argsort(proba[free].max(axis=1), kind="stable")[:n]]
    order = free[np.argsort(margins(proba[free]), kind="stable")]
    if strategy == "margin":
        return order[:n]
    return _spread(pool, taken, order[: n * CANDIDATES], n)


def margins(proba: np.ndarray) -> np.ndarray:
    """The gap between each row's two most likely classes (0: a coin toss)."""
    top = np.sort(proba, axis=1)
    return top[:, -1] - top[:, -2]


def _diverse(pool: Pool, taken: np.ndarray, free: np.ndarray, n: int) -> np.ndarray:
    """One sentence per cluster (see :func:`_spread` for which cluster next), each the free
    sentence nearest its cluster's centre."""
    by_centre = free[np.argsort(pool.centre_distance[free], kind="stable")]
    return _spread(pool, taken, by_centre, n)


def _spread(pool: Pool, taken: np.ndarray, ranked: np.ndarray, n: int) -> np.ndarray:
    """``n`` of the ``ranked`` indices (best first), the best of one cluster at a time: of the
    clusters with the fewest sentences taken, the one whose centre lies farthest from the centres
    of the clusters taken from (weighted by the root of its size, so a handful of odd sentences
    does not outrank a large group), so that picks cover the pool."""
    clusters = len(pool.centres)
    used = np.bincount(pool.cluster[taken], minlength=clusters).astype(np.int64)
    weight = np.sqrt(np.bincount(pool.cluster, minlength=clusters))
    between = np.sqrt(((pool.centres[:, None, :] - pool.centres[None, :, :]) ** 2).sum(axis=2))
    far = between[:, used > 0].min(axis=1) if used.any() else np.ones(clusters)
    best: dict[int, list[int]] = {}
    for index in ranked.tolist():
        best.setdefault(int(pool.cluster[index]), []).append(index)
    picks: list[int] = []
    while len(picks) < n and best:
        cluster = min(best, key=lambda c: (used[c], -far[c] * weight[c], c))
        picks.append(best[cluster].pop(0))
        used[cluster] += 1
        far = np.minimum(far, between[:, cluster])
        if not best[cluster]:
            del best[cluster]
    return np.asarray(picks, dtype=np.int64)


def _project(vectors: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """The standardized vectors on their top ``dims`` principal directions, found by randomized
    SVD on at most 2,000 rows (a full SVD took 24 s on SST2's 2,688-dim vectors, this well under one)."""
    from sklearn.utils.extmath import randomized_svd

    rng = np.random.default_rng(seed)
    mean, scale = vectors.mean(axis=0), vectors.std(axis=0) + 1e-6
    sample = (vectors[rng.choice(len(vectors), min(len(vectors), 2000), replace=False)] - mean) / scale
    dims = min(dims, *sample.shape)
    _, _, directions = randomized_svd(sample, dims, n_iter=4, random_state=seed)
    return ((vectors - mean) / scale) @ directions.T


def _kmeans(points: np.ndarray, k: int, seed: int, rounds: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point's cluster, its distance to that cluster's centre, and the centres (Lloyd's
    k-means from a k-means++ start)."""
    rng = np.random.default_rng(seed)
    centres = [points[rng.integers(len(points))]]
    nearest = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = nearest.sum()
        choice = rng.choice(len(points), p=nearest / total) if total > 0 else rng.integers(len(points))
        centres.append(points[choice])
        nearest = np.minimum(nearest, ((points - points[choice]) ** 2).sum(axis=1))
    centre = np.asarray(centres)
    for _ in range(rounds):
        distance = (points**2).sum(axis=1)[:, None] - 2 * points @ centre.T + (centre**2).sum(axis=1)[None, :]
        cluster = distance.argmin(axis=1)
        moved = np.asarray([points[cluster == c].mean(axis=0) if (cluster == c).any() else centre[c] for c in range(k)])
        if np.allclose(moved, centre):
            break
        centre = moved
    distance = (points**2).sum(axis=1)[:, None] - 2 * points @ centre.T + (centre**2).sum(axis=1)[None, :]
    cluster = distance.argmin(axis=1)
    return cluster, np.sqrt(np.maximum(distance[np.arange(len(points)), cluster], 0)), centre


# --- the model on the labels so far ---


@dataclass(frozen=True)
class Estimate:
    """Cross-validated accuracy on the labels so far, and its standard error."""

    accuracy: float
    error: float  # binomial standard error of the out-of-fold accuracy
    n: int
    folds: int


@dataclass(frozen=True)
class Fitted:
    """The classifier on ``n`` labels, its probabilities for the whole pool (columns in class order)
    and its cross-validated estimate (None when a class has too few labels for folds)."""

    classifier: SentimentClassifier
    proba: np.ndarray
    estimate: Estimate | None
    n: int


def can_fit(y: np.ndarray, classes: ClassSet) -> bool:
    """Whether every class has at least :data:`MIN_PER_CLASS` labels."""
    counts = np.bincount(classes.indices(y), minlength=len(classes)) if len(y) else np.zeros(len(classes))
    return len(classes) >= 2 and int(counts.min()) >= MIN_PER_CLASS


def fit(
    X: np.ndarray,
    y: np.ndarray,
    classes: ClassSet,
    pool: Pool | None = None,
    *,
    C: float = LABELLED_C,
    layers: int = 1,
    estimate: bool = True,
    cancel: threading.Event | None = None,
) -> Fitted | None:
    """The classifier on labelled vectors ``X`` (labels ``y``), its pool probabilities and the
    cross-validated estimate; None while some class has fewer than :data:`MIN_PER_CLASS` labels.

    ``layers``: how many layer blocks each vector concatenates (the recipe's layer set, layer-major),
    for :func:`deep_columns`. The vectors are standardized with the statistics of ``pool`` (all the
    sentences to label; ``X``'s own without a pool): see :func:`fit_labelled`."""
    if not can_fit(y, classes):
        return None
    mean, scale = pool.standard if pool is not None else standardizer(X)
    columns = deep_columns(X.shape[1], layers)
    classifier = fit_labelled(X, y, classes, C, mean, scale, columns, cancel)
    proba = classifier.predict_proba(pool.vectors) if pool is not None else np.empty((0, len(classes)))
    crossed = cross_validate(X, y, classes, C, mean, scale, columns, cancel) if estimate else None
    return Fitted(classifier, proba, crossed, len(y))


def standardizer(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and standard deviation (1 where a column is constant), in float64.

    The pool's, not the labelled rows': the same accuracy (validation protocol, seeds 10-21, auto
    at 100 / 400 labels: SST2 72.7% / 78.4% both ways) and no scaler fitted per refit."""
    vectors = np.asarray(vectors, dtype=np.float64)
    mean, scale = vectors.mean(axis=0), vectors.std(axis=0)
    return mean, np.where(scale > 0, scale, 1.0)


def deep_columns(dim: int, layers: int) -> slice:
    """The columns of the deepest ``1/DEEP_PART`` of ``layers`` equal layer blocks, rounded up
    (one layer: every column; columns that do not split into ``layers`` blocks: every column)."""
    if layers <= 1 or dim % layers:
        return slice(0, dim)
    keep = -(-layers // DEEP_PART)
    return slice(dim - keep * (dim // layers), dim)


def fit_labelled(
    X: np.ndarray,
    y: np.ndarray,
    classes: ClassSet,
    C: float,
    mean: np.ndarray,
    scale: np.ndarray,
    columns: slice,
    cancel: threading.Event | None = None,
) -> SentimentClassifier:
    """bertsent's recipe for few labels: standardize with the pool's ``mean`` and ``scale``
    (estimated on thousands of sentences rather than on the few labelled), then logistic regression
    with ``C`` on the ``columns`` only. The result is an ordinary full-width
    :class:`SentimentClassifier` whose weights outside ``columns`` are zero, so it predicts and
    explains any vector of the recipe."""
    from bertsent.core.base.regularization import TOL
    from bertsent.core.models.classifier import SentimentClassifier
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    if cancel is not None and cancel.is_set():
        raise Cancelled("refit cancelled")
    Z = (np.asarray(X, dtype=np.float64)[:, columns] - mean[columns]) / scale[columns]
    with threadpool_limits(limits=1):  # the same sums in the same order on any machine (see classifier.py)
        model = LogisticRegression(C=C, max_iter=2000, tol=TOL).fit(Z, classes.indices(y))
    coef = np.zeros((len(model.coef_), len(mean)))
    coef[:, columns] = model.coef_
    arrays = {"mean": mean, "scale": scale, "coef": coef, "intercept": model.intercept_, "classes": classes.array}
    return SentimentClassifier.from_arrays(arrays | {"C": np.asarray([C], dtype=np.float64)})


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    classes: ClassSet,
    C: float,
    mean: np.ndarray,
    scale: np.ndarray,
    columns: slice,
    cancel: threading.Event | None = None,
) -> Estimate:
    """Stratified k-fold (at most 5, at most the smallest class) out-of-fold accuracy of
    :func:`fit_labelled`, with its binomial standard error. Labels chosen by uncertainty are harder
    than the pool's average, so this tends to under-state the accuracy on the pool."""
    from bertsent.core.data.dataset import cv_folds
    from sklearn.model_selection import StratifiedKFold

    folds = cv_folds(y, 5)
    correct = 0
    for train, held_out in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y):
        model = fit_labelled(X[train], y[train], classes, C, mean, scale, columns, cancel)
        correct += int((model.predict(X[held_out]) == y[held_out]).sum())
    accuracy = correct / len(y)
    return Estimate(accuracy, float(np.sqrt(accuracy * (1 - accuracy) / len(y))), len(y), folds)


# --- simulation: a labelled pool as the oracle ---


@dataclass(frozen=True)
class CurvePoint:
    labels: int
    accuracy: float  # mean over seeds
    std: float


@dataclass(frozen=True)
class Simulation:
    """Test accuracy by number of labels, for ``strategy`` and for random picks on the same seeds,
    and with every pool label."""

    strategy: str
    curve: list[CurvePoint]
    random: list[CurvePoint]
    all_labels: float
    seeds: int
    C: float

    def to_dict(self) -> dict:
        def points(curve: list[CurvePoint]) -> list[dict]:
            return [{"labels": p.labels, "accuracy": p.accuracy, "std": p.std} for p in curve]

        return {
            "strategy": self.strategy,
            "curve": points(self.curve),
            "random": points(self.random),
            "all_labels": self.all_labels,
            "seeds": self.seeds,
            "C": self.C,
        }


def simulate(
    pool_vectors: np.ndarray,
    pool_labels: np.ndarray,
    test_vectors: np.ndarray,
    test_labels: np.ndarray,
    classes: ClassSet,
    *,
    strategy: str = DEFAULT_STRATEGY,
    budget: int = 400,
    seeds: int = 3,
    first: int = 10,
    step: int = 10,
    C: float = LABELLED_C,
    layers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> Simulation:
    """Replay the pool's labels as the oracle: ``first`` random labels (seed 0, 1, ...), then
    ``step`` chosen by ``strategy`` per round up to ``budget``, the model (:func:`fit`, vectors of
    ``layers`` layer blocks) scored on the test set after each round; the same for random picks
    from the same first labels. Until every class has :data:`MIN_PER_CLASS` labels no model
    exists: its accuracy counts as the majority class's share of the test set (a model that
    cannot tell the classes apart)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    budget = min(budget, len(pool_labels))
    pool = Pool(pool_vectors)
    rounds = 1 + max(0, -(-(budget - first) // step))
    strategies = [strategy, "random"] if strategy != "random" else ["random"]
    total = rounds * seeds * len(strategies) + 1
    done = 0
    curves: dict[str, list[list[float]]] = {name: [] for name in strategies}
    sizes: list[int] = []
    for seed in range(seeds):
        start = np.random.default_rng(seed).choice(len(pool_labels), min(first, budget), replace=False)
        for name in strategies:
            rng = np.random.default_rng([seed, 1])
            taken = np.zeros(len(pool_labels), dtype=bool)
            taken[start] = True
            accuracy, sizes = [], []
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("simulation cancelled")
                y = pool_labels[taken]
                fitted = fit(pool_vectors[taken], y, classes, pool, C=C, layers=layers, estimate=False)
                if fitted is None:
                    majority = np.bincount(classes.indices(test_labels)).max() / len(test_labels)
                    accuracy.append(float(majority))
                else:
                    accuracy.append(float((fitted.classifier.predict(test_vectors) == test_labels).mean()))
                sizes.append(int(taken.sum()))
                done += 1
                if progress:
                    progress(done, total)
                if taken.sum() >= budget:
                    break
                counts = np.bincount(classes.indices(y), minlength=len(classes)).tolist()
                proba = None if fitted is None else fitted.proba
                picks = query(
                    name, pool, taken, min(step, budget - int(taken.sum())), proba=proba, label_counts=counts, rng=rng
                )
                taken[picks] = True
            curves[name].append(accuracy)
    from bertsent.core.models.classifier import SentimentClassifier

    everything = SentimentClassifier(C=C, classes=classes.labels).fit(pool_vectors, pool_labels)
    all_labels = float((everything.predict(test_vectors) == test_labels).mean())
    if progress:
        progress(total, total)

    def points(runs: list[list[float]]) -> list[CurvePoint]:
        table = np.asarray(runs)
        return [CurvePoint(n, float(m), float(s)) for n, m, s in zip(sizes, table.mean(0), table.std(0), strict=True)]

    random = points(curves["random"])
    return Simulation(strategy, points(curves[strategy]), random, all_labels, seeds, C)
