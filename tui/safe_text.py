"""Show text from data files and users literally: never as markup, never as terminal control."""

from __future__ import annotations

import re

from rich.text import Text

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


def literal(text: str, style: str = "") -> Text:
    """A rich Text that shows ``text`` exactly (brackets included), safe for any terminal."""
    return Text(clean(text), style=style, no_wrap=False, end="")


def error_line(error: BaseException) -> str:
    """One clean line for any error: bertsent errors say it all, others get their type name."""
    from bertsent.core.errors import BertsentError

    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if not isinstance(error, BertsentError):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return clean(text)
