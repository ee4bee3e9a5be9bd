"""One sentence's attention: a token x token grid in block shades and the [CLS] row as bars.

Rows are the attending tokens (queries), columns the tokens attended to (keys), numbered so a
column can be read off the row labels. Shades are levels of a weight against the grid's largest,
so they read the same in a monochrome terminal.
"""

from __future__ import annotations

import math

import numpy as np
from bertsent.tui.safe_text import clean
from rich.text import Text
from textual.widget import Widget

SHADES = " ░▒▓█"
BARS = " ▁▂▃▄▅▆▇█"
LABEL_WIDTH = 9
CELL = 3  # characters per column: two of shade and a gap


def level(fraction: float, steps: int) -> int:
    """0..steps-1 for a fraction of the largest weight; square-root scale so weak links show."""
    return min(steps - 1, math.ceil(math.sqrt(max(fraction, 0.0)) * (steps - 1) - 1e-9))


class AttentionGrid(Widget):
    """Renders ``grid`` (n x n weights, rows sum to 1) over ``tokens``."""

    DEFAULT_CSS = """
    AttentionGrid {
        width: auto;
        height: auto;
    }
    AttentionGrid > .attention--cell {
        color: $primary;
    }
    AttentionGrid > .attention--cls {
        color: $accent;
    }
    AttentionGrid > .attention--label {
        color: $text-muted;
    }
    """
    COMPONENT_CLASSES = {"attention--cell", "attention--cls", "attention--label"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tokens: list[str] = []
        self.grid = np.zeros((0, 0))

    def show(self, tokens: list[str], grid: np.ndarray) -> None:
        self.tokens, self.grid = list(tokens), np.asarray(grid, dtype=np.float64)
        self.styles.width = LABEL_WIDTH + 4 + CELL * len(self.tokens)  # wider than the view: it scrolls
        self.refresh(layout=True)

    def render(self) -> Text:
        if not self.tokens:
            return Text("pick a sentence: select a point on the map, or type one above", style="italic")
        cell = self.get_component_rich_style("attention--cell")
        cls = self.get_component_rich_style("attention--cls")
        muted = self.get_component_rich_style("attention--label")
        n = len(self.tokens)
        top = float(self.grid.max()) or 1.0
        text = Text(end="", no_wrap=True)
        text.append(" " * (LABEL_WIDTH + 4) + "".join(f"{j:<{CELL}}" for j in range(n)) + "\n", muted)
        text.append(f"{'[CLS] row':<{LABEL_WIDTH + 4}}", cls)
        cls_row = self.grid[0]
        cls_top = float(cls_row.max()) or 1.0
        text.append("".join(BARS[level(w / cls_top, len(BARS))] * 2 + " " for w in cls_row) + "\n", cls)
        for i, token in enumerate(self.tokens):
            text.append(f"{i:>2} {clean(token)[:LABEL_WIDTH]:<{LABEL_WIDTH}} ", muted)
            text.append("".join(SHADES[level(w / top, len(SHADES))] * 2 + " " for w in self.grid[i]), cell)
            text.append("\n")
        text.append(f"shade: weight against the largest ({top:.2f}); ░ ▒ ▓ █ low to high", muted)
        return text
