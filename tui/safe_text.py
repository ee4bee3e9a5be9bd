"""Show text from data files and users literally: never as markup, never as terminal control."""

from __future__ import annotations

from bertsent.core.base.text import clean
from rich.text import Text

__all__ = ["clean", "error_line", "literal"]


def literal(text: str, style: str = "") -> Text:
    """A rich Text that shows ``text`` exactly (brackets included), safe for any terminal."""
    return Text(clean(text), style=style, no_wrap=False, end="")


def error_line(error: BaseException) -> str:
    """One clean line for any error: bertsent errors say it all, others get their type name."""
    from bertsent.core.base.errors import BertsentError

    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if not isinstance(error, BertsentError):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return clean(text)
