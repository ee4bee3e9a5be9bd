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
from typing import TypeVar

import numpy as np
from bertsent.core.base.errors import Cancelled
from bertsent.core.base.regularization import DEFAULT_CS, TOL, CVResult
from bertsent.core.data.classes import ClassSet
from bertsent.core.data.dataset import cv_folds
from bertsent.core.models.linear import LinearClassifier
from sklearn.base import BaseEstimator, ClassifierMixin

Estimator = TypeVar("Estimator", bound="SentimentClassifier")


class SentimentClassifier(ClassifierMixin, BaseEstimator, LinearClassifier):
    """Standardize, then (multinomial for 3+ classes) logistic regression.

    ``C=None`` picks C by stratified k-fold cross-validation on the training data only, along
    increasing ``Cs`` until ``patience`` of them in a row score below the best (None: try all).
    ``classes`` fixes the class order (every label of ``y`` must be among them, and every class
    must occur in ``y``); None sorts the labels of ``y``.
    Works in scikit-learn's ``Pipeline``, ``cross_val_score``, ``GridSearchCV`` and ``clone``.
    Predicts through :class:`~bertsent.core.models.linear.LinearClassifier`'s arrays, as a saved
    model does.
    """

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
        scaler = StandardScaler().fit(X)
        self.mean_, self.scale_ = scaler.mean_, scaler.scale_
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
            model = LogisticRegression(C=self.C_, max_iter=self.max_iter, tol=self.tol).fit(Z, y)
            self.coef_, self.intercept_ = model.coef_, model.intercept_
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

    @classmethod
    def _unfitted(cls: type[Estimator], C: float | None) -> Estimator:
        self = cls(C=C)
        self.cv_ = None
        return self

    def __setstate__(self, state: dict) -> None:
        """A classifier pickled before it predicted from its own arrays (a pipeline that
        `bertsent export` wrote) kept them in a fitted StandardScaler and LogisticRegression."""
        if "scaler_" in state and "model_" in state:
            scaler, model = state.pop("scaler_"), state.pop("model_")
            state.update(mean_=scaler.mean_, scale_=scaler.scale_, coef_=model.coef_, intercept_=model.intercept_)
        super().__setstate__(state)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("training cancelled; nothing was changed")
