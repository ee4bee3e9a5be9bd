"""Make untrusted text safe to print: control characters become visible escapes."""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` with terminal control bytes and bidi overrides shown as ``\\xNN``/``\\uNNNN``."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char != "\t"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
