"""The sentence map: test sentences as points in 2-D, one marker per true label, mistakes marked.

Keys move a selection between points (arrows: the nearest point that way; n/p: the next or
previous mistake) and a click selects the nearest point; each move posts :class:`PointSelected`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual_plot import PlotWidget
from textual_plot.plot_widget import LegendLocation

# One marker per class, so the labels differ without colour; a mistake is an ✗ in its true
# label's colour (the detail line names both labels), the selection a reversed ◉.
MARKERS = "o+x*#@%&"
COLOURS = ("error", "success", "primary", "warning", "accent", "secondary")
MISTAKE = "✗"
SELECTED = "◉"
DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, 1.0), "down": (0.0, -1.0)}


class SentenceMapView(PlotWidget, inherit_bindings=False):
    """Draws a ``core.analyses.inside.SentenceMap`` and keeps one selected point."""

    DEFAULT_CSS = """
    SentenceMapView {
        height: 1fr;
        min-height: 6;
    }
    """
    BINDINGS = [
        Binding("left,right,up,down", "noop", "Move", show=False),
        Binding("n", "mistake(1)", "Next mistake"),
        Binding("p", "mistake(-1)", "Prev mistake"),
    ]

    @dataclass
    class PointSelected(Message):
        index: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.map = None
        self.selected: int | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.margin_top = 0
        self.margin_bottom = 0
        self.margin_left = 1
        self.set_x_formatter(NoTicks())
        self.set_y_formatter(NoTicks())

    def show(self, sentence_map, selected: int = 0) -> None:
        self.map = sentence_map
        self.selected = min(selected, len(sentence_map.texts) - 1)
        self._draw()
        self.post_message(self.PointSelected(self.selected))

    def _draw(self) -> None:
        m = self.map
        self.clear()
        xy, wrong = m.xy, m.mistakes
        for number, (label, name) in enumerate(zip(m.classes.labels, m.classes.names, strict=True)):
            marker = MARKERS[number % len(MARKERS)]
            right = (m.labels == label) & ~wrong
            self.scatter(*xy[right].T, marker=marker, marker_style=self._colour(number), label=name)
        legend: str | None = "misclassified"
        for number, label in enumerate(m.classes.labels):
            rows = (m.labels == label) & wrong
            if rows.any():
                self.scatter(*xy[rows].T, marker=MISTAKE, marker_style=f"bold {self._colour(number)}", label=legend)
                legend = None  # one legend entry for the mistakes of every class
        if self.selected is not None:
            style = f"bold reverse {self._theme('foreground')}"
            self.scatter(*xy[[self.selected]].T, marker=SELECTED, marker_style=style, label="selected")
        self.show_legend(LegendLocation.TOPRIGHT)

    def _theme(self, name: str) -> str:
        return str(self.app.theme_variables.get(name, "white"))

    def _colour(self, number: int) -> str:
        return self._theme(COLOURS[number % len(COLOURS)])

    def select(self, index: int) -> None:
        if self.map is None or index == self.selected:
            return
        self.selected = index
        self._draw()
        self.post_message(self.PointSelected(index))

    def on_key(self, event: events.Key) -> None:
        if self.map is not None and event.key in DIRECTIONS:
            event.stop()
            target = nearest_in_direction(self._screen_xy(), self.selected or 0, DIRECTIONS[event.key])
            if target is not None:
                self.select(target)

    def action_noop(self) -> None:
        """Arrows are handled in on_key; the binding only lists them."""

    def action_mistake(self, step: int) -> None:
        if self.map is None:
            return
        wrong = np.flatnonzero(self.map.mistakes)
        if not len(wrong):
            return
        current = self.selected or 0
        later = wrong[wrong > current] if step > 0 else wrong[wrong < current][::-1]
        self.select(int(later[0] if len(later) else (wrong[0] if step > 0 else wrong[-1])))

    def on_click(self, event: events.Click) -> None:
        if self.map is None:
            return
        canvas = self.query_one("#plot")
        offset = event.get_content_offset(canvas)
        if offset is None:
            return
        x, y = self.get_coordinate_from_pixel(offset.x, offset.y)
        scale = np.ptp(self.map.xy, axis=0) + 1e-12
        distance = (((self.map.xy - (x, y)) / scale) ** 2).sum(axis=1)
        self.select(int(np.argmin(distance)))

    def _screen_xy(self) -> np.ndarray:
        """Point positions scaled to the plot's cells (a cell is about twice as tall as wide)."""
        xy = self.map.xy
        span = np.ptp(xy, axis=0) + 1e-12
        region = self._scale_rectangle
        return (xy - xy.min(axis=0)) / span * (max(region.width, 1), 2 * max(region.height, 1))


def nearest_in_direction(points: np.ndarray, current: int, direction: tuple[float, float]) -> int | None:
    """The point closest to ``current`` that lies in ``direction`` (within 45 degrees first)."""
    delta = points - points[current]
    along = delta @ np.asarray(direction)
    across = np.abs(delta @ np.asarray((-direction[1], direction[0])))
    ahead = along > 1e-9
    if not ahead.any():
        return None
    cone = ahead & (across <= along)
    pool = np.flatnonzero(cone if cone.any() else ahead)
    cost = along[pool] + 2 * across[pool]
    return int(pool[np.argmin(cost)])


class NoTicks:
    """No tick labels: the axes of a projection have no units worth reading."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        return []

    def get_labels_for_ticks(self, ticks) -> list[str]:
        return []

    def get_ticks_and_labels(self, min_: float, max_: float, max_ticks: int = 8):
        return [], []
