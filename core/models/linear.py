"""A fitted classifier as plain arrays: standardize, then logistic regression's probabilities.

What a saved model predicts with. It computes with numpy (and scipy's ``expit`` for two classes)
the same operations in the same order as scikit-learn's ``StandardScaler.transform`` and
``LogisticRegression.predict_proba``, so its probabilities are those of the fitted estimator, bit
for bit (no rows in gives no rows out, where scikit-learn refuses), without importing
scikit-learn: that import took 0.83 s of the 5.5 s a `bertsent predict` of a saved model took
here (``python -X importtime``), and every `label` run and Ray actor paid it too.
:class:`~bertsent.core.models.classifier.SentimentClassifier`, the scikit-learn estimator that
fits, predicts through the same methods.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from bertsent.core.base.decision import decide

# Bounds on saved arrays that keep every standardized value and product finite in float64 (in
# which predictions are computed): no fitted model comes near them (near-constant features do
# have standard deviations around 1e-33), so beyond them is damage or tampering.
MAX_WEIGHT = 1e6
MIN_SCALE = 1e-200

Fitted = TypeVar("Fitted", bound="LinearClassifier")


class LinearClassifier:
    """``softmax(standardize(x) @ coef_.T + intercept_)`` (two classes: one row through a
    sigmoid, as scikit-learn stores them), one probability column per entry of ``classes_``."""

    classes_: np.ndarray  # the labels as given, in class order: the one source of the order
    n_features_in_: int
    C_: float | None  # the C it was fitted with (None for a fine-tuned head, where no C applies)
    mean_: np.ndarray
    scale_: np.ndarray
    coef_: np.ndarray  # (1, features) for two classes, else (classes, features)
    intercept_: np.ndarray

    def standardize(self, X: np.ndarray) -> np.ndarray:
        """Standardized features in float64, so even extreme saved arrays cannot overflow."""
        X = np.array(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has shape {X.shape}; the classifier expects rows of {self.n_features_in_} features")
        X -= self.mean_
        X /= self.scale_
        return X

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        Z = self.standardize(X)
        if not np.isfinite(Z).all():
            raise ValueError("X contains NaN or infinity")
        scores = Z @ self.coef_.T + self.intercept_
        return scores.reshape(-1) if scores.shape[1] == 1 else scores

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            from scipy.special import expit

            positive = expit(scores, out=scores)
            return np.stack([1 - positive, positive], axis=1)
        scores -= scores.max(axis=1).reshape(-1, 1)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1).reshape(-1, 1)
        return scores

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[decide(self.predict_proba(X))]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as plain arrays (saved without pickle)."""
        return {
            "mean": self.mean_,
            "scale": self.scale_,
            "coef": self.coef_,
            "intercept": self.intercept_,
            # Text labels as a fixed-width string array: saved and loaded without pickle.
            "classes": self.classes_.astype(str) if self.classes_.dtype.kind == "O" else self.classes_,
            **({"C": np.asarray([self.C_])} if self.C_ is not None else {}),
        }

    @classmethod
    def _unfitted(cls: type[Fitted], C: float | None) -> Fitted:
        return cls()

    @classmethod
    def from_arrays(cls: type[Fitted], arrays: dict[str, np.ndarray]) -> Fitted:
        """Rebuild a fitted classifier from :meth:`to_arrays` output; ValueError if the arrays
        cannot be one (wrong names, shapes, dtypes, or values such as a zero scale)."""
        check_arrays(arrays)
        C = float(arrays["C"][0]) if "C" in arrays else None
        self = cls._unfitted(C)
        self.C_ = C
        self.mean_, self.scale_ = arrays["mean"], arrays["scale"]
        self.coef_, self.intercept_ = arrays["coef"], arrays["intercept"]
        self.classes_ = np.asarray(arrays["classes"])
        self.n_features_in_ = arrays["coef"].shape[1]
        return self

    @classmethod
    def from_linear(cls: type[Fitted], weight: np.ndarray, bias: np.ndarray, classes: np.ndarray) -> Fitted:
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


def check_arrays(arrays: dict[str, np.ndarray]) -> None:
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
        if not (np.abs(arrays[name].astype(np.float64)) <= MAX_WEIGHT).all():
            raise ValueError(f"{name} has values beyond ±{MAX_WEIGHT:g}")
    if not (arrays["scale"].astype(np.float64) >= MIN_SCALE).all():
        raise ValueError(f"scale has values below {MIN_SCALE:g}")
    if "C" in arrays and not arrays["C"][0] > 0:
        raise ValueError("C is not positive")
