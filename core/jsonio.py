"""The one place JSON is written and read: strict JSON out, hostile JSON in gives ValueError only.

Output: no bare ``NaN``/``Infinity`` (non-finite numbers become ``null``), and characters that a
terminal would act on (C1 controls, bidi overrides, line separators) are ``\\uXXXX`` escapes, so
printing a JSON line never reorders or drives the terminal; the parsed values are unchanged.
Input: nesting too deep for the parser and ``NaN``/``Infinity`` constants are a ValueError like
any other malformed JSON.
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


def loads(text: str | bytes) -> Any:  # JSON values: as json.loads, checked by a schema where used
    """Parse JSON; every way it can fail is a ValueError (``json.JSONDecodeError`` or ours)."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


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
