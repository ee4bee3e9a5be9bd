"""The Inside screen with the keyboard alone: probe chart, sentence map, attention grid."""

from __future__ import annotations

import asyncio

import pytest
from bertsent.tui.messages import EmbedFinished, MapReady, ProbeFinished, Trained
from bertsent.tui.widgets.sentence_map import SentenceMapView

from tests.tui.conftest import screen_text, settle


async def open_inside(pilot, embedding, result) -> None:
    app = pilot.app
    await settle(pilot)
    app.query_one("#embed-pane").post_message(EmbedFinished(embedding))
    app.query_one("#train-pane").post_message(Trained(result))
    await pilot.press("5")
    await settle(pilot)


def test_probe_runs_from_the_keyboard_and_draws_every_layer(make_app, sst2_dir, tui_embedding, tui_result):
    async def scenario() -> None:
        app = make_app(str(sst2_dir))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.query_one("#embed-limit").value = "120"
            await pilot.press("5", "ctrl+r")
            await settle(pilot)
            shown = screen_text(app)
            assert "best: layer" in shown and "last-layer [CLS]" in shown
            chart = app.query_one("#inside-chart")
            assert chart.probe.layers == 7 and len(chart.probe.scores) == 14
            assert chart.probe.n_train == 120
            assert "cls" in shown and "mean" in shown and "all layers" in shown  # the legend

    asyncio.run(scenario())


def test_map_keys_move_between_points_and_show_the_sentence(make_app, tui_embedding, tui_result, tui_map):
    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await open_inside(pilot, tui_embedding, tui_result)
            app.query_one("#inside-pane").post_message(MapReady(tui_map))
            await settle(pilot)
            points = app.query_one(SentenceMapView)
            assert app.focused is points and points.selected == 0
            assert tui_map.texts[0][:30] in screen_text(app)
            await pilot.press("n")  # next mistake
            await settle(pilot)
            wrong = int(tui_map.mistakes.nonzero()[0][0])
            assert points.selected == wrong
            shown = screen_text(app)
            assert "✗ true" in shown and tui_map.texts[wrong][:30] in shown
            before = points.selected
            await pilot.press("right")
            await settle(pilot)
            assert points.selected != before
            assert tui_map.xy[points.selected, 0] > tui_map.xy[before, 0]
            assert any(mark in shown for mark in "▲▼")  # the selected sentence's coloured tokens

    asyncio.run(scenario())


def test_attention_grid_follows_layer_and_head_keys(make_app, tui_embedding, tui_result, tui_map):
    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await open_inside(pilot, tui_embedding, tui_result)
            pane = app.query_one("#inside-pane")
            pane.post_message(MapReady(tui_map))
            await settle(pilot)
            await pilot.press("shift+tab")  # to the view tabs
            await pilot.press("right")  # Map -> Attention
            await settle(pilot)
            assert pane.attention is not None
            shown = screen_text(app)
            assert "layer 6 of 6 · average of all heads" in shown
            assert "[CLS] row" in shown
            await pilot.press("left_square_bracket", "full_stop")
            await settle(pilot)
            assert "layer 5 of 6 · head 1 of 12" in screen_text(app)

    asyncio.run(scenario())


SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


async def show_view(pilot, view: str, embedding, result, probe, sentence_map) -> None:
    """Bring Inside to ``view`` with session results (the messages its workers would post)."""
    app = pilot.app
    await open_inside(pilot, embedding, result)
    pane = app.query_one("#inside-pane")
    if view == "probe":
        pane.post_message(ProbeFinished(probe))
    else:
        pane.post_message(MapReady(sentence_map))
        await settle(pilot)
        await pilot.press("n")  # select the first mistake
        if view == "attention":
            await pilot.press("shift+tab", "right")  # Map -> Attention
    await settle(pilot)
    app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", ["probe", "map", "attention"])
def test_inside_snapshot(view, size, snap_compare, make_app, tui_embedding, tui_result, tui_probe, tui_map):
    async def run_before(pilot) -> None:
        await show_view(pilot, view, tui_embedding, tui_result, tui_probe, tui_map)

    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=run_before)
