"""Snapshots of the four screens at 80x24 and 120x40 on real SST2 (limit 200, no timings shown).

Data and Embed run their workers; Train and Predict receive the messages their workers would
post (from session fixtures), so the snapshots stay fast. Regenerate after an intended change:
pytest tests/tui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from bertsent.tui.messages import EmbedFinished, Trained
from textual.widgets import Input

from tests.tui.conftest import settle

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
SENTENCES = ("a gorgeous , witty , seductive movie", "[bold red]x[/] the plot is dull and the jokes fall flat")


async def drive(pilot, screen: str, embedding, result) -> None:
    """Bring the app to ``screen`` with its results showing."""
    app = pilot.app
    for field in app.query(Input):  # a blinking cursor would be drawn or not depending on timing
        field.cursor_blink = False
    await settle(pilot)
    if screen == "embed":
        await pilot.press("2")
        app.query_one("#embed-limit", Input).value = "200"
        await pilot.press("enter")
    elif screen in ("train", "predict"):
        app.query_one("#embed-pane").post_message(EmbedFinished(embedding))
        app.query_one("#train-pane").post_message(Trained(result))
        await pilot.press("3" if screen == "train" else "4")
    await settle(pilot)
    if screen == "predict":
        for sentence in SENTENCES:
            app.query_one("#predict-input", Input).value = sentence
            await pilot.press("enter")
            await settle(pilot)
    app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", ["data", "embed", "train", "predict"])
def test_screen(screen, size, snap_compare, make_app, sst2_here, tui_embedding, tui_result):
    async def run_before(pilot) -> None:
        await drive(pilot, screen, tui_embedding, tui_result)

    assert snap_compare(make_app(sst2_here), terminal_size=SIZES[size], run_before=run_before)
