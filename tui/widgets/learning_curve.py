"""The labelling model's cross-validated accuracy against the number of labels, drawn with
textual-plot: a line through the estimates and a band one standard error either side."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from bertsent.tui.widgets.cv_chart import PercentFormatter
from textual_plot import HiResMode, PlotWidget


class LearningCurve(PlotWidget, can_focus=False, inherit_bindings=False):
    """``(labels, accuracy, standard error)`` points as a line with ● and a dotted ± band."""

    DEFAULT_CSS = """
    LearningCurve {
        height: 1fr;
        min-height: 5;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.margin_top = 0
        self.margin_bottom = 2
        self.margin_left = 6
        self.set_y_formatter(PercentFormatter())
        self.set_xlabel("labels (cross-validated accuracy ± 1 s.e.)")

    def show(self, history: Sequence[tuple[int, float, float]]) -> None:
        self.clear()
        if not history:
            return
        x = np.asarray([n for n, _, _ in history], dtype=float)
        accuracy = np.asarray([a for _, a, _ in history])
        error = np.asarray([e for _, _, e in history])
        line = str(self.app.theme_variables.get("primary", "white"))
        muted = f"dim {line}"
        if len(x) > 1:
            self.plot(x, accuracy, line_style=line, hires_mode=HiResMode.BRAILLE)
            self.plot(x, accuracy + error, line_style=muted, hires_mode=HiResMode.BRAILLE)
            self.plot(x, accuracy - error, line_style=muted, hires_mode=HiResMode.BRAILLE)
        self.scatter(x[-1:], accuracy[-1:], marker="●", marker_style=f"bold {line}")
        low, high = float((accuracy - error).min()), float((accuracy + error).max())
        self.set_ylimits(max(0.0, low - 0.02), min(1.0, high + 0.02))
        self.set_xlimits(float(x.min()), float(max(x.max(), x.min() + 1)))
        self.set_xticks(np.unique(np.linspace(x.min(), x.max(), 5).round()).tolist())  # whole labels
