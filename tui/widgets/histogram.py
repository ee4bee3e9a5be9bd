"""A horizontal-bar histogram of token lengths that scales to its width."""

from __future__ import annotations

import numpy as np
from bertsent.tui.widgets.bars import bar
from rich.text import Text
from textual.widget import Widget


class Histogram(Widget):
    """Counts of integer values, one labelled bar per range: as many ranges as lines fit (up to 12)."""

    COMPONENT_CLASSES = {"histogram--bar", "histogram--label"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.values = np.zeros(0, dtype=np.int64)

    def set_values(self, values: np.ndarray) -> None:
        self.values = np.asarray(values, dtype=np.int64)
        self.refresh(layout=True)

    def render(self) -> Text:
        if not len(self.values):
            return Text("token lengths appear once the tokenizer is loaded", style="italic")
        bins = min(max(self.size.height - 1, 2), 12)
        edges = np.unique(np.linspace(self.values.min(), self.values.max() + 1, bins + 1).round().astype(int))
        counts, _ = np.histogram(self.values, bins=edges)
        labels = [f"{lo}-{hi - 1}" if hi - 1 > lo else f"{lo}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        label_width = max(len(label) for label in labels)
        count_width = len(f"{counts.max():,}")
        width = max(self.size.width - label_width - count_width - 2, 4)
        bar_style = self.get_component_rich_style("histogram--bar")
        label_style = self.get_component_rich_style("histogram--label")
        text = Text("tokens per sentence\n", style=label_style, end="")
        for label, count in zip(labels, counts, strict=True):
            text.append(label.rjust(label_width) + " ", label_style)
            text.append(bar(count / max(counts.max(), 1), width), bar_style)
            text.append(f" {count:>{count_width},}\n")
        text.rstrip()
        return text
