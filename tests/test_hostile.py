"""Hostile input through the CLI and core: one line and exit 2, nothing lost, text shown literally.

Each test is named after the class of input it covers (the classes of issue 11).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bertsent.cli.main import main
from bertsent.core.base import jsonio
from bertsent.core.base.errors import DataError, ModelFileError
from bertsent.core.data.dataset import load_dataset
from bertsent.core.encoding.encoder import CHARS_PER_TOKEN
from bertsent.core.models.persist import load_model

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``bertsent ARGS`` in a fresh interpreter, as a user runs it: every warning a library prints,
    at import too, reaches its stderr."""
    return subprocess.run([sys.executable, "-m", "bertsent.cli", *args], cwd=REPO, capture_output=True, timeout=300)


def one_line(done, status: int = 2) -> str:
    """The run (a subprocess or ``cli``) ended with ``status`` and said one line on stderr, no traceback."""
    err = done.stderr.decode("utf-8") if isinstance(done.stderr, bytes) else done.stderr
    assert done.returncode == status, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


# 1. --out that cannot be written


@pytest.mark.parametrize("out", ["a_file", "a_file/inside", "foreign"])
def test_unwritable_out_is_refused_before_any_work(sst2_dir, tmp_path, out, cli):
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("keep")
    cache = tmp_path / "cache"
    args = ["train", "--data", str(sst2_dir), "--limit", "50", "--out", str(tmp_path / out)]
    done = cli(*args, env={"BERTSENT_CACHE": str(cache)})
    assert "choose another --out" in one_line(done)
    assert not cache.exists()  # refused before embedding anything


def test_a_fit_that_cannot_be_saved_is_kept_and_recorded(sst2_dir, tmp_path, monkeypatch, capsys):
    import bertsent.core.models.persist as persist
    from bertsent.core.models.runs import RunHistory

    real_save = persist.save_model
    out = tmp_path / "model"

    def save_fails_at_out(model, folder, **kwargs):
        if Path(folder) == out:  # the disk filled up, say, after the checks before the work
            raise ModelFileError(f"{folder}: cannot save the model: No space left on device")
        return real_save(model, folder, **kwargs)

    monkeypatch.setattr(persist, "save_model", save_fails_at_out)
    args = [
        "train",
        "--data",
        str(sst2_dir),
        "--limit",
        "60",
        "--pooling",
        "cls",
        "--C",
        "1",
        "--out",
        str(out),
        "--json",
    ]
    assert main(args) == 2
    captured = capsys.readouterr()
    kept = json.loads(captured.out)["model"]
    assert "No space left on device; the model was saved to" in captured.err and kept in captured.err
    assert RunHistory().runs()[-1].model == kept
    assert load_model(kept).model.predict_proba(["fine"]).shape == (1, 2)


# 2. Invalid UTF-8 from the command line or stdin


