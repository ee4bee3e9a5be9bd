"""A bar for P(positive): the positive share filled solid, the negative share shaded."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class ProbabilityBar(Widget):
    """``neg ░░░░████████ pos`` with a tick at 50 %; readable without colour."""

    COMPONENT_CLASSES = {"probability--positive", "probability--negative"}
    probability: reactive[float | None] = reactive(None)

    def render(self) -> Text:
        if self.probability is None:
            return Text("P(positive) appears here", style="italic")
        negative = self.get_component_rich_style("probability--negative")
        positive = self.get_component_rich_style("probability--positive")
        width = max(self.size.width - 10, 10)
        filled = round(self.probability * width)
        cells = ["░"] * (width - filled) + ["█"] * filled
        middle = width // 2
        text = Text("neg ", style=negative)
        for index, cell in enumerate(cells):
            style = positive if cell == "█" else negative
            text.append("│" if index == middle and cell == "░" else cell, style)
        text.append(" pos", style=positive)
        return text
