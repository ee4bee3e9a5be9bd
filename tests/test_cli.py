"""The `bertsent` command-line contract."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bertsent.cli.main import main

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bertsent.cli", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=300,
    )


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

    assert main(["evaluate", "--model", str(model), "--data", str(sst2_dir / "test.tsv"), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["n"] == 1821 and 0.6 < evaluated["accuracy"] <= 1

    assert main(["predict", "--model", str(model), "--json", "a gorgeous , witty movie", "[bold red]x[/]"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["a gorgeous , witty movie", "[bold red]x[/]"]
    assert lines[0]["label"] in (0, 1) and 0 <= lines[0]["probability"] <= 1
    assert [t["token"] for t in lines[0]["tokens"]] == ["a", "gorgeous", ",", "witty", "movie"]
    assert all(isinstance(t["score"], float) for t in lines[0]["tokens"])


def test_predict_reads_stdin_and_reports_bad_lines(small_model_dir):
    done = run_cli("predict", "--model", str(small_model_dir), "--json", stdin="a great film\n\n\x1b[31mawful\n")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["a great film", "\x1b[31mawful"]
    assert "line 2: cannot predict an empty sentence" in done.stderr
    assert "Traceback" not in done.stderr


def test_predict_in_a_terminal_shows_markup_and_escapes_literally(small_model_dir, capsys):
    assert main(["predict", "--model", str(small_model_dir), "[bold]loud[/] \x1b[2J"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "[" in out and "bold" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--data", "/nowhere/x.tsv", "--out", "/tmp/x"], "no such file or folder"),
        (["predict", "--model", "/nowhere/model", "hi"], "no such model folder"),
        (["tokenize", "hi", "--encoder", "/nowhere/model"], "does not exist"),
        (["train", "--finetune", "--pooling", "cls", "--out", "/tmp/x"], "--pooling and --C do not apply"),
        (["train", "--finetune", "--precision", "int8", "--out", "/tmp/x"], "--precision does not apply"),
    ],
)
def test_errors_exit_2_with_one_line(args, message):
    done = run_cli(*args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_bad_data_line_is_named(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("fine\t1\nbroken\t\n")
    done = run_cli("train", "--data", str(bad), "--out", str(tmp_path / "m"))
    assert done.returncode == 2 and f"{bad}:2: empty label" in done.stderr


def test_one_class_cannot_train(tmp_path):
    one = tmp_path / "one.tsv"
    one.write_text("".join(f"film {i}\t1\n" for i in range(20)))
    done = run_cli("train", "--data", str(one), "--out", str(tmp_path / "m"))
    assert done.returncode == 2 and "one class only ('1'); need at least 2 classes" in done.stderr


def test_finetune_baseline_and_runs(tiny_distilbert, sst2_dir, tmp_path, capsys):
    from bertsent.core.runs import RunHistory

    RunHistory().clear()
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
    assert main(["runs"]) == 0
    table = capsys.readouterr().out
    assert "fine-tuned, 1 epoch" in table and "TF-IDF + LR" in table
