"""The app survives its own bugs and stuck loads: an unexpected error is one line (the traceback goes
to a log file), Esc and ctrl+q never wait for a load, and a failed or cancelled probe says so."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from bertsent.core.analyses import probe
from bertsent.core.data import dataset as data
from bertsent.core.models import persist
from bertsent.tui import error_log
from textual.widgets import Input, Static, TabbedContent
from textual.worker import WorkerState

from tests.tui.conftest import Gate, screen_text, settle

QUIT_WITHIN_S = 10  # a stuck load must not hold up quitting; a watchdog frees it after this


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """An SST2-style folder of 24 train and 12 test sentences (0/1 labels): fast to load and probe."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    good = ["a fine , moving film", "witty and warm", "a gorgeous delight", "smart and funny"]
    bad = ["a dull , tired mess", "boring and flat", "an ugly failure", "stupid and slow"]
    rows = lambda n: "".join(f"{good[i % 4]} {i}\t1\n{bad[i % 4]} {i}\t0\n" for i in range(n))  # noqa: E731
    (folder / "train.tsv").write_text(rows(12))
    (folder / "test.tsv").write_text(rows(6))
    return folder


def notices(app) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


def error_notice(app) -> str:
    """The one line the app showed about an unexpected error; it names the log file."""
    lines = [line for line in notices(app) if "Unexpected error" in line]
    assert len(lines) == 1, notices(app)
    assert str(error_log.log_path()) in lines[0]
    return lines[0]


def logged_traceback() -> str:
    """The error log's text, removed so the conftest's check for unexpected errors passes."""
    path = error_log.log_path()
    text = path.read_text()
    path.unlink()
    return text


def test_an_error_in_a_panes_handler_is_one_line_and_the_app_goes_on(make_app, tiny_data, monkeypatch):
    """DataPane fills its summary with core's ``summarize`` when data arrives (a message handler)."""
    real = data.summarize

    def broken(*args, **kwargs):
        raise RuntimeError("summary broke")

    monkeypatch.setattr("bertsent.tui.screens.data.summarize", broken)

    async def scenario() -> None:
        app = make_app(str(tiny_data))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert app.is_running and app.splits is not None
            assert "RuntimeError: summary broke" in error_notice(app)
            monkeypatch.setattr("bertsent.tui.screens.data.summarize", real)
            await pilot.press("ctrl+r")  # the Data pane still handles keys and messages
            await settle(pilot)
            assert "train" in str(app.query_one("#data-summary", Static).content) or "24" in screen_text(app)
            await pilot.press("2")
            await settle(pilot)
            assert app.query_one(TabbedContent).active == "embed"

    asyncio.run(scenario())
    log = logged_traceback()
    assert "Traceback (most recent call last)" in log and "RuntimeError: summary broke" in log
    assert "_show_summary" in log  # the frame that raised, for whoever reads the log


def test_an_error_in_the_apps_own_handler_is_one_line_and_the_app_goes_on(make_app, tiny_data, monkeypatch):
    """A new limit reaches the app's handler, which cuts the splits with core's ``Splits``."""
    real = data.Splits

    async def scenario() -> None:
        app = make_app(str(tiny_data))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            monkeypatch.setattr(data, "Splits", lambda *args: (_ for _ in ()).throw(RuntimeError("cut broke")))
            await pilot.press("2")
            app.query_one("#embed-limit", Input).value = "5"
            await settle(pilot)
            assert app.is_running
            assert "RuntimeError: cut broke" in error_notice(app)
            monkeypatch.setattr(data, "Splits", real)
            app.query_one("#embed-limit", Input).value = "7"  # the app's own messages still flow
            await settle(pilot)
            assert len(app.work_splits.train) == 7

    asyncio.run(scenario())
    assert "RuntimeError: cut broke" in logged_traceback()


def test_a_failed_probe_says_so_and_logs_the_traceback(make_app, tiny_data, monkeypatch):
    """The probe fails after its first progress line ("Embedding ... Esc cancels")."""
    real = probe.probe_layers

    def fails_after_first_update(encoder, splits, *, progress, **kwargs):
        def update(progress_update):
            progress(progress_update)
            raise RuntimeError("probe broke")

        return real(encoder, splits, progress=update, **kwargs)

    monkeypatch.setattr(probe, "probe_layers", fails_after_first_update)

    async def scenario() -> None:
        app = make_app(str(tiny_data))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("5", "ctrl+r")
            await settle(pilot)
            status = str(app.query_one("#inside-status", Static).content)
            assert "Esc cancels" not in status and "Probing" not in status
            assert "probe failed" in status and "RuntimeError: probe broke" in status
            assert "RuntimeError: probe broke" in error_notice(app)

    asyncio.run(scenario())
    log = logged_traceback()
    assert "Traceback (most recent call last)" in log and "fails_after_first_update" in log


