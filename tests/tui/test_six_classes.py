"""Six named classes in the app, in the order given: Data counts, the report, probability bars
and the sentence map stay readable at 80x24 and nothing converts a label to a number."""

from __future__ import annotations

import asyncio
import re

import pytest
from bertsent.tui.messages import EmbedFinished, Trained
from textual.widgets import Input

from tests.conftest import CLASS_WORDS
from tests.tui.conftest import screen_text, settle
from tests.tui.test_snapshots import drive

SHORT = ("v.neg", "neg", "neu", "pos", "v.pos", "m.fee")  # CLASS_WORDS' names cut to 5 cells, in order


@pytest.mark.parametrize("screen", ["data", "train", "predict"])
def test_six_class_screen_at_80x24(
    screen, snap_compare, make_app, six_classes_folder, tui_six_embedding, tui_six_result, monkeypatch
):
    async def run_before(pilot) -> None:
        await drive(pilot, screen, tui_six_embedding, tui_six_result)

    monkeypatch.chdir(six_classes_folder.parent)  # the app shows the machine-independent path "six"
    app = make_app(six_classes_folder.name)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_data_counts_show_every_class_by_its_whole_name(make_app, six_classes_folder):
    async def scenario() -> None:
        app = make_app(str(six_classes_folder))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            shown = screen_text(app)
            for name in CLASS_WORDS:  # transposed: a row per class, its counts in train and test
                assert re.search(rf"^ *{name} +16 +6 ", shown, flags=re.M), shown

    asyncio.run(scenario())


def test_the_map_of_a_text_label_model_selects_points_without_a_crash(
    make_app, six_classes_folder, tui_six_embedding, tui_six_result
):
    async def scenario() -> None:
        app = make_app(str(six_classes_folder))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.query_one("#embed-pane").post_message(EmbedFinished(tui_six_embedding))
            app.query_one("#train-pane").post_message(Trained(tui_six_result))
            await pilot.press("5", "ctrl+e")
            await settle(pilot)
            for _ in range(3):
                await pilot.press("right")
                await settle(pilot)
            assert app.is_running
            shown = screen_text(app)
            assert "true " in shown and any(f"predicted {name}" in shown for name in CLASS_WORDS), shown
            await pilot.press("ctrl+g")  # the Attention view, from the keyboard
            await settle(pilot)
            assert app.query_one("#inside-tabs").active == "attention"

    asyncio.run(scenario())


def test_probability_bars_follow_the_given_order(make_app, tui_six_embedding, tui_six_result):
    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await drive(pilot, "train", tui_six_embedding, tui_six_result)
            await pilot.press("4")
            app.query_one("#predict-input", Input).value = "a brilliant and superb film"
            await pilot.press("enter")
            await settle(pilot)
            bars = [line for line in screen_text(app).splitlines() if line.rstrip().endswith("%")]
            assert len(bars) == 6 and all(name in line for name, line in zip(SHORT, bars, strict=True))

    asyncio.run(scenario())
