"""Evaluation report: accuracy against a dummy baseline, per-class metrics, confusion matrix."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from bertsent.core.base.regularization import CVResult
from bertsent.core.base.schema import Anything, Int, List, Map, Nullable, Num, Obj, Str, optional
from bertsent.core.data.classes import LABELS_SCHEMA, ClassSet

SHARE = Num(0, 1)
COUNT = Int(0)
# Report.to_dict() as stored in model.json; fields added later are allowed (from_dict ignores them).
REPORT_SCHEMA = Obj(
    {
        "accuracy": SHARE,
        "baseline_accuracy": SHARE,
        "train_accuracy": SHARE,
        "per_class": Map(Str(max_len=200), Obj({"precision": SHARE, "recall": SHARE, "f1": SHARE, "support": COUNT})),
        "confusion": List(List(COUNT)),
        "C": Nullable(Num(0)),
        "n_train": COUNT,
        "n_test": COUNT,
        "encoder": Str(),
        "pooling": Str(max_len=100),
        "classes": optional(LABELS_SCHEMA),  # written since bertsent 0.3; the model's classes
        "seconds": optional(Map(Str(max_len=100), Num(0))),
        "cv": optional(Nullable(Obj({"Cs": List(Num(0)), "scores": List(SHARE), "folds": COUNT}))),
        "truncated": optional(COUNT),
        "method": optional(Str(max_len=100)),
        "settings": optional(Map(Str(max_len=100), Anything())),
        "macro_f1": optional(SHARE),
    },
    extra=True,
)


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """What a training run measured on the held-out test split."""

    accuracy: float
    baseline_accuracy: float  # most frequent training label, predicted for every test sentence
    train_accuracy: float
    per_class: dict[str, ClassMetrics]  # by shown class name, in class order
    confusion: list[list[int]]  # rows: true class, columns: predicted class, in class order
    C: float | None  # None where no C applies (fine-tuned head)
    n_train: int
    n_test: int
    encoder: str
    pooling: str
    classes: list  # the labels as given, in class order
    seconds: dict[str, float] = field(default_factory=dict)
    cv: CVResult | None = None
    truncated: int = 0
    method: str = "frozen"  # frozen encoder + LR, "finetune", or the "tfidf" baseline
    settings: dict = field(default_factory=dict)  # fine-tuning settings

    @property
    def class_set(self) -> ClassSet:
        return ClassSet(tuple(self.classes))

    @property
    def names(self) -> list[str]:
        return self.class_set.names

    def describe(self) -> str:
        """The method in a few words: ``minilm, layers pooling, C = 0.0032``."""
        if self.method == "tfidf":
            return f"TF-IDF + logistic regression, C = {self.C:.2g}"
        if self.method == "finetune":
            epochs, lr = self.settings.get("epochs", 0), self.settings.get("lr", 0)
            return f"{self.encoder} fine-tuned ({epochs} epoch{'s' * (epochs != 1)}, lr {lr:g}), {self.pooling} pooling"
        return f"{self.encoder}, {self.pooling} pooling, C = {self.C:.2g}"

    @property
    def macro_f1(self) -> float:
        return float(np.mean([m.f1 for m in self.per_class.values()]))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["macro_f1"] = self.macro_f1
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["per_class"] = {k: ClassMetrics(**v) for k, v in data["per_class"].items()}
        data["cv"] = CVResult(**data["cv"]) if data.get("cv") else None
        return cls(**data)


def build_report(
    y_train: np.ndarray,
    train_pred: np.ndarray,
    y_test: np.ndarray,
    test_pred: np.ndarray,
    *,
    classes: ClassSet,
    **details,
) -> Report:
    """Compute every metric from true and predicted labels; ``details`` fill the rest of the report.

    ``classes`` is the model's class set; the majority baseline predicts the most frequent
    training label (the first in class order on a tie).
    """
    labels = classes.array
    counts = [int(np.sum(np.asarray(y_train) == label)) for label in labels]
    majority = labels[int(np.argmax(counts))]
    per_class, confusion = class_metrics(y_test, test_pred, classes)
    return Report(
        accuracy=float(np.mean(test_pred == y_test)),
        baseline_accuracy=float(np.mean(y_test == majority)),
        train_accuracy=float(np.mean(train_pred == y_train)),
        per_class=per_class,
        confusion=confusion,
        n_train=len(y_train),
        n_test=len(y_test),
        classes=labels.tolist(),
        **details,
    )


def class_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, classes: ClassSet
) -> tuple[dict[str, ClassMetrics], list[list[int]]]:
    """Precision, recall, F1 and support per class (by shown name, in class order), and the
    confusion matrix (rows: true class, columns: predicted, in class order)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = classes.array
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_class = {
        name: ClassMetrics(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i, name in enumerate(classes.names)
    }
    return per_class, confusion_matrix(y_true, y_pred, labels=labels).tolist()
