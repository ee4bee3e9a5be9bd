"""Token views: WordPiece tokens with ids, and tokens coloured by their push towards a label."""

from __future__ import annotations

from collections.abc import Sequence

from bertsent.core.base.strength import STEPS, strength_steps
from bertsent.tui.safe_text import clean
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.reactive import reactive
from textual.widget import Widget

SPECIAL = ("[CLS]", "[SEP]")


class TokenIds(Widget):
    """``[CLS]·101 a·1037 stir·... [SEP]·102``: special tokens highlighted, ids dimmed."""

    COMPONENT_CLASSES = {"tokens--special", "tokens--id", "tokens--piece"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tokens: list[str] = []
        self.ids: list[int] = []
        self.note = "select a sentence to see its WordPiece tokens"

    def show(self, tokens: Sequence[str], ids: Sequence[int], truncated: bool = False) -> None:
        self.tokens, self.ids = list(tokens), list(ids)
        self.note = f"{len(self.tokens)} WordPiece tokens" + (" (truncated)" if truncated else "")
        self.refresh(layout=True)

    def message(self, note: str) -> None:
        self.tokens, self.ids, self.note = [], [], note
        self.refresh(layout=True)

    def render(self) -> Text:
        special = self.get_component_rich_style("tokens--special")
        piece = self.get_component_rich_style("tokens--piece")
        dim = self.get_component_rich_style("tokens--id")
        text = Text(self.note + (": " if self.tokens else ""), style="italic", end="")
        for token, token_id in zip(self.tokens, self.ids, strict=True):
            style = special if token in SPECIAL else piece if token.startswith("##") else ""
            text.append(clean(token), style)
            text.append(f"·{token_id} ", dim)
        return text


class TokenScores(Widget):
    """Tokens on a red to green scale, with ▲/▼ marks for the strength.

    Green and ▲ push towards the class at the legend's green end (positive with two classes, the
    class scored with more), red and ▼ away from it; no mark means little effect. Marks make the
    view readable without colour. Colour and marks come from the same step (``core.base.strength``),
    so float noise in the scores never changes the picture.
    """

    COMPONENT_CLASSES = {"tokens--positive", "tokens--negative"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scores: list[tuple[str, float]] = []

    def show(self, scores: Sequence[tuple[str, float]]) -> None:
        self.scores = list(scores)
        self.refresh(layout=True)

    def render(self) -> Text:
        if not self.scores:
            return Text("type a sentence: its tokens appear here, coloured by their effect", style="italic")
        steps = strength_steps([score for _, score in self.scores])
        text = Text(end="")
        for (token, _), step in zip(self.scores, steps, strict=True):
            text.append(f" {clean(token)}{marks(step)} ", step_style(self, step))
            text.append(" ")
        return text


class TokenLegend(Widget):
    """The marks with the very shades the tokens get, in one line; ``ends`` names its red and green ends."""

    COMPONENT_CLASSES = {"tokens--positive", "tokens--negative"}
    INTRO = "effect of deleting a token: "  # left out where the scale needs the room
    ends: reactive[tuple[str, str]] = reactive(("negative", "positive"))

    def render(self) -> Text:
        away, towards = (clean(end) for end in self.ends)
        steps = (*range(-STEPS, 0), 0, *range(1, STEPS + 1))
        scale = len(away) + len(towards) + 2 + sum(len(marks(step) or "none") + 2 for step in steps)
        text = Text(self.INTRO if scale + len(self.INTRO) <= self.size.width else "", style="italic", end="")
        text.append(f"{away} ", style="italic")
        for step in steps:
            text.append(f" {marks(step) or 'none'} ", step_style(self, step))
        text.append(f" {towards}", style="italic")
        return text


def marks(step: int) -> str:
    """``▲▲`` for step 2, ``▼`` for step -1, nothing for 0."""
    return ("▲" if step > 0 else "▼") * abs(step)


def step_style(widget: Widget, step: int) -> Style:
    """The background for a strength step: the widget's own at 0, the theme's colour at full strength."""
    if step == 0:
        return Style()
    key = "tokens--positive" if step > 0 else "tokens--negative"
    target = Color.from_rich_color(widget.get_component_rich_style(key).color)
    shade = 0.35 + 0.65 * (abs(step) - 1) / max(STEPS - 1, 1)  # the weakest step still reads as a colour
    blended = widget.background_colors[1].blend(target, shade)
    return Style(bgcolor=blended.rich_color, color=blended.get_contrast_text().rich_color, bold=abs(step) == STEPS)
