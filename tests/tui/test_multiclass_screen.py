"""Five classes in the app: a probability bar per class, an NxN confusion matrix that fits 80x24
(and scrolls beyond 6 classes), token colours towards the predicted class; snapshots of it all."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from bertsent.tui.widgets.report import ReportView
from textual.widgets import Input

from tests.tui.conftest import screen_text, settle
from tests.tui.test_snapshots import SIZES, drive

FIVE = ("v.neg", "neg", "neu", "pos", "v.pos")  # the graded order given, not alphabetical


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", ["train", "predict"])
def test_five_class_screen(screen, size, snap_compare, make_app, sst2_here, tui_sst5_embedding, tui_sst5_result):
    async def run_before(pilot) -> None:
        await drive(pilot, screen, tui_sst5_embedding, tui_sst5_result)

    assert snap_compare(make_app(sst2_here), terminal_size=SIZES[size], run_before=run_before)


def test_five_classes_read_at_80x24(make_app, sst2_here, tui_sst5_embedding, tui_sst5_result):
    asyncio.run(five_classes_read_at_80x24(make_app(sst2_here), tui_sst5_embedding, tui_sst5_result))


async def five_classes_read_at_80x24(app, tui_sst5_embedding, tui_sst5_result) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await drive(pilot, "train", tui_sst5_embedding, tui_sst5_result)
        assert "macro F1" in screen_text(app)
        box = app.query_one("#train-report-box")
        assert box.max_scroll_x == 0  # 5 classes fit the column: no sideways scrolling
        box.scroll_end(animate=False)  # the confusion matrix is below the per-class table
        await pilot.pause()
        shown = screen_text(app)
        header = next(line for line in shown.splitlines() if all(name in line for name in FIVE))
        assert header.index("v.neg") < header.index(" neg") < header.index("neu") < header.index("v.pos")
        confusion = tui_sst5_result.report.confusion
        for name, row in zip(FIVE, confusion, strict=True):
            assert any(line.split()[:6] == [name, *map(str, row)] for line in shown.splitlines() if line.split())

        await pilot.press("4")
        app.query_one("#predict-input", Input).value = "a gorgeous , witty , seductive movie"
        await pilot.press("enter")
        await settle(pilot)
        shown = screen_text(app)
        prediction = app.query_one("#predict-pane").history[0]
        assert prediction.label in tui_sst5_result.model.classes.labels and prediction.scored == prediction.label
        bars = [line for line in shown.splitlines() if line.rstrip().endswith("%")]
        assert len(bars) == 5 and all(name in line for name, line in zip(FIVE, bars, strict=True))
        assert f"away  ▼▼▼  ▼▼  ▼  none  ▲  ▲▲  ▲▲▲  towards {prediction.label_name}" in shown


def test_more_than_six_classes_scroll_sideways(make_app, sst2_here, tui_sst5_result):
    names = [f"class {i}" for i in range(9)]
    wide = dataclasses.replace(tui_sst5_result.report, classes=names, confusion=[[i] * 9 for i in range(9)])
    asyncio.run(scroll_sideways(make_app(sst2_here), wide))


async def scroll_sideways(app, wide) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        app.query_one(ReportView).show(wide)
        await pilot.pause()
        box = app.query_one("#train-report-box")
        assert box.max_scroll_x > 0
        box.scroll_to(x=box.max_scroll_x, animate=False)
        await pilot.pause()
        assert "c.8" in screen_text(app)
