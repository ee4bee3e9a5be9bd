"""Accuracy against layer, one line per pooling, one for the layer sets 0..k (the recipe that runs
the encoder to layer k), and the all-layer recipe as a reference line."""

from __future__ import annotations

from bertsent.tui.widgets.cv_chart import PercentFormatter
from textual_plot import HiResMode, LegendLocation, PlotWidget

# Marker and line per pooling: the markers tell the lines apart without colour.
SERIES = {"cls": ("●", "$accent"), "mean": ("■", "$primary")}
PREFIX = ("▲", "$success")
REFERENCE_STYLE = "$warning"


class ProbeChart(PlotWidget, can_focus=False, inherit_bindings=False):
    """A ``core.analyses.probe.LayerProbe`` drawn as a plot (no pan or zoom: every layer fits)."""

    DEFAULT_CSS = """
    ProbeChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.probe = None

    def on_mount(self) -> None:
        super().on_mount()
        self.margin_top = 0
        self.margin_bottom = 2
        self.margin_left = 6
        self.set_xlabel("layer (0 = embeddings)")
        self.set_y_formatter(PercentFormatter())

    def show(self, probe) -> None:
        self.probe = probe
        self.clear()
        layers = list(range(probe.layers))
        lows = []
        for pooling, (marker, colour) in SERIES.items():
            curve = probe.curve(pooling)
            lows.append(min(curve))
            style = self._style(colour)
            self.plot(layers, curve, line_style=style, hires_mode=HiResMode.BRAILLE)
            self.scatter(layers, curve, marker=marker, marker_style=style, label=pooling)
        if probe.prefixes:
            marker, colour = PREFIX
            depths, curve = [p.depth for p in probe.prefixes], [p.accuracy for p in probe.prefixes]
            lows.append(min(curve))
            style = self._style(colour)
            cheapest = probe.cheapest_prefix.depth
            self.plot(depths, curve, line_style=style, hires_mode=HiResMode.BRAILLE)
            label = f"layers 0..k (cheapest: 0-{cheapest})"
            self.scatter(depths, curve, marker=marker, marker_style=style, label=label)
        if probe.reference is not None:
            lows.append(probe.reference)
            style = self._style(REFERENCE_STYLE)
            self.plot(
                [0, layers[-1]],
                [probe.reference] * 2,
                line_style=style,
                hires_mode=HiResMode.HALFBLOCK,
                label=f"all layers {probe.reference:.1%}",
            )
        self.set_xticks(layers)
        self.set_xlimits(-0.3, layers[-1] + 0.3)
        highs = [max(probe.curve(pooling)) for pooling in SERIES] + [p.accuracy for p in probe.prefixes]
        self.set_ylimits(max(0.0, min(lows) - 0.02), min(1.0, max(highs) + 0.02))
        self.show_legend(LegendLocation.BOTTOMRIGHT)

    def _style(self, variable: str) -> str:
        """A theme variable as a colour style (plots take Rich styles, not CSS)."""
        return str(self.app.theme_variables.get(variable.lstrip("$"), "white"))
