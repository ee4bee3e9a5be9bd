"""Snapshots of the four screens at 80x24 and 120x40 on real SST2 (limit 200, no timings shown).

Regenerate after an intended change: pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.tui.conftest import settle

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
SENTENCES = ("a gorgeous , witty , seductive movie", "[bold red]x[/] the plot is dull and the jokes fall flat")


async def drive(pilot, screen: str) -> None:
    """Go through the app like a user until ``screen`` shows its results."""
    app = pilot.app
    await settle(pilot)
    if screen != "data":
        await pilot.press("2")
        app.query_one("#embed-limit", Input).value = "200"
        await pilot.press("enter")
        await settle(pilot)
    if screen in ("train", "predict"):
        await pilot.press("3", "enter")
        await settle(pilot)
    if screen == "predict":
        await pilot.press("4")
        for sentence in SENTENCES:
            await pilot.press(*sentence, "enter")
            await settle(pilot)
    app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", ["data", "embed", "train", "predict"])
def test_screen(screen, size, snap_compare, make_app, sst2_here):
    async def run_before(pilot) -> None:
        await drive(pilot, screen)

    assert snap_compare(make_app(sst2_here), terminal_size=SIZES[size], run_before=run_before)
