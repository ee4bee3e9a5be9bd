"""Text from data files and users: the one rule for what is a sentence (:func:`sentence_problem`),
and how any text is shown literally, never as terminal control, on any front end (:func:`clean`).

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


EMPTY = "empty sentence"
_SURROGATE = re.compile("[\ud800-\udfff]")


def sentence_problem(text: object) -> str | None:
    """Why ``text`` cannot be a sentence for the model, or None.

    The one rule of every reader and job: training rows, ``predict``, ``label`` and the script API.
    The reason reads ``kind`` or ``kind: detail`` (the kind is what ``--skip-bad`` counts).
    """
    if not isinstance(text, str):
        return "not text"
    if not text.strip():
        return EMPTY
    if problem := encoding_problem(text):
        return f"bad encoding: {problem}"
    return None


def encoding_problem(text: str) -> str | None:
    """Why ``text`` cannot be tokenized, or None: lone surrogates stand for bytes that were not
    UTF-8 (command-line arguments, stdin) or come from a JSON ``\\ud800`` escape."""
    match = _SURROGATE.search(text)
    if match is None:
        return None
    code = ord(match.group())
    what = f"byte 0x{code - 0xDC00:02x}" if code >= 0xDC80 else f"lone surrogate U+{code:04X}"
    return f"not valid UTF-8 text ({what} at character {match.start() + 1})"
