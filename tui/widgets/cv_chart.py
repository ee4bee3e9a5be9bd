"""Cross-validated accuracy against C (log scale), drawn with textual-plot; the chosen C marked."""

from __future__ import annotations

import math

import numpy as np
from textual_plot import HiResMode, NumericAxisFormatter, PlotWidget


class CvChart(PlotWidget, can_focus=False, inherit_bindings=False):
    """A ``core.base.regularization.CVResult`` as a line with ● per C tried and ◆ at the chosen C."""

    DEFAULT_CSS = """
    CvChart {
        height: 9;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.margin_top = 0
        self.margin_bottom = 2
        self.margin_left = 6
        self.set_x_formatter(PowerOfTenFormatter())
        self.set_y_formatter(PercentFormatter())
        self.set_xlabel("C (log scale)")

    def show(self, cv, chosen: float) -> None:
        self.clear()
        x = np.log10(cv.Cs)
        scores = np.asarray(cv.scores)
        line = str(self.app.theme_variables.get("primary", "white"))
        best = str(self.app.theme_variables.get("success", "white"))
        self.plot(x, scores, line_style=line, hires_mode=HiResMode.BRAILLE)
        self.scatter(x, scores, marker="●", marker_style=line)
        self.scatter([np.log10(chosen)], [scores[int(np.argmax(scores))]], marker="◆", marker_style=f"bold {best}")
        self.set_xticks(x[:: max(1, len(x) // 4)].tolist())
        spread = max(float(scores.max() - scores.min()), 0.01)
        self.set_ylimits(float(scores.min()) - spread * 0.1, float(scores.max()) + spread * 0.1)


class PowerOfTenFormatter(NumericAxisFormatter):
    """Ticks at log10 values, labelled as the powers of ten they stand for."""

    def get_labels_for_ticks(self, ticks) -> list[str]:
        return [f"{10**tick:.0e}".replace("e-0", "e-").replace("e+0", "e") for tick in ticks]


class PercentFormatter(NumericAxisFormatter):
    """Tick labels as percentages, with the decimals it takes to tell neighbouring ticks apart
    (a CV curve within one point showed 78%, 78%, 77%, 77% otherwise)."""

    def get_labels_for_ticks(self, ticks) -> list[str]:
        ticks = list(ticks)
        step = min((abs(b - a) for a, b in zip(ticks, ticks[1:], strict=False)), default=1.0) * 100
        decimals = 0 if step >= 1 or step <= 0 else min(2, math.ceil(-math.log10(step)))
        return [f"{tick:.{decimals}%}" for tick in ticks]
