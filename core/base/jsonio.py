"""The one place JSON is written and read: strict JSON out, hostile JSON in gives ValueError only.

Output: no bare ``NaN``/``Infinity`` (non-finite numbers become ``null``), and characters that a
terminal would act on (C1 controls, bidi overrides, line separators) are ``\\uXXXX`` escapes, so
printing a JSON line never reorders or drives the terminal; the parsed values are unchanged.
Input: nesting too deep for the parser and ``NaN``/``Infinity`` constants are a ValueError like
any other malformed JSON. Data passed through (a corpus being labelled) can keep its numbers as
their own text (:class:`Number`, :func:`line`), so ``1e-09``, ``1e999`` or a 5,000-digit integer
come out as they went in.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# json.dumps already escapes C0 controls; these pass through raw with ensure_ascii=False.
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def dumps(data: object, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """Strict JSON text of ``data`` (numpy scalars and arrays allowed)."""
    text = json.dumps(
        _finite(data), indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False, default=_plain
    )
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class Number:
    """A JSON number kept as its input text: never rounded, never out of range, any number of digits."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Number({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Number) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def loads(text: str | bytes, *, exact_numbers: bool = False) -> Any:  # as json.loads; checked by a schema where used
    """Parse JSON; every way it can fail is a ValueError (``json.JSONDecodeError`` or ours).

    ``exact_numbers``: numbers become :class:`Number` (their text), for data written back out.
    """
    hooks: dict[str, Any] = {"parse_int": Number, "parse_float": Number} if exact_numbers else {}
    try:
        return json.loads(text, parse_constant=_no_constant, **hooks)
    except RecursionError:
        raise ValueError("nested too deeply") from None


class _Between(str):
    """Text written between values (punctuation, a key) while :func:`line` walks a value."""


def line(data: object) -> str:
    """One line of strict JSON for ``data``: :class:`Number` as its text, the escapes of :func:`dumps`,
    and no recursion, so any value the parser accepted is written back, however deeply nested."""
    parts: list[str] = []
    work: list[object] = [data]
    while work:
        item = work.pop()
        if isinstance(item, _Between):
            parts.append(item)
        elif isinstance(item, dict):
            parts.append("{")
            work.append(_Between("}"))
            entries = list(item.items())
            for index in range(len(entries) - 1, -1, -1):
                key, value = entries[index]
                work.append(value)
                work.append(_Between((", " if index else "") + json.dumps(str(key), ensure_ascii=False) + ": "))
        elif isinstance(item, list | tuple):
            parts.append("[")
            work.append(_Between("]"))
            for index in range(len(item) - 1, -1, -1):
                work.append(item[index])
                if index:
                    work.append(_Between(", "))
        elif isinstance(item, Number):
            parts.append(item.text)
        else:
            parts.append(json.dumps(_finite(item), ensure_ascii=False, allow_nan=False, default=_plain))
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", "".join(parts))


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _plain(value: object) -> object:
    """numpy scalars and arrays as plain Python values (``tolist`` covers both)."""
    if hasattr(value, "tolist"):
        return _finite(value.tolist())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _finite(data: object) -> object:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data
