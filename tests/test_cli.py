"""The `bertsent` command-line contract."""

import io
import json
import os
import re
import signal

import pytest
from bertsent.cli.main import main


def test_tokenize_json(capsys):
    assert main(["tokenize", "a visually stunning rumination on love", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ids"] == [101, 1037, 17453, 14726, 19379, 12758, 2006, 2293, 102]


def test_train_evaluate_predict(sst2_dir, tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["train", "--data", str(sst2_dir), "--limit", "300", "--C", "0.01", "--out", str(model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_train"] == 300 and report["n_test"] == 300 and 0.6 < report["accuracy"] <= 1
    assert (model / "model.json").is_file()

    held_out = tmp_path / "test.tsv"  # the last 300 test sentences: not the 300 the report used
    held_out.write_text("".join((sst2_dir / "test.tsv").read_text().splitlines(keepends=True)[-300:]))
    assert main(["evaluate", "--model", str(model), "--data", str(held_out), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["n"] == 300 and 0.6 < evaluated["accuracy"] <= 1

    assert main(["predict", "--model", str(model), "--json", "a gorgeous , witty movie", "[bold red]x[/]"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["a gorgeous , witty movie", "[bold red]x[/]"]
    assert lines[0]["label"] == 1 and lines[0]["probability"] > 0.5  # "gorgeous , witty": positive
    assert [t["token"] for t in lines[0]["tokens"]] == ["a", "gorgeous", ",", "witty", "movie"]
    assert all(isinstance(t["score"], float) for t in lines[0]["tokens"])


def test_predict_reads_stdin_and_reports_bad_lines(small_model_dir, cli):
    done = cli("predict", "--model", str(small_model_dir), "--json", stdin="a great film\n\n\x1b[31mawful\n")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["a great film", "\x1b[31mawful"]
    assert "line 2: empty sentence" in done.stderr
    assert "Traceback" not in done.stderr


TOKENLESS = "\x1b\x1b"  # only control characters: no tokens, so the sentence itself is printed


def test_predict_piped_shows_markup_and_escapes_literally(small_model_dir, capsys):
    assert main(["predict", "--model", str(small_model_dir), "[bold]loud[/] \x1b[2J", TOKENLESS]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "␛␛" in out
    assert "[" in out and "bold" in out


def test_predict_in_a_colour_terminal_shows_markup_and_escapes_literally(small_model_dir, capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich treats the captured output as a terminal
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert main(["predict", "--model", str(small_model_dir), "a gorgeous [bold]film[/]", TOKENLESS]) == 0
    out = capsys.readouterr().out
    assert "\x1b[38;2;" in out  # the coloured path ran
    assert "\x1b" not in re.sub(r"\x1b\[[0-9;]*m", "", out)  # colours are the only escapes that reach the terminal
    assert "␛␛" in out and "[" in out and "bold" in out


def test_no_color_turns_the_colours_off_in_a_colour_terminal(small_model_dir, capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.setenv("NO_COLOR", "1")
    assert main(["predict", "--model", str(small_model_dir), "a gorgeous film"]) == 0
    out = capsys.readouterr().out
    assert "gorgeous" in out and not re.search(r"\x1b\[[0-9;]*3[0-9;]*m", out)  # no foreground colour at all


@pytest.mark.parametrize(("args", "stdin"), [(["", "  "], ""), ([], "\n \n"), ([], "")])
def test_predict_with_nothing_predicted_exits_2(small_model_dir, capsys, monkeypatch, args, stdin):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))  # the CLI reads its bytes
    assert main(["predict", "--model", str(small_model_dir), "--json", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "empty sentence" in captured.err or "nothing to predict" in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--data", "/nowhere/x.tsv", "--out", "/tmp/x"], "no such file or folder"),
        (["predict", "--model", "/nowhere/model", "hi"], "no such model folder"),
        (["tokenize", "hi", "--encoder", "/nowhere/model"], "does not exist"),
        (["train", "--finetune", "--pooling", "cls", "--out", "/tmp/x"], "--pooling, --layers and --C do not apply"),
        (["train", "--finetune", "--precision", "bf16", "--out", "/tmp/x"], "--precision does not apply"),
        (["tokenize", "hi", "--precision", "int8"], "argument --precision: invalid choice: 'int8'"),
    ],
)
def test_errors_exit_2_with_one_line(args, message, cli):
    done = cli(*args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_bad_data_line_is_named(tmp_path, cli):
    bad = tmp_path / "bad.tsv"
    bad.write_text("fine\t1\nbroken\t\n")
    done = cli("train", "--data", str(bad), "--out", str(tmp_path / "m"))
    assert done.returncode == 2 and f"{bad}:2: empty label" in done.stderr


def test_one_class_cannot_train(tmp_path, cli):
    one = tmp_path / "one.tsv"
    one.write_text("".join(f"film {i}\t1\n" for i in range(20)))
    done = cli("train", "--data", str(one), "--out", str(tmp_path / "m"))
    assert done.returncode == 2 and "one class only ('1'); need at least 2 classes" in done.stderr


def test_finetune_baseline_and_runs(tiny_distilbert, sst2_dir, tmp_path, capsys, monkeypatch):
    model = tmp_path / "ft"
    args = ["train", "--finetune", "--encoder", str(tiny_distilbert), "--data", str(sst2_dir), "--limit", "40"]
    assert main([*args, "--epochs", "1", "--batch-size", "8", "--out", str(model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == "finetune" and report["settings"]["epochs"] == 1 and report["C"] is None
    assert list(model.glob("encoder-*/model.safetensors"))
    assert main(["predict", "--model", str(model), "--json", "--no-scores", "fine"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] in (0, 1)

    assert main(["baseline", "--data", str(sst2_dir), "--limit", "300", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "tfidf"

    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in runs] == ["finetune", "tfidf"]
    assert runs[0]["model"] == str(model) and runs[1]["model"] is None
    monkeypatch.setenv("COLUMNS", "200")  # the whole names (80 columns: test_runs)
    assert main(["runs"]) == 0
    table = capsys.readouterr().out
    assert "fine-tuned, 1 epoch" in table and "TF-IDF + LR" in table


def test_data_summarizes_sst2(sst2_dir, capsys):
    assert main(["data", "--data", str(sst2_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["given_split"] and out["train"]["n"] == 6920 and out["test"]["n"] == 1821
    assert out["train"]["per_label"] == {"negative": 3310, "positive": 3610}
    assert out["test"]["per_label"] == {"negative": 912, "positive": 909}
    assert out["train"]["tokens"]["min"] >= 3 and out["train"]["tokens"]["max"] < 100  # [CLS] + words + [SEP]


def test_skip_bad_skips_and_counts_rows_that_otherwise_stop_the_command(tmp_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "train.tsv").write_text("a good film\t1\na bad film\t0\nno tab here\nugly\t\nfine\t1\nweak\t0\n")
    (folder / "test.tsv").write_text("great\t1\nawful\t0\n")
    assert main(["data", "--data", str(folder)]) == 2
    assert f"{folder / 'train.tsv'}:3: missing column" in capsys.readouterr().err
    assert main(["data", "--data", str(folder), "--skip-bad"]) == 0
    captured = capsys.readouterr()
    assert "4 sentences (negative 2, positive 2)" in captured.out
    assert "skipped 1 row(s): missing column, 1 row(s): empty label" in captured.err


def test_data_with_nothing_to_find_is_one_line(monkeypatch, tmp_path, capsys):
    from bertsent.core.data import sources

    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path))
    closed = {"train.tsv": {"url": "http://127.0.0.1:9/train.tsv", "sha256": "0" * 64}}
    monkeypatch.setattr(sources, "manifest", lambda: {"files": closed})
    assert main(["data"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--data PATH" in err


def test_no_cv_fits_the_tutorials_fixed_c(sst2_dir, tmp_path, capsys):
    model = tmp_path / "m"
    assert main(["train", "--data", str(sst2_dir), "--limit", "100", "--no-cv", "--out", str(model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["C"] == 1.0 and report["cv"] is None


class CtrlC:
    """Presses Ctrl-C as a terminal does (SIGINT to this process) on the ``at``-th call, once."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, []

    def __call__(self, value: object) -> None:
        self.calls.append(value)
        if len(self.calls) == self.at:
            self.at = 0  # before the kill: the default handler raises KeyboardInterrupt right there
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_while_embedding_exits_130_and_the_same_command_resumes(
    encoder, sst2_dir, tmp_path, monkeypatch, capsys
):
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import Embedder

    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))
    batches = CtrlC(at=3)
    real = Embedder.forward

    def forward(embedder, ids):
        batches(len(ids))
        return real(embedder, ids)

    monkeypatch.setattr(Embedder, "forward", forward)
    # Count the embedding's batches only: the bf16 check at save time runs forward passes of its own.
    monkeypatch.setattr("bertsent.core.models.fastpath.check_fast_path", lambda *args: None)
    args = ["train", "--data", str(sst2_dir), "--limit", "100", "--C", "1", "--out", str(tmp_path / "m"), "--json"]
    assert main(args) == 130
    assert "interrupted; finished embeddings are cached, run again to resume" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()

    batches.calls.clear()
    assert main(args) == 0
    splits = load_splits(sst2_dir, limit=100)
    texts = list(dict.fromkeys(splits.train.texts + splits.test.texts))
    assert len(batches.calls) == len(Embedder(encoder).batches_of(encoder.encode_ids(texts)[0])) - 2  # 2 were cached
    assert (tmp_path / "m" / "model.json").is_file()


def test_ctrl_c_while_fine_tuning_checkpoints_and_the_same_command_resumes(
    tiny_distilbert, sst2_dir, tmp_path, monkeypatch, capsys
):
    from bertsent.cli.common import Progress

    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))
    steps = CtrlC(at=3)
    real = Progress.job

    def training(progress, update):
        real(progress, update)
        if update.stage == "fine-tuning":
            steps(update.done)

    monkeypatch.setattr(Progress, "job", training)
    args = ["train", "--finetune", "--encoder", str(tiny_distilbert), "--data", str(sst2_dir), "--limit", "40"]
    args += ["--epochs", "2", "--batch-size", "8", "--out", str(tmp_path / "ft"), "--json"]
    assert main(args) == 130
    assert "fine-tuning stopped at step 3 of 10; run again to resume" in capsys.readouterr().err
    checkpoints = tmp_path / "cache" / "finetune"
    assert len(list(checkpoints.glob("*.pt"))) == 1

    steps.calls.clear()
    assert main(args) == 0
    assert steps.calls == list(range(4, 11))  # resumed after step 3
    assert not list(checkpoints.glob("*.pt")) and json.loads(capsys.readouterr().out)["method"] == "finetune"
