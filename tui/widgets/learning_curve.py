"""The labelling model's cross-validated accuracy against the number of labels, drawn with
textual-plot: a line through the estimates and a band one standard error either side; with a test
file, the accuracy on it as a second line."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from bertsent.tui.widgets.cv_chart import PercentFormatter
from textual_plot import HiResMode, PlotWidget

CV_LABEL = "labels (cross-validated accuracy ± 1 s.e.)"
TEST_LABEL = "labels (cross-validated accuracy ± 1 s.e.; ◆ the test file)"


class LearningCurve(PlotWidget, can_focus=False, inherit_bindings=False):
    """``(labels, accuracy, standard error)`` points as a line with ● and a dotted ± band; the
    test file's scores (``core.labelling.annotate.HeldOutScore``) as a line in the accent colour with ◆."""

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
        self.set_xlabel(CV_LABEL)

    def show(self, history: Sequence[tuple[int, float, float]], test: Sequence = ()) -> None:
        self.clear()
        self.set_xlabel(TEST_LABEL if test else CV_LABEL)
        if not history and not test:
            return
        x = np.asarray([n for n, _, _ in history], dtype=float)
        accuracy = np.asarray([a for _, a, _ in history], dtype=float)
        error = np.asarray([e for _, _, e in history], dtype=float)
        test_x = np.asarray([s.labels for s in test], dtype=float)
        test_accuracy = np.asarray([s.accuracy for s in test], dtype=float)
        line = str(self.app.theme_variables.get("primary", "white"))
        muted = f"dim {line}"
        if len(x) > 1:
            self.plot(x, accuracy, line_style=line, hires_mode=HiResMode.BRAILLE)
            self.plot(x, accuracy + error, line_style=muted, hires_mode=HiResMode.BRAILLE)
            self.plot(x, accuracy - error, line_style=muted, hires_mode=HiResMode.BRAILLE)
        if len(x):
            self.scatter(x[-1:], accuracy[-1:], marker="●", marker_style=f"bold {line}")
        if len(test_x):
            accent = str(self.app.theme_variables.get("accent", "yellow"))
            if len(test_x) > 1:
                self.plot(test_x, test_accuracy, line_style=accent, hires_mode=HiResMode.BRAILLE)
            self.scatter(test_x[-1:], test_accuracy[-1:], marker="◆", marker_style=f"bold {accent}")
        low = float(np.concatenate([accuracy - error, test_accuracy]).min())
        high = float(np.concatenate([accuracy + error, test_accuracy]).max())
        self.set_ylimits(max(0.0, low - 0.02), min(1.0, high + 0.02))
        every = np.concatenate([x, test_x])
        self.set_xlimits(float(every.min()), float(max(every.max(), every.min() + 1)))
        self.set_xticks(np.unique(np.linspace(every.min(), every.max(), 5).round()).tolist())  # whole labels
