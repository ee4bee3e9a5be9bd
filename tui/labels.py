"""Class names cut to fit a narrow column and still told apart: SST2's ``neg``/``pos``, SST-5's ``v.neg``."""

from __future__ import annotations

from collections.abc import Sequence


def short_labels(names: Sequence[str], width: int = 5) -> list[str]:
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
