"""Text from data files and users is shown literally: no markup, no terminal control."""

from __future__ import annotations

import asyncio

from bertsent.tui.safe_text import clean, error_line
from bertsent.tui.widgets.sentence_table import SentenceTable

from tests.tui.conftest import screen_text, settle

MARKUP = "[bold red]x[/] is not bold"
ESCAPE = "\x1b[31mred\x1b[0m and a bell \x07"


def test_clean_replaces_control_characters():
    assert clean(ESCAPE) == "␛[31mred␛[0m and a bell ␇"
    assert clean("tab\tand\nnewline") == "tab and newline"
    assert clean("\u202eevil\x9b") == "\ufffdevil\ufffd"
    assert clean(MARKUP) == MARKUP


def test_error_line_is_one_clean_line():
    assert error_line(ValueError("first\x1b[2J\nsecond")) == "ValueError: first␛[2J"


def test_data_file_sentences_render_literally(make_app, tmp_path):
    rows = [f"{MARKUP}\t1", f"{ESCAPE}\t0", "a plain sentence\t1", "another plain one\t0"]
    (tmp_path / "train.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "test.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    async def scenario() -> None:
        app = make_app(str(tmp_path))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            shown = screen_text(app)
            assert MARKUP in shown
            assert "␛[31mred␛[0m and a bell ␇" in shown
            assert "\x1b" not in shown
            await pilot.press("1")  # focus the table: the first row's tokens are shown
            await pilot.pause()
            assert app.query_one(SentenceTable).cursor_row == 0
            assert "[CLS]·101 [·1031 bold·7782" in screen_text(app)

    asyncio.run(scenario())


def test_predict_input_renders_literally(make_app, small_result):
    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.set_result(small_result)
            await pilot.press("4")
            await pilot.press(*MARKUP, "enter")
            await settle(pilot)
            app.query_one("#predict-input").value = ESCAPE
            await pilot.press("enter")
            await settle(pilot)
            shown = screen_text(app)
            assert MARKUP in shown  # in the history, brackets and all
            assert "␛[31mred␛[0m" in shown
            assert "\x1b" not in shown and "\x07" not in shown

    asyncio.run(scenario())
