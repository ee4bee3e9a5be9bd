"""End to end on real SST2 with a small limit: load, embed, train, save, predict, load the model."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from bertsent.tui.widgets.sentence_table import SentenceTable
from textual.widgets import DataTable, Input

from tests.tui.conftest import Gate, screen_text, settle, settle_until


def test_load_embed_train_predict(make_app, sst2_dir, tmp_path):
    async def scenario() -> None:
        app = make_app(str(sst2_dir))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.splits is not None and len(app.splits.train) == 6920
            assert app.query_one("#data-table", SentenceTable).row_count == 6920 + 1821
            shown = screen_text(app)
            assert "3,310" in shown and "3,610" in shown  # train rows per label
            assert "[CLS]·101" in shown and "[SEP]·102" in shown  # first sentence tokenized

            await pilot.press("2")
            app.query_one("#embed-limit", Input).value = "200"
            await pilot.press("enter")  # focus is on Start
            await settle(pilot)
            assert app.embedding is not None
            assert len(app.embedding.splits.train) == 200 and len(app.embedding.splits.test) == 200
            assert "Done: 400 sentences" in screen_text(app)

            await pilot.press("3", "enter")  # empty C: cross-validated
            await settle(pilot)
            report = app.result.report
            assert report.cv is not None and report.n_train == 200
            shown = screen_text(app)
            assert f"Test accuracy {report.accuracy:.1%}" in shown
            assert f"baseline {report.baseline_accuracy:.1%}".split()[1] in shown
            assert "fold CV accuracy vs C" in shown
            wrong = report.confusion[0][1] + report.confusion[1][0]
            assert app.query_one("#train-mistakes", DataTable).row_count == wrong

            folder = tmp_path / "model"
            app.query_one("#train-out", Input).value = str(folder)
            await pilot.press("ctrl+s")
            await settle(pilot)
            fast_path = json.loads((folder / "model.json").read_text())["fast_path"]
            assert fast_path["n"] == 200 and fast_path["precision"] == "bf16"  # checked on the held-out split
            assert fast_path["accuracy_fp32"] == report.accuracy

            sentence = "a gorgeous , witty , seductive movie"
            expected = app.result.model.explain(sentence)
            await pilot.press("4")
            await settle(pilot)  # focus moves to the text field after the tab has switched
            assert isinstance(app.focused, Input) and app.focused.id == "predict-input"
            await pilot.press(*sentence, "enter")
            await settle(pilot)
            shown = screen_text(app)
            assert f"{expected.label_name.upper()}  p = {expected.probability:.3f}" in shown
            assert app.query_one("#predict-history", DataTable).row_count == 1
            assert "gorgeous▲" in shown  # the strongest token carries its monochrome cue

            app.query_one("#predict-path", Input).value = str(folder)
            await pilot.press("escape", "ctrl+o")
            await settle(pilot)
            assert str(folder) in screen_text(app)
            assert app.active_model.origin.startswith(str(folder))

    asyncio.run(scenario())


def test_worker_error_is_one_line_and_app_survives(make_app, tmp_path):
    async def scenario() -> None:
        app = make_app(str(tmp_path / "missing.tsv"))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            assert any("missing.tsv: no such file or folder" in m for m in messages)
            assert all("\n" not in m for m in messages)
            await pilot.press("3", "enter")  # nothing embedded: a warning, no crash
            await pilot.pause()
            assert any("Embed the sentences first" in n.message for n in app._notifications)
            assert app.is_running

    asyncio.run(scenario())


def test_escape_cancels_embedding_and_start_resumes(make_app, sst2_dir, tui_embedding, tmp_path, monkeypatch):
    from bertsent.core.encoding.embed import Embedder

    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path))  # nothing cached: the embedding really runs
    gate = Gate(monkeypatch, Embedder, "forward")

    async def scenario() -> None:
        app = make_app(str(sst2_dir))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            app.query_one("#embed-limit", Input).value = "200"
            await pilot.press("enter")  # focus is on Start
            await gate.wait_entered(pilot)  # the first batch is being embedded
            await pilot.press("escape")
            gate.opened.set()
            notes = app._notifications
            await settle_until(pilot, lambda: any("cancelled" in n.message for n in notes), "the cancelled note")
            cancelled = [n.message for n in app._notifications if "cancelled" in n.message]
            assert app.embedding is None and cancelled, [n.message for n in app._notifications]
            assert "run again to resume" in cancelled[0]
            assert gate.calls == 1 and list(tmp_path.rglob("*.npz"))  # one batch done, and cached

            await pilot.press("enter")
            await settle(pilot)
            embedding = app.embedding
            assert embedding is not None and len(embedding.splits.train) == 200
            texts = list(dict.fromkeys(embedding.splits.train.texts + embedding.splits.test.texts))
            batches = len(embedding.embedder.batches_of(embedding.embedder.encoder.encode_ids(texts)[0]))
            assert gate.calls == batches  # the cached batch was not embedded again
            np.testing.assert_allclose(embedding.embedded.train, tui_embedding.embedded.train, atol=1e-5)

    with gate:
        asyncio.run(scenario())


def test_escape_cancels_training(make_app, tui_embedding, monkeypatch):
    from bertsent.tui.messages import EmbedFinished
    from sklearn.linear_model import LogisticRegression

    gate = Gate(monkeypatch, LogisticRegression, "fit")

    async def scenario() -> None:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.query_one("#embed-pane").post_message(EmbedFinished(tui_embedding))
            await pilot.press("3")
            await pilot.pause()
            await pilot.press("ctrl+r")  # C empty: the cross-validated search, 5 fits per C
            await gate.wait_entered(pilot)
            await pilot.press("escape")
            gate.opened.set()
            await settle(pilot)
            assert app.result is None
            assert any("training cancelled" in n.message for n in app._notifications)
            # The folds of the first C run side by side, so some were under way (or done) while the
            # first was held; no fit of a later C started.
            assert 1 <= gate.calls <= 5
            assert "train 200 · test 200 sentences" in screen_text(app)  # the status line is back

    with gate:
        asyncio.run(scenario())


def test_fine_tune_baseline_and_runs_table(make_app, sst2_dir, tmp_path):
    from bertsent.core.models.runs import RunHistory
    from textual.widgets import ContentSwitcher, Select

    async def scenario() -> None:
        app = make_app(str(sst2_dir))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            app.query_one("#embed-limit", Input).value = "40"
            await pilot.press("3")
            app.query_one("#train-mode", Select).value = "finetune"
            await pilot.pause()
            assert app.query_one("#train-epochs", Input).display and not app.query_one("#train-c", Input).display
            assert "fine-tune minilm: 40 train, 40 test" in screen_text(app)
            app.query_one("#train-epochs", Input).value = "1"
            await pilot.press("ctrl+r")
            await settle(pilot)
            report = app.result.report
            assert report.method == "finetune" and report.n_train == 40
            assert f"Test accuracy {report.accuracy:.1%}" in screen_text(app)
            assert "minilm fine-tuned (1 epoch, lr 5e-05)" in app.active_model.origin
            assert app.active_model.model.encoder.finetuned

            await pilot.press("ctrl+b")  # the TF-IDF baseline joins the runs table
            await settle(pilot)
            assert app.query_one("#train-views", ContentSwitcher).current == "train-runs-box"
            runs = app.query_one("#train-runs", DataTable)
            assert runs.row_count == 2
            assert "TF-IDF + LR" in screen_text(app) and "minilm fine-tuned" in screen_text(app)

            folder = tmp_path / "ft"
            app.query_one("#train-out", Input).value = str(folder)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert list(folder.glob("encoder-*/model.safetensors"))
            assert RunHistory().runs()[0].model == str(folder)

            await pilot.press("ctrl+t")
            assert app.query_one("#train-views", ContentSwitcher).current == "train-mistakes-box"

            await pilot.press("4")
            app.query_one("#predict-path", Input).value = str(folder)
            await pilot.press("escape", "ctrl+o")
            await settle(pilot)
            assert app.active_model.origin.startswith(str(folder))
            assert app.active_model.model.encoder.finetuned

    asyncio.run(scenario())
