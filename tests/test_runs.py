"""Run history and the TF-IDF baseline."""

import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from bertsent.core.models.baseline import tfidf_report
from bertsent.core.models.runs import Run, RunHistory

REPO = Path(__file__).resolve().parents[1]


def test_runs_are_recorded_updated_and_read_back(small_result, tmp_path):
    history = RunHistory(tmp_path)
    assert history.runs() == []
    run = history.add(Run.from_report(small_result.report, data="sst2", data_sha256=small_result.data_hash))
    assert run.method == "frozen" and run.settings["C"] == small_result.report.C and run.settings["cv"] is False
    assert run.what == "minilm layers + LR"
    history.set_model(run.id, "models/m")
    (again,) = RunHistory(tmp_path).runs()
    assert again.model == "models/m" and again.accuracy == small_result.report.accuracy
    assert again.macro_f1 == small_result.report.macro_f1


BAD_LINES = [
    b'{"id": "half a line',
    b"[1, 2]",
    b"\xff\xfe not UTF-8",
    b"[" * 100_000,  # deeper than the JSON parser can go
    b'{"accuracy": NaN}',
]


def test_unreadable_lines_and_unknown_fields_are_kept_by_every_rewrite(small_result, tmp_path):
    history = RunHistory(tmp_path)
    run = history.add(Run.from_report(small_result.report, data="sst2"))
    wrong_types = json.loads(history.path.read_text())
    wrong_types.update(accuracy="high", n_train=None, id="typed")
    bad = [*BAD_LINES, json.dumps(wrong_types).encode()]
    future = {**json.loads(history.path.read_text()), "id": "future", "labels": ["a", "b", "c"]}
    with open(history.path, "ab") as handle:
        handle.write(b"\n".join([*bad, json.dumps(future).encode()]) + b"\n")
    assert [r.id for r in history.runs()] == [run.id, "future"] and history.skipped == len(bad)

    history.add(Run.from_report(small_result.report, data="sst2"))
    history.set_model("future", "models/f")
    lines = history.path.read_bytes().splitlines()
    assert lines[1 : 1 + len(bad)] == bad  # byte for byte, in place
    assert json.loads(lines[1 + len(bad)]) == {**future, "model": "models/f"}  # its unknown field kept
    assert len(history.runs()) == 3 and history.skipped == len(bad)


def test_runs_command_shows_readable_runs_despite_wrong_types(small_result, tmp_path, cli):
    history = RunHistory(tmp_path)
    history.add(Run.from_report(small_result.report, data="sst2"))
    with open(history.path, "ab") as handle:
        handle.write(b"\n".join(BAD_LINES) + b'\n{"id": "x", "accuracy": "high"}\n')
    for args in ([], ["--json"]):
        done = cli("runs", *args, env={"BERTSENT_STATE": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        assert f"skipped {len(BAD_LINES) + 1} unreadable line(s)" in done.stderr
    assert len(json.loads(done.stdout)) == 1


def test_two_processes_adding_runs_lose_none(small_result, tmp_path):
    record = json.dumps(small_result.report.to_dict())
    code = (
        "import json, sys\n"
        "from bertsent.core.models.report import Report\n"
        "from bertsent.core.models.runs import Run, RunHistory\n"
        f"report = Report.from_dict(json.loads({record!r}))\n"
        "for _ in range(15):\n"
        f"    RunHistory({str(tmp_path)!r}).add(Run.from_report(report, data='x'))\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO) for _ in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert len(RunHistory(tmp_path).runs()) == 30


@pytest.mark.accuracy
def test_tfidf_baseline_on_the_real_split(sst2_splits, monkeypatch):
    from bertsent.core.models import baseline

    # The two Cs around the one the full grid picks (3.0): the weakly regularized fits (C 10, 30)
    # cost most of the search's time and never win here.
    monkeypatch.setattr(baseline, "CS", (1.0, 3.0))
    report = tfidf_report(sst2_splits)
    assert report.method == "tfidf" and report.n_test == 1821
    assert 0.78 < report.accuracy < 0.86  # 81.6% measured; well above the 50% majority baseline
    assert report.C == 3.0
    assert Run.from_report(report, data="sst2").what == "TF-IDF + LR"


def test_runs_table_fits_80_columns_one_line_per_run(small_result):
    from bertsent.cli.runs import runs_table
    from rich.console import Console

    long_model = "models/" + "a-very-long-folder-name/" * 4 + "minilm-layers"
    runs = [
        Run.from_report(small_result.report, data="sst2", model=long_model),
        replace(Run.from_report(small_result.report, data="sst2"), encoder="/some/where/" + "x" * 60),
    ]
    for width in (80, 60, 120):
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(runs_table(runs, width))
        lines = console.export_text().splitlines()
        assert len(lines) == 1 + len(runs) and all(line.strip() for line in lines), lines  # no wrapped lines
        assert max(len(line) for line in lines) <= width
        assert lines[1].rstrip().endswith("minilm-layers")  # a cut path keeps its last part
        assert "…" in lines[2]
    assert "F1" in lines[0] and "when" in lines[0]  # 120 columns: nothing dropped
