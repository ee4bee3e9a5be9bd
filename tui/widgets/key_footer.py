"""A one-line footer of the focused screen's key bindings that is cheap to update."""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual import events
from textual.widget import Widget


class Shown(NamedTuple):
    key: str
    display: str
    description: str
    enabled: bool


class KeyFooter(Widget):
    """The screen's shown bindings as one line of text, with the command palette key at the right.

    Textual's ``Footer`` mounts a widget per key whenever focus moves, about 100 ms of UI-thread
    time per tab switch on a 2-core CPU; this draws one line and redraws only when the bindings
    change. A click on a key presses it.
    """

    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--disabled"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keys: tuple[Shown, ...] = ()
        self._palette: Shown | None = None
        self._spans: list[tuple[int, int, Shown]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        palette_key = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        keys: dict[str, Shown] = {}  # one key per action, as Footer shows them
        palette = None
        for key, (_, binding, enabled, _) in screen.active_bindings.items():
            shown = Shown(binding.key, self.app.get_key_display(binding), binding.description, enabled)
            if key == palette_key:
                palette = shown
            elif binding.show:
                keys.setdefault(binding.action, shown)
        if (tuple(keys.values()), palette) != (self._keys, self._palette):
            self._keys, self._palette = tuple(keys.values()), palette
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        disabled_style = self.get_component_rich_style("key-footer--disabled")
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []

        def add(shown: Shown) -> None:
            start = len(line)
            line.append(f" {shown.display} ", key_style)
            line.append(f"{shown.description} ", description_style)
            if not shown.enabled:
                line.stylize(disabled_style, start)
            self._spans.append((start, len(line), shown))

        for shown in self._keys:
            add(shown)
        if self._palette is not None:
            width = len(f" {self._palette.display} {self._palette.description} ")
            line.append(" " * max(1, self.size.width - len(line) - width))
            add(self._palette)
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, shown in self._spans:
            if start <= event.x < end:
                if shown.enabled:
                    self.app.simulate_key(shown.key)
                else:
                    self.app.bell()
                return
