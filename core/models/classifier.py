"""Logistic regression on sentence embeddings, a scikit-learn estimator, with optional CV over C.

Two or more classes: ``classes_`` (the labels as given, in the order of the ``classes`` parameter,
else sorted) is the one source of the class order, and :func:`decide` (argmax) the one decision
rule. Scikit-learn's own logistic regression is fitted on class positions, so its probability
columns follow ``classes_`` whatever the order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
from bertsent.core.base.decision import decide
from bertsent.core.base.errors import Cancelled
from bertsent.core.base.regularization import DEFAULT_CS, TOL, CVResult
from bertsent.core.data.classes import ClassSet
from bertsent.core.data.dataset import cv_folds
from sklearn.base import BaseEstimator, ClassifierMixin

# Bounds on saved arrays that keep every standardized value and product finite in float64 (in
# which predictions are computed): no fitted model comes near them (near-constant features do
# have standard deviations around 1e-33), so beyond them is damage or tampering.
MAX_WEIGHT = 1e6
MIN_SCALE = 1e-200


class SentimentClassifier(ClassifierMixin, BaseEstimator):
    """Standardize, then (multinomial for 3+ classes) logistic regression.

    ``C=None`` picks C by stratified k-fold cross-validation on the training data only, along
    increasing ``Cs`` until ``patience`` of them in a row score below the best (None: try all).
    ``classes`` fixes the class order (every label of ``y`` must be among them, and every class
    must occur in ``y``); None sorts the labels of ``y``.
    Works in scikit-learn's ``Pipeline``, ``cross_val_score``, ``GridSearchCV`` and ``clone``.
    """

    C_: float | None  # fitted: the C used (None for a fine-tuned head, where no C applies)

    def __init__(
        self,
        C: float | None = None,
        *,
        Cs: tuple[float, ...] = DEFAULT_CS,
        folds: int = 5,
        max_iter: int = 2000,
        tol: float = TOL,
        patience: int | None = 2,
        classes: tuple | None = None,
    ) -> None:
        self.C = C
        self.classes = classes
        self.Cs = Cs
        self.folds = folds
        self.max_iter = max_iter
        self.tol = tol
        self.patience = patience

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> SentimentClassifier:
        """Fit; ``progress(done, total)`` counts fits, ``cancel`` stops between fits."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
        from threadpoolctl import threadpool_limits

        found = np.unique(np.asarray(y))
        if len(found) < 2:
            raise ValueError(f"training data has one class only ({found.tolist()}); need at least 2")
        classes = ClassSet.of(found) if self.classes is None else ClassSet(tuple(np.asarray(self.classes).tolist()))
        y = classes.indices(y)  # positions in class order: the columns of every probability
        if len(found) < len(classes):
            absent = [name for i, name in enumerate(classes.names) if i not in set(y.tolist())]
            raise ValueError(f"class {absent[0]!r} has no training sentence")
        self.classes_ = classes.array
        self.n_features_in_ = X.shape[1]
        self.scaler_ = StandardScaler().fit(X)
        # In float64: fitted in float32 (the vectors' type), lbfgs stopped at rounding noise, and one
        # BLAS thread against two moved a five-class probability by 1%.
        Z = self.standardize(X)
        # One thread per fit, BLAS and OpenMP (scikit-learn's loss sums in OpenMP threads), whatever
        # the machine has: the same sums in the same order, so the same fit on one core or sixteen
        # (the cores go to the folds instead, side by side).
        with threadpool_limits(limits=1):
            self.cv_ = None
            if self.C is None:
                self.cv_ = self._cross_validate(Z, y, progress, cancel)
                self.C_ = float(self.cv_.Cs[int(np.argmax(self.cv_.scores))])
            else:
                self.C_ = float(self.C)
            _check(cancel)
            self.model_ = LogisticRegression(C=self.C_, max_iter=self.max_iter, tol=self.tol).fit(Z, y)
        if progress:
            total = (self.cv_.folds * len(self.Cs) if self.cv_ else 0) + 1
            progress(total, total)
        return self

    def _cross_validate(self, Z, y, progress, cancel) -> CVResult:
        """Stratified k-fold accuracy for each C in increasing order, each fold's fit warm-started
        from its fit at the previous C; the folds of one C run side by side, one per core.

        The search stops once ``patience`` Cs in a row score below the best so far: past its peak
        the curve falls as weaker regularization overfits, while the fits get slowest (lbfgs
        needs the most iterations there). On SST-5 the full grid took 669 s, nearly all of it
        the Cs above the chosen one. ``progress`` counts fits out of the whole grid.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        folds = cv_folds(self.classes_[y], self.folds)  # y: class positions; the message names labels
        Cs = sorted(self.Cs)
        splits = list(StratifiedKFold(folds).split(Z, y))
        models = [LogisticRegression(max_iter=self.max_iter, tol=self.tol, warm_start=True) for _ in splits]
        total = folds * len(Cs) + 1

        def fold_accuracy(fold: int, C: float) -> float:
            _check(cancel)
            train, held_out = splits[fold]
            models[fold].set_params(C=C).fit(Z[train], y[train])
            return models[fold].score(Z[held_out], y[held_out])

        scores: list[float] = []
        with ThreadPoolExecutor(min(folds, os.cpu_count() or 1)) as pool:
            for column, C in enumerate(Cs):
                pending = {pool.submit(fold_accuracy, fold, C): fold for fold in range(folds)}
                accuracy = np.zeros(folds)
                for done, future in enumerate(as_completed(pending), start=1):
                    accuracy[pending[future]] = future.result()
                    if progress:
                        progress(column * folds + done, total)
                scores.append(float(accuracy.mean()))
                if self.patience is not None and all(s < max(scores) for s in scores[-self.patience :]):
                    break
        return CVResult(Cs[: len(scores)], scores, folds)

    def standardize(self, X: np.ndarray) -> np.ndarray:
        """Standardized features in float64, so even extreme saved arrays cannot overflow."""
        return self.scaler_.transform(np.asarray(X, dtype=np.float64))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.model_.decision_function(self.standardize(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        return self.model_.predict_proba(self.standardize(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[decide(self.predict_proba(X))]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain arrays (saved without pickle)."""
        return {
            "mean": self.scaler_.mean_,
            "scale": self.scaler_.scale_,
            "coef": self.model_.coef_,
            "intercept": self.model_.intercept_,
            # Text labels as a fixed-width string array: saved and loaded without pickle.
            "classes": self.classes_.astype(str) if self.classes_.dtype.kind == "O" else self.classes_,
            **({"C": np.asarray([self.C_])} if self.C_ is not None else {}),
        }

    @classmethod
    def from_linear(cls, weight: np.ndarray, bias: np.ndarray, classes: np.ndarray) -> SentimentClassifier:
        """A classifier computing ``softmax(x @ weight.T + bias)``: a fine-tuned model's head.

        Two classes are stored as scikit-learn stores them, one row ``w1 - w0`` through a sigmoid,
        which gives exactly the softmax of the two rows.
        """
        weight = np.asarray(weight, dtype=np.float64)
        bias = np.asarray(bias, dtype=np.float64)
        if len(weight) == 2:
            weight, bias = weight[1:] - weight[:1], bias[1:] - bias[:1]
        dim = weight.shape[1]
        return cls.from_arrays(
            {"mean": np.zeros(dim), "scale": np.ones(dim), "coef": weight, "intercept": bias, "classes": classes}
        )

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SentimentClassifier:
        """Rebuild a fitted classifier from :meth:`to_arrays` output; ValueError if the arrays
        cannot be one (wrong names, shapes, dtypes, or values such as a zero scale)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        _check_arrays(arrays)
        C = float(arrays["C"][0]) if "C" in arrays else None
        self = cls(C=C)
        self.C_, self.cv_ = C, None
        self.scaler_ = StandardScaler()
        self.scaler_.mean_ = arrays["mean"]
        self.scaler_.scale_ = arrays["scale"]
        self.scaler_.var_ = arrays["scale"] ** 2
        self.scaler_.n_features_in_ = arrays["mean"].shape[0]
        self.model_ = LogisticRegression(C=C or 1.0)
        self.model_.coef_ = arrays["coef"]
        self.model_.intercept_ = arrays["intercept"]
        self.classes_ = np.asarray(arrays["classes"])
        self.model_.classes_ = np.arange(len(self.classes_))  # positions: columns in classes_ order
        self.n_features_in_ = self.model_.n_features_in_ = arrays["coef"].shape[1]
        return self


def _check_arrays(arrays: dict[str, np.ndarray]) -> None:
    """The classifier's arrays must be a fitted standardizer plus logistic regression, exactly."""
    required = {"mean", "scale", "coef", "intercept", "classes"}
    if not required <= set(arrays) <= required | {"C"}:
        raise ValueError(f"arrays {sorted(arrays)} are not {sorted(required)} (and optionally C)")
    for name, array in arrays.items():
        kind = "iuU" if name == "classes" else "f"  # classes: whole numbers or text labels
        if array.dtype.kind not in kind or array.dtype.hasobject:
            raise ValueError(f"{name} has dtype {array.dtype}")
        if array.dtype.kind != "U" and not np.isfinite(array).all():
            raise ValueError(f"{name} has values that are not finite")
    classes, mean = arrays["classes"], arrays["mean"]
    labels = classes.tolist() if classes.ndim == 1 else []
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"classes {classes.tolist()[:10]} are not at least two distinct labels")
    if mean.ndim != 1 or not len(mean):
        raise ValueError(f"mean has shape {mean.shape}")
    rows = 1 if len(classes) == 2 else len(classes)
    shapes = {"scale": mean.shape, "coef": (rows, len(mean)), "intercept": (rows,), "C": (1,)}
    for name, shape in shapes.items():
        if name in arrays and arrays[name].shape != shape:
            raise ValueError(f"{name} has shape {arrays[name].shape}, expected {shape}")
    for name in ("mean", "coef", "intercept"):  # bounds that keep every product finite in float32
        if not (np.abs(arrays[name]) <= MAX_WEIGHT).all():
            raise ValueError(f"{name} has values beyond ±{MAX_WEIGHT:g}")
    if not (arrays["scale"] >= MIN_SCALE).all():
        raise ValueError(f"scale has values below {MIN_SCALE:g}")
    if "C" in arrays and not arrays["C"][0] > 0:
        raise ValueError("C is not positive")


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("training cancelled; nothing was changed")
