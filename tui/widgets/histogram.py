"""A histogram of token lengths, drawn with textual-plot: bars of sentence counts per length range."""

from __future__ import annotations

import numpy as np
from textual_plot import HiResMode, PlotWidget

MAX_BINS = 16


class Histogram(PlotWidget, can_focus=False, inherit_bindings=False):
    """Counts of integer values in up to :data:`MAX_BINS` ranges (no pan or zoom: it all fits)."""

    DEFAULT_CSS = """
    Histogram {
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.values = np.zeros(0, dtype=np.int64)

    def on_mount(self) -> None:
        super().on_mount()
        self.margin_top = 0
        self.margin_bottom = 2
        self.margin_left = 6
        self.set_xlabel("token lengths appear once the tokenizer is loaded")

    def set_values(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.int64)
        self.clear()
        if not len(self.values):
            self.set_xlabel("token lengths appear once the tokenizer is loaded")
            return
        low, high = int(self.values.min()), int(self.values.max())
        width = max(1, int(np.ceil((high + 1 - low) / MAX_BINS)))
        edges = np.arange(low, high + width + 1, width)
        counts, _ = np.histogram(self.values, bins=edges)
        style = str(self.app.theme_variables.get("primary", "white"))
        self.bar(edges[:-1] + width / 2, counts, width=width, bar_style=style, hires_mode=HiResMode.HALFBLOCK)
        self.set_xlimits(float(edges[0]), float(edges[-1]))
        self.set_ylimits(0, None)
        self.set_xlabel("tokens per sentence")