def test_esc_cancels_a_running_probe(make_app, tiny_data, monkeypatch):
    async def scenario() -> None:
        app = make_app(str(tiny_data))
        with Gate(monkeypatch, probe, "probe_layers") as gate:
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                await pilot.press("5", "ctrl+r")
                await gate.wait_entered(pilot)
                (worker,) = [w for w in app.workers if w.group == "probe"]
                await pilot.press("escape")
                await pilot.pause()
                gate.opened.set()  # the probe runs on with its cancel signal set: it stops at once
                await settle(pilot)
                assert worker.state == WorkerState.CANCELLED
                assert app.query_one("#inside-chart").probe is None  # no result was drawn
                status = str(app.query_one("#inside-status", Static).content)
                assert "Esc cancels" not in status and "Probing" not in status
                assert "stopped" in status.lower() or "cancelled" in status.lower()

    asyncio.run(scenario())


@pytest.mark.parametrize("keys", [("escape", "ctrl+q"), ("ctrl+q",)], ids=["esc-then-quit", "quit"])
def test_a_load_that_never_finishes_holds_up_neither_esc_nor_quitting(keys, make_app, tmp_path, monkeypatch):
    """The model's metadata is read from a FIFO nobody writes: the worker thread blocks in open(),
    where no cancel reaches it (core now refuses such files; any read can stall like this)."""
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    entered = threading.Event()

    def blocked_read_meta(folder):
        entered.set()
        return fifo.read_bytes()

    monkeypatch.setattr(persist, "read_meta", blocked_read_meta)

    def free_the_thread() -> None:
        """Open the FIFO's other end, so the blocked open() returns (and the read sees its end)."""
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader any more
            pass

    stuck = threading.Event()  # set if quitting was still waiting when the watchdog fired

    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("4")
            app.query_one("#predict-path", Input).value = str(tmp_path)
            await pilot.press("ctrl+o")
            while not entered.is_set():
                await pilot.pause(0.05)
            for key in keys:
                await pilot.press(key)
                if key == "escape":
                    await pilot.pause()
                    assert not app.long_work()
                    assert "Loading" not in str(app.query_one("#predict-model", Static).content)
        assert app.return_code == 0

    watchdog = threading.Timer(QUIT_WITHIN_S, lambda: (stuck.set(), free_the_thread()))
    watchdog.start()
    try:
        asyncio.run(scenario())
    finally:
        watchdog.cancel()
        free_the_thread()
    assert not stuck.is_set(), f"quitting waited over {QUIT_WITHIN_S} s for the stuck load"


STARTUP_FAILS = """
import sys
from bertsent.tui.__main__ import main
from bertsent.tui.screens.inside import InsidePane

def broken(self):
    raise RuntimeError("compose broke")

InsidePane.compose = broken
sys.exit(main([]))
"""


@pytest.mark.slow
def test_an_error_during_startup_exits_1_with_one_line():
    """``bertsent-tui`` itself (a subprocess, on Textual's headless driver) with a pane that cannot compose."""
    env = {**os.environ, "TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}
    done = subprocess.run([sys.executable, "-c", STARTUP_FAILS], env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("bertsent-tui: ") and "RuntimeError: compose broke" in lines[0]
    assert str(error_log.log_path()) in lines[0]
    assert "Traceback (most recent call last)" in logged_traceback()


def test_a_full_error_log_moves_aside_before_the_next_entry(monkeypatch):
    monkeypatch.setattr(error_log, "MAX_BYTES", 1000)
    path = error_log.log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("old entry\n" * 50)  # 500 bytes: under the limit, kept in place
    error_log.record(RuntimeError("first"))
    kept = path.read_text()
    assert kept.startswith("old entry") and "RuntimeError: first" in kept
    path.write_text("old entry\n" * 200)  # 2,000 bytes: moved aside whole
    error_log.record(RuntimeError("second"))
    aside = path.with_name(path.name + ".1")
    assert aside.read_text() == "old entry\n" * 200
    log = logged_traceback()
    assert "RuntimeError: second" in log and "old entry" not in log
    aside.unlink()