def test_invalid_utf8_on_stdin_fails_that_line_only(small_model_dir, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"good movie\n\xff\xfe bad\nfine\n")))
    assert main(["predict", "--model", str(small_model_dir), "--json", "--no-scores"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["text"] for line in captured.out.splitlines()] == ["good movie", "fine"]
    assert "line 2: bad encoding: not valid UTF-8 text (byte 0xff at character 1)" in captured.err


def test_invalid_utf8_arguments(small_model_dir, capsys):
    bad = os.fsdecode(b"\xff\xfe bad")  # how Python hands such an argument over
    assert main(["tokenize", bad]) == 2
    assert "not valid UTF-8 text (byte 0xff at character 1)" in capsys.readouterr().err
    assert main(["predict", "--model", str(small_model_dir), "--json", "--no-scores", "good", bad]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["text"] for line in captured.out.splitlines()] == ["good"]
    assert "line 2: bad encoding: not valid UTF-8" in captured.err


def test_lone_surrogate_in_a_jsonl_row_is_a_bad_row(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "fine", "label": 1}\n{"text": "bad \\ud800", "label": 0}\n')
    with pytest.raises(DataError, match=r"rows.jsonl:2: bad encoding: not valid UTF-8 text \(lone surrogate U\+D800"):
        load_dataset(path)


# 6. Cache, state or config paths that are files, not folders


@pytest.mark.parametrize("variable", ["BERTSENT_STATE", "BERTSENT_CACHE"])
@pytest.mark.parametrize("inside", [False, True])
def test_state_or_cache_that_is_a_file_stops_train_before_work(sst2_dir, tmp_path, variable, inside, cli):
    (tmp_path / "file").write_text("x")
    path = tmp_path / "file" / "sub" if inside else tmp_path / "file"
    out = tmp_path / "model"
    done = cli("train", "--data", str(sst2_dir), "--limit", "50", "--out", str(out), env={variable: str(path)})
    assert "is not a folder" in one_line(done)
    assert not out.exists()


def test_run_history_and_cache_that_are_files_give_one_line(small_model_dir, sst2_dir, tmp_path, cli):
    (tmp_path / "file").write_text("x")
    assert "cannot read the run history" in one_line(cli("runs", env={"BERTSENT_STATE": str(tmp_path / "file")}))
    (tmp_path / "state" / "runs.jsonl").mkdir(parents=True)  # the history file is a folder
    assert "run history" in one_line(cli("runs", env={"BERTSENT_STATE": str(tmp_path / "state")}))
    (tmp_path / "few.tsv").write_text("a fine film\t1\na dull film\t0\n")
    done = cli(
        "evaluate", "--model", str(small_model_dir), "--data", str(tmp_path / "few.tsv"),
        env={"BERTSENT_CACHE": str(tmp_path / "file")},
    )  # fmt: skip
    assert "embedding cache" in one_line(done)


def test_tui_config_that_is_a_file_or_folder_is_no_error(tmp_path, monkeypatch):
    from bertsent.tui import config

    for kind in ("file", "folder", "deep"):
        root = tmp_path / kind
        if kind == "file":
            root.write_text("x")
        else:
            root.mkdir()
            (root / "tui.json").mkdir() if kind == "folder" else (root / "tui.json").write_text("[" * 100_000)
        monkeypatch.setenv("BERTSENT_CONFIG", str(root))
        assert config.load() == {}
        config.remember(data="x")  # silently not remembered


# 8. Pathological data rows


def test_deeply_nested_json_rows_are_bad_rows(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "fine", "label": 1}\n' + "[" * 100_000 + "\n")
    with pytest.raises(DataError, match=r"deep.jsonl:2: bad JSON: nested too deeply"):
        load_dataset(path)
    assert len(load_dataset(path, skip_bad=True)) == 1


# 9. One huge sentence: the work per row is bounded


def test_a_huge_row_is_tokenized_only_as_far_as_needed(encoder, monkeypatch):
    words = " ".join(["a surprisingly good film ,"] * 200_000)  # 5 MB, about a million tokens
    spaced = "good " + " " * 100_000 + "film " * 1000  # mostly spaces: more must be read
    texts = ["short one", words, spaced]
    limit = encoder.max_length
    expected = [encoder.tokenizer(t[:200_000])["input_ids"] for t in texts]  # whole words up to past the limit
    seen = []
    real = encoder.tokenizer

    class Recording:
        def __call__(self, batch, **kwargs):
            seen.extend(len(t) for t in batch)
            return real(batch, **kwargs)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(encoder, "tokenizer", Recording())
    ids, lengths = encoder.encode_ids(texts)
    assert max(seen) <= 4 * 4 * CHARS_PER_TOKEN * limit  # never the 5 MB row whole
    for got, want, length in zip(ids, expected, lengths, strict=True):
        assert got == (want if len(want) <= limit else want[: limit - 1] + want[-1:])
        assert (length > limit) == (len(want) > limit)


# 12. Closed pipe


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_closed_pipe_is_a_normal_end(small_model_dir, mode):
    lines = "".join(f"a fine film , number {i}\n" for i in range(300)).encode()  # 5 blocks of 64
    process = subprocess.Popen(
        [sys.executable, "-m", "bertsent.cli", "predict", "--model", str(small_model_dir), "--no-scores", *mode],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdin.write(lines)
    process.stdin.close()
    assert process.stdout.readline()  # `| head -1`
    process.stdout.close()
    assert process.wait(timeout=300) == 0
    assert process.stderr.read() == b""


# 13. Extreme numbers


@pytest.mark.parametrize(
    "option", [["--C", "inf"], ["--C", "nan"], ["--C", "1e-300"], ["--C", "-1"], ["--lr", "inf"], ["--seed", "-1"]]
)
def test_numbers_outside_a_sane_range_are_refused_in_one_line(option, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["train", "--out", "/tmp/never", *option])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and option[0] in err


def test_json_output_is_strict():
    text = jsonio.dumps({"C": float("inf"), "x": [float("nan"), np.float32(0.5)], "n": np.int64(3)})
    assert json.loads(text, parse_constant=lambda name: pytest.fail(name)) == {"C": None, "x": [None, 0.5], "n": 3}
    with pytest.raises(ValueError):
        jsonio.loads('{"accuracy": Infinity}')


def test_a_tiny_C_gives_one_note_not_screens_of_warnings(sst2_dir, tmp_path):
    """A subprocess: the warnings scikit-learn would print reach stderr only in a real process."""
    args = ["train", "--data", str(sst2_dir), "--limit", "100", "--pooling", "cls", "--C", "1e-5", "--json"]
    args += ["--out", str(tmp_path / "m")]
    err = one_line(run_cli(*args), status=0)
    assert "predicts one label for every test sentence (C = 1e-05 may be too small" in err


# 14. Literal text


def test_predict_json_escapes_terminal_controls_and_keeps_the_text(small_model_dir, capsys):
    text = "nice \u009b31m film \u202eevil\u202c \x1b[2J \u2028 end"
    assert main(["predict", "--model", str(small_model_dir), "--json", "--no-scores", text]) == 0
    out = capsys.readouterr().out
    for raw in ("\u009b", "\u202e", "\u202c", "\x1b", "\u2028"):
        assert raw not in out
    assert json.loads(out)["text"] == text


def test_a_row_starting_with_nul_is_an_ordinary_row(tmp_path):
    path = tmp_path / "nul.tsv"
    path.write_bytes(b"\x00good\tfilm\t1\n\x00fine film\t1\n")
    with pytest.raises(DataError, match=r"nul.tsv:1: extra columns"):
        load_dataset(path)
    assert load_dataset(path, skip_bad=True).texts == ["\x00fine film"]


def test_files_written_follow_the_umask(small_result, tmp_path):
    from bertsent.core.base.files import atomic_write_text, follow_umask
    from bertsent.core.models.persist import save_model

    old = os.umask(0o022)
    try:
        folder = save_model(small_result.model, tmp_path / "m", report=small_result.report)
        atomic_write_text(tmp_path / "t.txt", "x")
        made = tmp_path / "made"
        made.mkdir(mode=0o700)
        follow_umask(made, directory=True)
    finally:
        os.umask(old)
    assert {oct(p.stat().st_mode & 0o777) for p in folder.iterdir()} == {"0o644"}
    assert oct((tmp_path / "t.txt").stat().st_mode & 0o777) == "0o644"
    assert oct(made.stat().st_mode & 0o777) == "0o755"
