"""A Python tool's conventions: ``python -m bertsent``, ``--version`` from the metadata without heavy
imports, ``doctor``, shell completion, logging that leaves other libraries alone, the offline
variables, the run history's lock and the platform's folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from bertsent.cli.main import main

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "textual", "numpy", "sklearn", "rich")


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=True
    )


@pytest.mark.parametrize(("module", "prog"), [("bertsent", "bertsent"), ("bertsent.tui", "bertsent-tui")])
def test_version_comes_from_the_metadata_and_imports_nothing_heavy(module, prog):
    """``python -m bertsent --version`` and ``bertsent-tui --version`` print the installed
    version, and neither path imports torch, transformers, Textual or numpy."""
    done = _python(
        "import runpy, sys\n"
        "sys.argv = [sys.argv[1], '--version']\n"
        "try:\n"
        "    runpy.run_module(sys.argv[0], run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        f"print(sorted(set({HEAVY!r}) & set(sys.modules)))",
        module,
    )
    printed, heavy = done.stdout.splitlines()
    assert printed == f"{prog} {version('bertsent')}"
    assert heavy == "[]"


def test_doctor_reports_the_machine_packages_and_folders(capsys, monkeypatch, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "runs.jsonl").write_bytes(b"x" * 1500)
    monkeypatch.setenv("BERTSENT_STATE", str(state))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for section in ("\nmachine\n", "\npackages\n", "\nfolders\n", "\nhub\n"):
        assert section in out
    assert f"bertsent {version('bertsent')}" in out
    assert "fast path: bf16" in out or "fast path: fp32" in out
    assert f"  torch {version('torch')}\n" in out and f"  numpy {version('numpy')}\n" in out
    assert f"state: {state} ($BERTSENT_STATE; 1 file, 1.5 KB)" in out
    assert "HF_HUB_OFFLINE is set: local files only" in out  # the test session runs offline

    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["machine"]["precision"] in ("bf16", "fp32")
    assert {f["role"]: f["files"] for f in report["folders"]}["state"] == 1


# What each shell's script says for "train's --data completes file names".
DATA_FILES = {
    "bash": "_shtab_bertsent_train___data_COMPGEN=_shtab_compgen_files",
    "zsh": ":data:_files",
    "fish": '-l data -xka "(__fish_complete_path',
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_name_every_command(capsys, shell):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for word in ("train", "predict", "label", "doctor", "completion", "data", "model"):
        assert word in script
    assert DATA_FILES[shell] in script
    if shell == "bash" and shutil.which("bash"):
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)  # it parses


@pytest.mark.parametrize(("verbosity", "quiet"), [(None, True), ("info", False)])
def test_the_command_line_keeps_transformers_quiet_unless_asked(verbosity, quiet):
    """The CLI entry point quiets transformers (no "Loading weights" bar, no messages on stderr),
    unless ``TRANSFORMERS_VERBOSITY`` asks for its messages."""
    # without the variables that an in-process main() of another test may have left in this process
    env = {k: v for k, v in os.environ.items() if k not in ("TRANSFORMERS_VERBOSITY", "HF_HUB_DISABLE_PROGRESS_BARS")}
    if verbosity:
        env["TRANSFORMERS_VERBOSITY"] = verbosity
    done = subprocess.run(
        [sys.executable, "-m", "bertsent", "tokenize", "a good film"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert (done.stderr == "") is quiet
    assert "Loading weights" not in done.stderr


# an in-process main() of another test may have quieted huggingface_hub's bars, which then warns
@pytest.mark.filterwarnings("ignore:Cannot enable progress bars")
def test_loading_an_encoder_leaves_transformers_logging_as_it_was(tiny_encoder):
    from bertsent.core.encoding.encoder import Encoder
    from transformers.utils import logging as transformers_logging

    verbosity = transformers_logging.get_verbosity()
    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.set_verbosity_info()
    transformers_logging.enable_progress_bar()
    try:
        Encoder.load(str(tiny_encoder), device="cpu")
        assert transformers_logging.get_verbosity() == transformers_logging.INFO
        assert transformers_logging.is_progress_bar_enabled()
    finally:
        transformers_logging.set_verbosity(verbosity)
        (transformers_logging.enable_progress_bar if bars else transformers_logging.disable_progress_bar)()


def test_core_logs_through_the_bertsent_logger(tiny_encoder, caplog):
    from bertsent.core.encoding.encoder import Encoder

    with caplog.at_level("INFO", logger="bertsent"):
        Encoder.load(str(tiny_encoder), device="cpu")
    assert any(r.name.startswith("bertsent.") and "loaded" in r.getMessage() for r in caplog.records)


def test_transformers_offline_keeps_the_hub_off(monkeypatch):
    """``TRANSFORMERS_OFFLINE`` alone is honoured like ``HF_HUB_OFFLINE``: no connection is tried."""
    import socket

    from bertsent.core.base.errors import EncoderError
    from bertsent.core.encoding.encoder import Encoder

    def no_network(*args, **kwargs):
        raise OSError("a connection was tried")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(EncoderError, match="TRANSFORMERS_OFFLINE is set"):
        Encoder.load("nobody-at-all/no-such-encoder")


def test_a_held_history_lock_times_out_with_one_line(small_result, tmp_path, monkeypatch):
    import filelock
    from bertsent.core.base.errors import BertsentError
    from bertsent.core.models import runs

    monkeypatch.setattr(runs, "LOCK_TIMEOUT", 0.2)
    history = runs.RunHistory(tmp_path)
    with filelock.FileLock(tmp_path / "runs.lock"):  # another process's lock: a second descriptor
        with pytest.raises(BertsentError, match=r"runs.lock: the run history is locked .* \(waited 0.2 s\)") as error:
            history.add(runs.Run.from_report(small_result.report, data="sst2"))
    assert "\n" not in str(error.value)
    history.add(runs.Run.from_report(small_result.report, data="sst2"))  # free again
    assert len(history.runs()) == 1


def test_default_folders_are_the_xdg_ones_bertsent_always_used(monkeypatch, tmp_path):
    from bertsent.core.base.paths import cache_dir, config_dir, state_dir

    for variable in ("BERTSENT_CACHE", "BERTSENT_CONFIG", "BERTSENT_STATE", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    if sys.platform.startswith("linux"):
        assert cache_dir() == tmp_path / ".cache" / "bertsent"
        assert config_dir() == tmp_path / ".config" / "bertsent"
        assert state_dir() == tmp_path / "xdg-state" / "bertsent"
    monkeypatch.setenv("BERTSENT_CACHE", "~/elsewhere")
    assert cache_dir() == tmp_path / "elsewhere"
