"""A small declarative checker for the JSON files bertsent reads back (model.json, runs.jsonl).

A schema is a tree of specs; ``spec.check(value, "where")`` raises :class:`Invalid` naming the
first field that is wrong and why, in one line. Adding a field to a file is one line in its
schema. Kept dependency-free: the files are small, and the checks needed (types, ranges,
patterns, choices, which keys may be absent or edited) fit in this module.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable


class Invalid(ValueError):
    """The value does not match its schema; ``str()`` names the field."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


class Spec:
    optional = False  # the key may be absent (in an Obj)
    editable = False  # a user may change it: left out of the checksum (see ``locked``)

    def check(self, value: object, where: str) -> None:
        raise NotImplementedError


class Anything(Spec):
    """Any JSON value (already parsed, so nothing else can reach here)."""

    def check(self, value: object, where: str) -> None:
        pass


class Str(Spec):
    def __init__(self, pattern: str | None = None, *, choices: Iterable[str] = (), max_len: int = 4096) -> None:
        self.pattern = re.compile(pattern) if pattern else None
        self.choices = tuple(choices)
        self.max_len = max_len

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, str):
            raise Invalid(f"{where}: expected text, found {_show(value)}")
        if len(value) > self.max_len:
            raise Invalid(f"{where}: longer than {self.max_len} characters")
        if self.choices and value not in self.choices:
            raise Invalid(f"{where}: {_show(value)} is not one of {', '.join(self.choices)}")
        if self.pattern and not self.pattern.fullmatch(value):
            raise Invalid(f"{where}: {_show(value)} is not of the form {self.pattern.pattern}")


class Bool(Spec):
    def check(self, value: object, where: str) -> None:
        if not isinstance(value, bool):
            raise Invalid(f"{where}: expected true or false, found {_show(value)}")


class Num(Spec):
    """A finite number in ``[low, high]`` (``integer=True``: a whole number); never a bool."""

    def __init__(self, low: float = -math.inf, high: float = math.inf, *, integer: bool = False) -> None:
        self.low, self.high, self.integer = low, high, integer

    def check(self, value: object, where: str) -> None:
        kinds = int if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise Invalid(f"{where}: expected {'a whole number' if self.integer else 'a number'}, found {_show(value)}")
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise Invalid(f"{where}: {_show(value)} is outside [{self.low:g}, {self.high:g}]")


def Int(low: float = -(2**63), high: float = 2**63 - 1) -> Num:  # noqa: N802 - reads like the other specs
    return Num(low, high, integer=True)


class Const(Spec):
    def __init__(self, value: object) -> None:
        self.value = value

    def check(self, value: object, where: str) -> None:
        if value != self.value or type(value) is not type(self.value):
            raise Invalid(f"{where}: expected {self.value!r}, found {_show(value)}")


class Nullable(Spec):
    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def check(self, value: object, where: str) -> None:
        if value is not None:
            self.spec.check(value, where)


class AnyOf(Spec):
    """A value that one of ``specs`` accepts (e.g. class labels: whole numbers or text)."""

    def __init__(self, *specs: Spec) -> None:
        self.specs = specs

    def check(self, value: object, where: str) -> None:
        for spec in self.specs:
            try:
                return spec.check(value, where)
            except Invalid:
                continue
        raise Invalid(f"{where}: {_show(value)} is not of an accepted kind")


class List(Spec):
    def __init__(self, item: Spec, *, max_len: int = 10_000) -> None:
        self.item, self.max_len = item, max_len

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, list):
            raise Invalid(f"{where}: expected a list, found {_show(value)}")
        if len(value) > self.max_len:
            raise Invalid(f"{where}: more than {self.max_len} items")
        for index, item in enumerate(value):
            self.item.check(item, f"{where}[{index}]")


class Map(Spec):
    """An object with free keys (checked by ``key``) and values of one kind."""

    def __init__(self, key: Str, value: Spec, *, max_len: int = 10_000) -> None:
        self.key, self.value, self.max_len = key, value, max_len

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise Invalid(f"{where}: expected an object, found {_show(value)}")
        if len(value) > self.max_len:
            raise Invalid(f"{where}: more than {self.max_len} entries")
        for key, item in value.items():
            self.key.check(key, f"{where} key")
            self.value.check(item, f"{where}.{key}")


class Obj(Spec):
    """An object with named fields; unknown keys are refused unless ``extra``."""

    def __init__(self, fields: dict[str, Spec], *, extra: bool = False) -> None:
        self.fields, self.extra = fields, extra

    def check(self, value: object, where: str) -> None:
        if not isinstance(value, dict):
            raise Invalid(f"{where}: expected an object, found {_show(value)}")
        for key, spec in self.fields.items():
            if key in value:
                spec.check(value[key], f"{where}.{key}")
            elif not spec.optional:
                raise Invalid(f"{where}: missing field {key!r}")
        if not self.extra and (unknown := sorted(set(value) - set(self.fields))):
            raise Invalid(f"{where}: unknown field {_show(unknown[0])}")

    def locked(self, value: dict) -> dict:
        """``value`` without its editable fields (at any depth): what a checksum covers."""
        out = {}
        for key, item in value.items():
            spec = self.fields.get(key)
            if spec is not None and spec.editable:
                continue
            out[key] = spec.locked(item) if isinstance(spec, Obj) and isinstance(item, dict) else item
        return out


def optional(spec: Spec) -> Spec:
    """A copy of ``spec`` (specs are shared) whose key may be absent."""
    spec = copy.copy(spec)
    spec.optional = True
    return spec


def editable(spec: Spec) -> Spec:
    """A copy of ``spec`` that a user may change after saving (not covered by the checksum)."""
    spec = copy.copy(spec)
    spec.editable = True
    return spec
