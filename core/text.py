"""Text from data files and users, shown literally: never as terminal control, on any front end.

Headless on purpose: the scripts CLI prints through :func:`clean` without importing the TUI.
"""

from __future__ import annotations

import re

# C0 controls (ESC, BEL, ...), DEL, C1 controls, bidi overrides that could reorder what is shown,
# and lone surrogates (bytes that were not UTF-8, kept by Python in arguments), which cannot be printed.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in "\t\n\r":
        return " "
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ESC becomes ␛
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def clean(text: str) -> str:
    """``text`` on one line with every control character replaced by a visible stand-in."""
    return _UNSAFE.sub(_visible, text)
