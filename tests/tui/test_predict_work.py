"""Predict-as-you-type does not pile up work: long input is bounded, stale jobs stop, Esc stops."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from bertsent.tui.screens.predict import PREVIEW_TOKENS
from textual.widgets import Input

from tests.tui.conftest import screen_text, settle, show_predict

PASTE = "an utterly gorgeous and witty film , " * 300  # ~10,000 characters, over 512 tokens


class Spy:
    """Wraps a model's ``proba_ids``: counts the forward passes asked for, and when each
    call ended (finished or stopped)."""

    def __init__(self, model) -> None:
        self.original = model.proba_ids
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, batch_ids, **kwargs):
        call = {"variants": len(batch_ids), "ended": threading.Event(), "outcome": None}
        with self.lock:
            self.calls.append(call)
        try:
            result = self.original(batch_ids, **kwargs)
            call["outcome"] = "finished"
            return result
        except BaseException as error:
            call["outcome"] = type(error).__name__
            raise
        finally:
            call["ended"].set()


@pytest.fixture
def spy(small_result, monkeypatch) -> Spy:
    """Every call of the small model's ``proba_ids`` during the test, recorded."""
    spy = Spy(small_result.model)
    monkeypatch.setattr(small_result.model, "proba_ids", spy)
    return spy


async def ended(call: dict, within: float) -> bool:
    """Wait (without blocking the app) until the call's thread is out of the model."""
    deadline = time.monotonic() + within
    while not call["ended"].is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return call["ended"].is_set()


def test_long_paste_previews_with_one_pass_and_esc_stops_full_scoring(make_app, small_result, spy):

    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await show_predict(pilot, small_result)
            field = app.query_one("#predict-input", Input)
            field.value = PASTE  # a paste: one Changed event
            await pilot.press("x", "y")  # and two more keys while the preview may run
            await pilot.pause(0.6)  # past the debounce
            await settle(pilot)
            assert spy.calls, "the preview ran"
            assert all(call["variants"] == 1 for call in spy.calls)  # label only: one pass each
            assert f"over {PREVIEW_TOKENS} tokens: Enter scores them" in screen_text(app)

            await pilot.press("enter")  # full token scores: one pass per token, hundreds
            while len(spy.calls) < 2 or not any(call["variants"] > 100 for call in spy.calls):
                await asyncio.sleep(0.05)
            full = next(call for call in spy.calls if call["variants"] > 100)
            await asyncio.sleep(0.3)
            await pilot.press("escape")
            assert await ended(full, within=20), "Esc must stop the scoring at its next batch"
            assert full["outcome"] == "Cancelled"
            await settle(pilot)
            assert app.query_one("#predict-history").row_count == 0  # a stopped job posts nothing

    asyncio.run(scenario())


def test_newer_text_cancels_the_stale_job(make_app, small_result, spy):

    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await show_predict(pilot, small_result)
            field = app.query_one("#predict-input", Input)
            field.value = PASTE
            await pilot.press("enter")  # a long job...
            while not spy.calls:
                await asyncio.sleep(0.05)
            stale = spy.calls[0]
            field.value = "a gorgeous , witty , seductive movie"
            await pilot.press("enter")  # ...superseded by newer text
            assert await ended(stale, within=20), "the stale job must stop at its next batch"
            assert stale["outcome"] == "Cancelled"
            await settle(pilot)
            shown = screen_text(app)
            assert "gorgeous▲" in shown  # the newer text's scores are what is shown
            assert app.query_one("#predict-history").row_count == 1

    asyncio.run(scenario())
