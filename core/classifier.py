"""Logistic regression on sentence embeddings, scikit-learn style, with optional CV over C."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

DEFAULT_CS = tuple(float(c) for c in np.logspace(-4, 0, 9))


@dataclass(frozen=True)
class CVResult:
    """Mean cross-validated accuracy for each C tried."""

    Cs: list[float]
    scores: list[float]
    folds: int


class SentimentClassifier:
    """Standardize, then logistic regression.

    ``C=None`` picks C by stratified k-fold cross-validation on the training data only.
    """

    def __init__(
        self,
        C: float | None = None,
        *,
        Cs: tuple[float, ...] = DEFAULT_CS,
        folds: int = 5,
        max_iter: int = 2000,
        n_jobs: int | None = None,
    ) -> None:
        self.C = C
        self.Cs = Cs
        self.folds = folds
        self.max_iter = max_iter
        self.n_jobs = n_jobs

    def fit(self, X: np.ndarray, y: np.ndarray) -> SentimentClassifier:
        from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
        from sklearn.preprocessing import StandardScaler

        y = np.asarray(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"training data has one class only ({classes.tolist()}); need both 0 and 1")
        self.scaler_ = StandardScaler().fit(X)
        Z = self.scaler_.transform(X)
        self.cv_ = None
        if self.C is None:
            folds = int(min(self.folds, np.bincount(y).min()))
            if folds < 2:
                raise ValueError("too few sentences of one label to cross-validate C; pass a fixed C")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                search = LogisticRegressionCV(
                    Cs=list(self.Cs),
                    cv=folds,
                    scoring="accuracy",
                    max_iter=self.max_iter,
                    n_jobs=self.n_jobs,
                    l1_ratios=(0,),
                    use_legacy_attributes=False,
                ).fit(Z, y)
            scores = np.asarray(search.scores_).reshape(folds, len(self.Cs)).mean(axis=0)
            self.cv_ = CVResult(list(self.Cs), scores.tolist(), folds)
            self.C_ = float(self.Cs[int(np.argmax(scores))])
        else:
            self.C_ = float(self.C)
        self.model_ = LogisticRegression(C=self.C_, max_iter=self.max_iter).fit(Z, y)
        return self

    @property
    def classes_(self) -> np.ndarray:
        return self.model_.classes_

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.model_.decision_function(self.scaler_.transform(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(self.scaler_.transform(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(self.scaler_.transform(X))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain arrays (saved without pickle)."""
        return {
            "mean": self.scaler_.mean_,
            "scale": self.scaler_.scale_,
            "coef": self.model_.coef_,
            "intercept": self.model_.intercept_,
            "classes": self.model_.classes_,
            "C": np.asarray([self.C_]),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SentimentClassifier:
        """Rebuild a fitted classifier from :meth:`to_arrays` output."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        C = float(arrays["C"][0])
        self = cls(C=C)
        self.C_, self.cv_ = C, None
        self.scaler_ = StandardScaler()
        self.scaler_.mean_ = arrays["mean"]
        self.scaler_.scale_ = arrays["scale"]
        self.scaler_.var_ = arrays["scale"] ** 2
        self.scaler_.n_features_in_ = arrays["mean"].shape[0]
        self.model_ = LogisticRegression(C=C)
        self.model_.coef_ = arrays["coef"]
        self.model_.intercept_ = arrays["intercept"]
        self.model_.classes_ = arrays["classes"]
        self.model_.n_features_in_ = arrays["coef"].shape[1]
        return self
