"""Text bars with eighth-block resolution, shared by the charts."""

from __future__ import annotations

EIGHTHS = " ▏▎▍▌▋▊▉█"
LEVELS = "▁▂▃▄▅▆▇█"


def bar(fraction: float, width: int) -> str:
    """A left-aligned bar filling ``fraction`` (0..1) of ``width`` cells."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(width)


def spark(values: list[float]) -> str:
    """One block character per value, scaled between the smallest and largest value."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(LEVELS[round((v - low) / span * (len(LEVELS) - 1))] for v in values)
