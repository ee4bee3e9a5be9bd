"""Token views: WordPiece tokens with ids, and tokens coloured by their push towards a label."""

from __future__ import annotations

import math
from collections.abc import Sequence

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
    view readable without colour.
    """

    COMPONENT_CLASSES = {"tokens--positive", "tokens--negative"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scores: list[tuple[str, float]] = []

    def show(self, scores: Sequence[tuple[str, float]]) -> None:
        self.scores = list(scores)
        self.refresh(layout=True)

    def _style(self, strength: float, positive: bool) -> Style:
        """Background blended from the widget's background towards the theme's colour."""
        key = "tokens--positive" if positive else "tokens--negative"
        target = Color.from_rich_color(self.get_component_rich_style(key).color)
        back = self.background_colors[1]
        blended = back.blend(target, 0.15 + 0.85 * strength)
        return Style(bgcolor=blended.rich_color, color=blended.get_contrast_text().rich_color, bold=strength > 0.66)

    def render(self) -> Text:
        if not self.scores:
            return Text("type a sentence: its tokens appear here, coloured by their effect", style="italic")
        scale = max(max(abs(score) for _, score in self.scores), 0.02)
        text = Text(end="")
        for token, score in self.scores:
            strength = abs(score) / scale
            level = math.ceil(3 * strength) if strength >= 0.15 else 0
            marks = ("▲" if score > 0 else "▼") * level
            text.append(f" {clean(token)}{marks} ", self._style(strength, score > 0))
            text.append(" ")
        return text


class TokenLegend(Widget):
    """The colour scale and the marks, explained in one line; ``ends`` names its red and green ends."""

    COMPONENT_CLASSES = {"tokens--positive", "tokens--negative"}
    INTRO = "effect of deleting a token: "  # left out where the scale needs the room
    ends: reactive[tuple[str, str]] = reactive(("negative", "positive"))

    def render(self) -> Text:
        negative = self.get_component_rich_style("tokens--negative")
        positive = self.get_component_rich_style("tokens--positive")
        away, towards = (clean(end) for end in self.ends)
        scale = len(f"▼▼▼ {away} █▓▒░ · none · ░▒▓█ {towards} ▲▲▲")
        text = Text(self.INTRO if scale + len(self.INTRO) <= self.size.width else "", style="italic", end="")
        text.append(f"▼▼▼ {away} ", negative + Style(bold=True))
        text.append("█▓▒░", negative)
        text.append(" · none · ")
        text.append("░▒▓█", positive)
        text.append(f" {towards} ▲▲▲", positive + Style(bold=True))
        return text
