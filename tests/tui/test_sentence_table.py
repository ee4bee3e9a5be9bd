"""The Data pane's sentence table: keys, clicks and sideways scrolling over the loaded rows, the
tokens of the row under the cursor, and rows drawn only where they are on screen."""

from __future__ import annotations

import asyncio

import pytest
from bertsent.tui.widgets.sentence_table import SentenceTable

from tests.tui.conftest import screen_text, settle

LONG = "a sentence that goes on " * 30 + "and ends here"


@pytest.fixture
def two_class_folder(tmp_path):
    """300 train rows (0/1), one of them far wider than the table, and 3 test rows."""
    train = [f"sentence number {i} is {'good' if i % 2 else 'bad'}\t{i % 2}" for i in range(299)] + [f"{LONG}\t1"]
    (tmp_path / "train.tsv").write_text("\n".join(train) + "\n", encoding="utf-8")
    (tmp_path / "test.tsv").write_text("a fine test\t1\na poor test\t0\nthe last one\t0\n", encoding="utf-8")
    return tmp_path


def test_keys_move_the_cursor_over_every_row_and_the_tokens_follow(make_app, two_class_folder):
    async def scenario() -> None:
        app = make_app(str(two_class_folder))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.query_one(SentenceTable)
            await pilot.press("1")  # the Data tab focuses its table
            assert app.focused is table and table.row_count == 303 and table.cursor_row == 0
            assert "sentence·6251 number·2193 0·1014" in screen_text(app)
            await pilot.press("end")
            await settle(pilot)
            assert table.cursor_row == 302 and "test   neg    the last one" in screen_text(app)
            assert "[CLS]·101 the·1996 last·2197 one·2028 [SEP]·102" in screen_text(app)
            await pilot.press("home", "down", "down")
            assert table.cursor_row == 2 and table.scroll_y == 0
            await pilot.press("pagedown")
            body = table.scrollable_content_region.height - 1  # less the header
            assert table.cursor_row == 2 + body and table.scroll_y == 3  # the cursor's row is the last on screen
            await pilot.press("pageup", "up", "up", "up")
            assert table.cursor_row == 0  # stops at the first row
            await pilot.click(SentenceTable, offset=(4, 3))  # the third row under the header
            assert table.cursor_row == 2

    asyncio.run(scenario())


def test_a_wide_sentence_scrolls_sideways_and_is_cut_at_the_widest_column(make_app, two_class_folder):
    async def scenario() -> None:
        app = make_app(str(two_class_folder))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.query_one(SentenceTable)
            await pilot.press("1")
            table.cursor_row = 299
            await settle(pilot)
            assert table.virtual_size.width == 5 + 5 + 300 + 6  # three columns of one space each side
            for _ in range(20):
                await pilot.press("right")
            assert table.scroll_x > 0
            shown = screen_text(app)
            assert "that goes on a sentence that" in shown and "split  label" not in shown  # the header scrolled too
            assert "and ends here" not in shown  # past 300 characters

    asyncio.run(scenario())


def test_only_the_rows_on_screen_are_drawn(make_app, two_class_folder, monkeypatch):
    drawn: set[str] = set()
    real = SentenceTable._line

    def spy(self, cells, component, width):
        drawn.add(cells[2])
        return real(self, cells, component, width)

    monkeypatch.setattr(SentenceTable, "_line", spy)

    async def scenario() -> None:
        app = make_app(str(two_class_folder))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "sentence number 0 is bad" in drawn and "sentence number 40 is bad" not in drawn
            await pilot.press("1", "end")
            await settle(pilot)
            assert "the last one" in drawn and "sentence number 150 is good" not in drawn

    asyncio.run(scenario())
