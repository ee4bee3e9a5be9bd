"""Text bars with eighth-block resolution (the report's accuracy bars)."""

from __future__ import annotations

EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int) -> str:
    """A left-aligned bar filling ``fraction`` (0..1) of ``width`` cells."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(width)
