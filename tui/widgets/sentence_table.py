"""The Data pane's sentences: a table that draws only the rows on screen.

Textual's DataTable builds a row object (and measures its cells) for every row it is given:
filling it with SST2's 8,741 sentences held the UI thread 150-940 ms (median about 500 ms, five
Pilot runs; its first `_update_dimensions` came on top), and a bigger file in proportion. This
table keeps the rows as a list and draws only the ~20 that fit (Textual's line API): 13-22 ms
for the same load, and scrolling or jumping to the end cost the same for any file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bertsent.tui.safe_text import clean
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

SPLIT_WIDTH = 5  # "train", "test"
LABEL_WIDTH = 5  # a class's short name (ClassSet.short_names: at most 5 characters)
MAX_SENTENCE_WIDTH = 300  # characters shown per sentence; the table scrolls sideways


@dataclass(frozen=True)
class Row:
    """One sentence as the table shows it: its split, its label's short name, its text."""

    split: str
    label: str
    text: str


class SentenceTable(ScrollView, can_focus=True):
    """``split  label  sentence`` rows under a fixed header, one row under the cursor (its
    :class:`Highlighted` message tells the pane which sentence to tokenize)."""

    COMPONENT_CLASSES = {"sentence-table--header", "sentence-table--even", "sentence-table--cursor"}
    DEFAULT_CSS = """
    SentenceTable {
        height: 1fr;
        background: $surface;
        & > .sentence-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .sentence-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .sentence-table--even { background: $surface-lighten-1 50%; }
        &:dark > .sentence-table--even { background: $surface-darken-1 40%; }
        & > .sentence-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .sentence-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move_to(0)", "First", show=False),
        Binding("end", "move_to(-1)", "Last", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)

    @dataclass
    class Highlighted(Message):
        """The cursor is on ``row`` now."""

        table: SentenceTable
        row: int

        @property
        def control(self) -> SentenceTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []
        self._columns = (SPLIT_WIDTH, LABEL_WIDTH, len("sentence"))

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def show(self, rows: Sequence[Row]) -> None:
        """Replace the rows (the cursor back on the first one)."""
        self.rows = list(rows)
        longest = max((len(row.text) for row in self.rows), default=0)
        self._columns = (SPLIT_WIDTH, LABEL_WIDTH, max(len("sentence"), min(longest, MAX_SENTENCE_WIDTH)))
        self.virtual_size = Size(sum(self._columns) + 2 * len(self._columns), len(self.rows) + 1)
        self.scroll_to(0, 0, animate=False)
        self.cursor_row = 0
        self.refresh()

    # --- the cursor ----------------------------------------------------------------------------

    @property
    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)  # less the header

    def validate_cursor_row(self, row: int) -> int:
        return min(max(row, 0), max(len(self.rows) - 1, 0))

    def watch_cursor_row(self, row: int) -> None:
        self._keep_cursor_in_view()
        self.refresh()
        if self.rows:
            self.post_message(self.Highlighted(self, row))

    def on_resize(self) -> None:
        self._keep_cursor_in_view()  # the token view below grows with a long sentence's tokens

    def _keep_cursor_in_view(self) -> None:
        top, row = round(self.scroll_y), self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + self._body_height:
            self.scroll_to(y=row - self._body_height + 1, animate=False)

    def action_move(self, step: int) -> None:
        self.cursor_row += step

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * self._body_height

    def action_move_to(self, row: int) -> None:
        self.cursor_row = row if row >= 0 else len(self.rows) - 1

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1 and self.rows:
            self.cursor_row = round(self.scroll_y) + event.y - 1

    # --- drawing --------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._line(("split", "label", "sentence"), "sentence-table--header", width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        component = (
            "sentence-table--cursor" if index == self.cursor_row else "sentence-table--even" if index % 2 == 0 else None
        )
        return self._line((row.split, row.label, row.text), component, width)

    def _line(self, cells: tuple[str, str, str], component: str | None, width: int) -> Strip:
        style = self.rich_style + (self.get_component_rich_style(component) if component else Style())
        text = Text(no_wrap=True, end="")
        for cell, cell_width in zip(cells, self._columns, strict=True):
            shown = Text(clean(cell), no_wrap=True, end="")
            shown.truncate(cell_width, overflow="ellipsis", pad=True)
            text.append(" ").append_text(shown).append(" ")
        segments = list(Segment.apply_style(text.render(self.app.console), style))
        scroll_x = round(self.scroll_x)
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width, style)
