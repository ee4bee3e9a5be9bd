"""What the app promises besides the main flow: the palette, remembered settings, download progress."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

from bertsent.core.data import sources
from bertsent.tui import config
from bertsent.tui.app import create_app
from bertsent.tui.commands import COMMANDS
from bertsent.tui.screens.data import DataPane
from textual.widgets import Input, Static, TabbedContent

from tests.tui.conftest import settle


def test_palette_finds_and_runs_a_screen_action():
    async def scenario() -> None:
        app = create_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for _, _, tab, action in COMMANDS:  # every entry names an action that exists
                if action not in (None, "cancel"):
                    assert callable(getattr(app.query_one(f"#{tab}-pane"), f"action_{action}"))
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"embed: show")
            for _ in range(10):  # the palette searches in the background
                await pilot.pause(0.05)
            await pilot.press("enter")
            await settle(pilot)
            assert app.query_one(TabbedContent).active == "embed"

    asyncio.run(scenario())


def test_keys_typed_right_after_a_tab_key_reach_its_field(make_app, small_result):
    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.set_result(small_result)
            await pilot.press("4", *"[a fine film")  # no wait for a frame in between
            assert app.query_one("#predict-input", Input).value == "[a fine film"

    asyncio.run(scenario())


def test_data_path_and_encoder_are_remembered(make_app, sst2_dir, tiny_distilbert, monkeypatch):
    async def first_visit() -> None:
        app = make_app(str(sst2_dir))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            app.query_one("#embed-encoder", Input).value = str(tiny_distilbert)
            app.query_one("#embed-limit", Input).value = "8"
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert app.embedding is not None and app.embedding.embedder.encoder.source == str(tiny_distilbert)

    async def second_visit() -> None:
        app = make_app()  # no arguments: what was remembered
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.splits is not None and len(app.splits.train) == 6920
            assert app.encoder_name == app.query_one("#embed-encoder", Input).value == str(tiny_distilbert)

    asyncio.run(first_visit())
    assert config.load() == {"data": str(sst2_dir.resolve()), "encoder": str(tiny_distilbert)}
    asyncio.run(second_visit())
    monkeypatch.setenv("BERTSENT_DATA", str(sst2_dir))
    assert create_app().initial_data is None  # $BERTSENT_DATA wins over the remembered path
    assert create_app(encoder="minilm").encoder_name == "minilm"  # and arguments win over both


def test_a_damaged_config_is_ignored_and_rewritten():
    config.config_path().parent.mkdir(parents=True, exist_ok=True)
    config.config_path().write_text('{"data": ["not", "a", "path"], "encoder": "minilm"')
    assert config.load() == {}
    config.remember(encoder="bert")
    assert json.loads(config.config_path().read_text()) == {"encoder": "bert"}


def test_download_shows_progress_and_loads_from_the_cache(make_app, loopback_server, tmp_path, monkeypatch):
    root, base = loopback_server
    rows = {"train.tsv": "a fine film\t1\na dull film\t0\n" * 20, "test.tsv": "so good\t1\nso bad\t0\n" * 5}
    files = {}
    for name, body in rows.items():
        (root / name).write_text(body)
        files[name] = {"url": f"{base}/{name}", "sha256": hashlib.sha256(body.encode()).hexdigest()}
    monkeypatch.setattr(sources, "manifest", lambda: {"files": files})
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))
    shown: list[str] = []
    real = DataPane.on_download_progressed

    def spy(pane, message) -> None:
        real(pane, message)
        shown.append(str(pane.query_one("#data-status", Static).content))

    monkeypatch.setattr(DataPane, "on_download_progressed", spy)

    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.splits is None  # nothing found, and nothing downloaded without asking
            await pilot.press("1", "ctrl+r")  # Load with an empty path field: download
            await settle(pilot)
            assert app.data_path == sources.sst2_cache() and len(app.splits.train) == 40

    asyncio.run(scenario())
    assert any(line.startswith("Downloading train.tsv: ") for line in shown), shown
    assert any("Downloading test.tsv" in line for line in shown), shown
    assert Path(sources.sst2_cache() / "test.tsv").read_text() == rows["test.tsv"]
