"""One probability bar per class, the predicted class in bold; readable without colour."""

from __future__ import annotations

from bertsent.core.data.classes import ClassSet, short_names
from bertsent.tui.safe_text import clean
from bertsent.tui.widgets.bars import bar
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class ProbabilityBar(Widget):
    """``pos ███████████░░░ 87.0%``, a line per class in the model's class order.

    Two classes keep their colours (the first red, the second green); with more, the predicted
    class is green and the others muted.
    """

    DEFAULT_CSS = """
    ProbabilityBar {
        height: auto;
        max-height: 6;
    }
    """
    COMPONENT_CLASSES = {"probability--positive", "probability--negative"}
    shown: reactive[tuple[ClassSet, tuple[float, ...], int] | None] = reactive(None, layout=True)

    def show(self, classes: ClassSet, probabilities: tuple[float, ...], predicted: int) -> None:
        """``predicted``: the position of the class the model chose (core's decision, shown in bold)."""
        self.shown = (classes, tuple(probabilities), predicted)

    def render(self) -> Text:
        if self.shown is None:
            return Text("class probabilities appear here", style="italic")
        classes, probabilities, best = self.shown
        negative = self.get_component_rich_style("probability--negative")
        positive = self.get_component_rich_style("probability--positive")
        short = short_names([clean(name) for name in classes.names])
        label_width = max(len(name) for name in short)
        width = max(self.size.width - label_width - 8, 10)
        text = Text(end="")
        for index, (name, p) in enumerate(zip(short, probabilities, strict=True)):
            if tone := classes.tone(index):
                style = positive if tone > 0 else negative
            else:
                style = positive if index == best else Style(dim=True)
            text.append(f"{name:>{label_width}} ", style + Style(bold=True) if index == best else style)
            text.append(bar(p, width), style)
            # Rounded to what the bar can show, so float noise never reaches the screen.
            text.append(f" {round(p * 1000) / 10:5.1f}%" + ("\n" if index < len(classes) - 1 else ""))
        return text
