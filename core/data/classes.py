"""The one class set: which labels a task has, in which order, and how every view names them.

Labels are data, kept exactly as written: integers when every label of a file is one
(``core.data.dataset``'s rule), strings otherwise. The order is the user's where one is given
(``--classes``, the Train screen's field), else numeric for integers and sorted for strings. The
order travels from the data through the classifier (its ``classes_``) into ``model.json`` and
every view: probability columns, the confusion matrix, the counts, the legends.

Shown names: labels exactly 0 and 1 read ``negative``/``positive`` (the SST2 convention); any
other label is shown as written. Short names fit narrow columns and stay distinct.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from bertsent.core.base.errors import DataError
from bertsent.core.base.schema import AnyOf, Int, List, Str

BINARY_NAMES = ("negative", "positive")  # the SST2 convention for labels 0 and 1
MAX_CLASSES = 100  # more distinct labels than this is almost surely the wrong column
MAX_NAME = 200  # characters of a shown class name, as model.json keeps it
# The labels as given, in class order, as model.json and its report store them.
LABELS_SCHEMA = List(AnyOf(Int(), Str(r".*\S.*", max_len=MAX_NAME)), max_len=MAX_CLASSES)

Label = int | str


@dataclass(frozen=True)
class ClassSet:
    """The labels of a task in their order (distinct; all integers or all strings)."""

    labels: tuple[Label, ...]

    def __post_init__(self) -> None:
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"class labels repeat: {list(self.labels)[:10]}")
        if len({type(label) for label in self.labels}) > 1:
            raise ValueError("class labels mix integers and strings")

    @classmethod
    def of(cls, labels: Iterable | np.ndarray, order: Sequence[str] | None = None) -> ClassSet:
        """The classes of ``labels``: in ``order`` (each class named once, by its label or its
        shown name) when given, else sorted (integers numerically)."""
        found = sorted(set(np.asarray(labels).tolist()))
        if order is None:
            return cls(tuple(found))
        by_text = dict(zip(names_of(found), found, strict=True)) | {str(label): label for label in found}
        ordered: list[Label] = []
        for wanted in order:
            label = by_text.get(wanted, by_text.get(wanted.strip()))  # exactly as written, else trimmed
            if label is None:
                known = ", ".join(repr(name) for name in names_of(found)[:10])
                raise DataError(f"class {wanted!r} is not a label of the data (its labels: {known})")
            if label in ordered:
                raise DataError(f"class {wanted!r} is named twice in the class order")
            ordered.append(label)
        missing = [name for label, name in zip(found, names_of(found), strict=True) if label not in ordered]
        if missing:
            raise DataError(f"the class order leaves out {', '.join(repr(name) for name in missing[:5])}")
        return cls(tuple(ordered))

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[Label]:
        return iter(self.labels)

    @property
    def names(self) -> list[str]:
        """How each class is shown, in class order."""
        return names_of(self.labels)

    def short_names(self, width: int = 5) -> list[str]:
        """Each shown name in at most ``width`` cells, all still distinct (see :func:`short_names`)."""
        return short_names(self.names, width)

    @property
    def array(self) -> np.ndarray:
        """The labels as an array: int64 for integer labels, a string array for text (other
        label types a scikit-learn caller fits on, floats say, keep numpy's own dtype)."""
        if self.labels and all(isinstance(label, str) for label in self.labels):
            return np.asarray(self.labels, dtype=str)
        if self.labels and all(isinstance(label, int) for label in self.labels):
            return np.asarray(self.labels, dtype=np.int64)
        return np.asarray(self.labels)

    def index(self, label: Label) -> int:
        """The position of ``label`` in class order (ValueError if it is not a class)."""
        return self.labels.index(label)

    def indices(self, labels: np.ndarray | Sequence) -> np.ndarray:
        """Class positions of an array of labels; ValueError names the first unknown label."""
        position = {label: i for i, label in enumerate(self.labels)}
        values = np.asarray(labels).tolist()
        try:
            return np.fromiter((position[value] for value in values), dtype=np.int64, count=len(values))
        except KeyError as exc:
            raise ValueError(f"label {exc.args[0]!r} is not one of the classes {self.names[:10]}") from None

    def name(self, label: Label) -> str:
        return self.names[self.index(label)]

    def find(self, wanted: str) -> Label:
        """The class a user names, by its label or its shown name (``1`` or ``positive``)."""
        for label, name in zip(self.labels, self.names, strict=True):
            if wanted.strip() in (str(label), name):
                return label
        known = ", ".join(repr(name) for name in self.names)
        raise DataError(f"no class {wanted!r} in this model; its classes are {known}")

    def tone(self, index: int) -> int:
        """The two-class colour rule: red (-1) and green (+1). Labels 0 and 1 are negative and
        positive in either order; other pairs colour the first class red and the second green.
        With three or more classes no class has a colour of its own (0): views colour by the class
        scored."""
        if len(self) != 2:
            return 0
        if set(self.labels) == {0, 1}:
            return 1 if self.labels[index] == 1 else -1
        return (-1, 1)[index]

    @property
    def axis(self) -> tuple[str, str] | None:
        """The names at the red and the green end of a two-class legend (None for more classes)."""
        if len(self) != 2:
            return None
        red = 0 if self.tone(0) < 0 else 1
        return self.names[red], self.names[1 - red]


def names_of(labels: Sequence[Label]) -> list[str]:
    """The naming rule: labels exactly 0 and 1 read negative/positive, others as written.

    A label with spaces at an end (or starting with a quote) is shown in JSON quotes, ``"good "``,
    so it cannot look like another class (``good``).
    """
    values = list(labels)
    if len(values) == 2 and all(type(value) is int for value in values) and set(values) == {0, 1}:
        return [BINARY_NAMES[int(value)] for value in values]  # in either order
    return [_visible(str(value)) for value in values]


def _visible(label: str) -> str:
    if label != label.strip() or label.startswith('"'):
        return json.dumps(label, ensure_ascii=False)
    return label


def short_names(names: Sequence[str], width: int = 5) -> list[str]:
    """Each name in at most ``width`` cells, all still distinct.

    A name that fits stays whole. A longer one has the words before its last made initials
    (``very negative`` → ``v.negative``) and its last word cut to the shortest length, 3 or more,
    that keeps every name distinct; failing that, names are numbered.
    """
    parts = [("", name) if len(name) <= width else _initials(name) for name in names]
    for keep in range(3, width + 1):
        cut = [(head + last[:keep] if head or len(last) > width else last)[:width] for head, last in parts]
        if len(set(cut)) == len(cut):
            return cut
    return [f"{name[: width - len(str(i))]}{i}" for i, name in enumerate(names, start=1)]


def _initials(name: str) -> tuple[str, str]:
    words = name.split()
    if len(words) < 2:
        return "", name
    return "".join(word[0] + "." for word in words[:-1]), words[-1]
