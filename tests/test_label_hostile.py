"""`bertsent label` as a hostile user drives it (issue 18): nothing lost, nothing changed, one line.

Each test names the defect class it covers: A1-A8 (data lost or changed with exit 0), C1 (a
tampered journal), E (SIGTERM), F (destination checks before the work), G (ambiguous header,
where a line ends, disk full).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import warm
from bertsent.core.base.errors import DataError
from bertsent.core.data.dataset import load_dataset
from bertsent.core.data.table import open_table
from bertsent.core.labelling.label import Journal, label_file
from bertsent.core.models.persist import load_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model(small_model_dir):
    """0/1 SST2 labels, named negative/positive."""
    return load_model(small_model_dir).model


@pytest.fixture(scope="module")
def five(encoder, sst5_dir):
    """Five text labels: the first 150 SST-5 training sentences."""
    from bertsent.core.data.dataset import Splits
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.train import train

    data = load_dataset(sst5_dir / "train.csv").head(150)
    return train(Embedder(encoder), Splits(data, load_dataset(sst5_dir / "test.csv").head(50), True), C=0.01).model


def _lines(n: int) -> str:
    return "".join(f"sentence {i} is a {'fine' if i % 2 else 'dull'} film\n" for i in range(n))


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# A1. a parts folder bertsent did not make


def test_a1_a_parts_folder_bertsent_did_not_make_is_refused_and_kept(model, tmp_path):
    (tmp_path / "in.txt").write_text(_lines(5))
    foreign = tmp_path / "out.csv.parts"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="was not made by bertsent label; move it away or choose another --out"):
        label_file(model, tmp_path / "in.txt", tmp_path / "out.csv")
    assert (foreign / "notes.txt").read_text() == "mine" and not (tmp_path / "out.csv").exists()


# A2. a pipe read once


@pytest.mark.parametrize("how", ["pipe path", "stdin"])
def test_a2_a_pipe_is_read_once_and_every_row_comes_out(model, tmp_path, monkeypatch, how):
    first, rest = _lines(1), _lines(40)[len(_lines(1)) :]
    if how == "stdin":
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((first + rest).encode())))
        source = "-"
    else:
        read, write = os.pipe()

        def feed() -> None:  # a slow producer (zcat, a download): the rest arrives after the first read
            os.write(write, first.encode())
            time.sleep(0.5)
            os.write(write, rest.encode())
            os.close(write)

        threading.Thread(target=feed, daemon=True).start()
        source = f"/dev/fd/{read}"
    totals = []
    result = label_file(
        model,
        source,
        tmp_path / "out.csv",
        input_format="lines",
        window_rows=16,
        progress=lambda p: totals.append(p.total),
    )
    rows = _csv_rows(tmp_path / "out.csv")
    assert result.rows == 40 and len(rows) == 41 and [r[0] for r in rows[1:]] == _lines(40).splitlines()
    assert set(totals) == {40}  # the copy is counted: the progress bar has a total
    assert not (tmp_path / "out.csv.parts").exists()


# A3. two runs into one --out


def test_a3_a_second_run_into_the_same_out_stops_and_the_first_is_unharmed(model, tmp_path):
    (tmp_path / "in.txt").write_text(_lines(40))
    first_part, go_on = threading.Event(), threading.Event()
    outcome = {}

    def hold(p) -> None:
        if p.done >= 16:
            first_part.set()
            go_on.wait(60)

    def first_run() -> None:
        outcome["result"] = label_file(model, tmp_path / "in.txt", tmp_path / "out.csv", window_rows=16, progress=hold)

    runner = threading.Thread(target=first_run)
    runner.start()
    assert first_part.wait(120)
    try:
        with pytest.raises(DataError, match="another 'bertsent label' is writing .*out.csv"):
            label_file(model, tmp_path / "in.txt", tmp_path / "out.csv", all_probabilities=True)
    finally:
        go_on.set()
        runner.join(120)
    rows = _csv_rows(tmp_path / "out.csv")
    assert outcome["result"].rows == 40 and len(rows) == 41 and {len(r) for r in rows} == {4}


# A4. TSV and quotes


def test_a4_tsv_output_keeps_quotes_and_reads_back_the_same(five, tmp_path):
    (tmp_path / "in.tsv").write_text('text\tlabel\n"quoted" start\t1\nsays "hi" twice "x\t0\n')
    (tmp_path / "in.csv").write_text('text,label\n"a ""q"" b, and a\ttab",1\n')
    label_file(five, tmp_path / "in.tsv", tmp_path / "out.tsv")
    label_file(five, tmp_path / "in.csv", tmp_path / "from_csv.tsv")
    rows = [row for _, row in open_table(tmp_path / "out.tsv").rows()]
    assert [r["text"] for r in rows] == ['"quoted" start', 'says "hi" twice "x']
    assert all(r["predicted_label"] in five.classes.names and r["error"] == "" for r in rows)
    (row,) = [row for _, row in open_table(tmp_path / "from_csv.tsv").rows()]
    assert row["text"] == 'a "q" b, and a tab'  # the documented rule: a tab becomes a space, quotes stay


# A5. JSONL columns are every key of every row


def test_a5_jsonl_columns_are_the_union_and_no_later_key_is_overwritten(five, tmp_path):
    lines = ["{broken", '{"text": "a dull film"}', '{"text": "a fine film", "label": "mine", "note": [1]}']
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    label_file(five, tmp_path / "in.jsonl", tmp_path / "out.jsonl")
    label_file(five, tmp_path / "in.jsonl", tmp_path / "out.csv")
    bad, dull, fine = (json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines())
    assert bad["error"].startswith("line 1: bad JSON") and "text" not in bad
    assert fine["label"] == "mine" and fine["note"] == [1] and fine["predicted_label"] in five.classes.names
    assert dull["predicted_label"] in five.classes.names and "label" not in dull
    header, *rows = _csv_rows(tmp_path / "out.csv")
    assert header == ["text", "label", "note", "predicted_label", "probability", "error"]
    assert rows[2][:3] == ["a fine film", "mine", "[1]"] and rows[1][:3] == ["a dull film", "", ""]


# A6. numbers as they came in


def test_a6_numbers_keep_their_text_and_jsonl_stays_strict(model, tmp_path):
    numbers = ["1e-09", "1e20", "1e999", "-0", "1.50", "9" * 5000, "-1E+2"]
    deep = "[" * 600 + "0.10" + "]" * 600
    line = '{"text": "a fine film", ' + ", ".join(f'"n{i}": {n}' for i, n in enumerate(numbers))
    (tmp_path / "in.jsonl").write_text(line + f', "deep": {deep}}}\n')
    label_file(model, tmp_path / "in.jsonl", tmp_path / "out.csv")
    label_file(model, tmp_path / "in.jsonl", tmp_path / "out.jsonl")
    header, row = _csv_rows(tmp_path / "out.csv")
    assert row[1 : 1 + len(numbers)] == numbers and row[header.index("deep")] == deep
    out = (tmp_path / "out.jsonl").read_text()

    def no_constants(name):
        raise AssertionError(f"{name} is not strict JSON")

    json.loads(out, parse_constant=no_constants, parse_int=str, parse_float=str)
    assert all(f": {n}," in out for n in numbers) and f'"deep": {deep},' in out


# A7. CSV rows neither added, dropped nor merged


def test_a7_blank_lines_before_the_header_an_empty_row_and_an_unclosed_quote(model, tmp_path):
    (tmp_path / "in.csv").write_text('\n\ntext,label\ngreat,1\n,\n"unclosed,0\nfine film,1\nbad film,0\n')
    result = label_file(model, tmp_path / "in.csv", tmp_path / "out.csv")
    header, *rows = _csv_rows(tmp_path / "out.csv")
    assert header[:2] == ["text", "label"] and (result.rows, result.bad) == (5, 2)
    assert [r[0] for r in rows] == ["great", "", "", "fine film", "bad film"]
    assert rows[1][-1] == "line 5: empty row: all 2 fields are empty"
    assert rows[2][-1].startswith("line 6: unclosed quote")
    data = load_dataset(tmp_path / "in.csv", skip_bad=True)  # training reads the same way
    assert sorted(str(label) for label in set(data.labels.tolist())) == ["0", "1"] and len(data) == 3


# A8 and F. destinations refused before any work


@pytest.mark.parametrize("out", ["model/model.json", "model/labels.csv", "a_folder", "a_file/out.csv"])
def test_a8_f_a_destination_that_would_destroy_something_is_refused_before_the_work(
    small_model_dir, model, tmp_path, out
):
    import shutil

    shutil.copytree(small_model_dir, tmp_path / "model")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "in.txt").write_text(_lines(3))
    before = (tmp_path / "model" / "model.json").read_bytes()
    work = []
    with pytest.raises(DataError, match="choose another --out") as error:
        label_file(model, tmp_path / "in.txt", tmp_path / out, progress=work.append)
    assert not work and ".part" not in str(error.value)
    assert (tmp_path / "model" / "model.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "a_folder", "in.txt", "model"]


# C1. a tampered journal


def _interrupted(model, tmp_path) -> Path:
    (tmp_path / "in.txt").write_text(_lines(40))

    journal = tmp_path / "out.csv.parts" / "journal.json"

    def stop(p):
        if journal.exists():  # the first part is finished
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        label_file(model, tmp_path / "in.txt", tmp_path / "out.csv", window_rows=16, progress=stop)
    return journal


@pytest.mark.parametrize(
    "tamper",
    [
        lambda j: j["parts"].__setitem__(0, 7),
        lambda j: j["parts"].__setitem__(0, None),
        lambda j: j["parts"][0].__setitem__("rows", "16"),
        lambda j: j["parts"][0].__setitem__("bad", 17),
        lambda j: j.__setitem__("parts", {"0": 1}),
        lambda j: j.clear(),
    ],
    ids=["number", "null", "text-count", "more-bad-than-rows", "parts-object", "empty"],
)
def test_c1_a_tampered_journal_is_one_line_naming_it(model, tmp_path, tamper):
    journal = _interrupted(model, tmp_path)
    saved = json.loads(journal.read_text())
    tamper(saved)
    journal.write_text(json.dumps(saved))
    with pytest.raises(
        DataError, match=r"journal.json: damaged \(.*\); delete the folder .*out.csv.parts to start over"
    ):
        label_file(model, tmp_path / "in.txt", tmp_path / "out.csv", window_rows=16)


@pytest.mark.parametrize("replace", ["folder", "null", "symlink"])
def test_c1_a_journal_that_is_not_a_json_object_file_is_one_line(model, tmp_path, replace):
    journal = _interrupted(model, tmp_path)
    journal.unlink()
    if replace == "folder":
        journal.mkdir()
    elif replace == "null":
        journal.write_text("null")
    else:
        journal.symlink_to("/dev/zero")
    with pytest.raises(DataError, match="journal.json: damaged"):
        label_file(model, tmp_path / "in.txt", tmp_path / "out.csv", window_rows=16)


# E. SIGTERM


def test_e_sigterm_exits_143_and_the_rerun_resumes(small_model_dir, tmp_path):
    (tmp_path / "in.txt").write_text(_lines(200))
    command = [sys.executable, "-m", "bertsent.cli", "label", str(tmp_path / "in.txt"), "--model", str(small_model_dir)]
    command += ["--out", str(tmp_path / "out.csv"), "--window-rows", "10"]
    process = warm.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    journal = tmp_path / "out.csv.parts" / "journal.json"
    deadline = time.monotonic() + 300
    while process.poll() is None and not journal.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 143, err
    assert "Traceback" not in err and err.strip().splitlines() == [
        "bertsent: terminated; finished parts are kept, run the same command again to resume"
    ]
    assert journal.is_file()


# G. an ambiguous header, where a line ends, a full disk


def test_g_two_columns_matching_text_is_an_error_naming_both(model, tmp_path):
    (tmp_path / "in.csv").write_text("Text,text\na,a fine film\n")
    with pytest.raises(
        DataError, match="columns 'Text' and 'text' both match 'text'; name one exactly with --text-column"
    ):
        label_file(model, tmp_path / "in.csv", tmp_path / "out.csv")
    label_file(model, tmp_path / "in.csv", tmp_path / "out.csv", text_column="text")
    assert _csv_rows(tmp_path / "out.csv")[1][:2] == ["a", "a fine film"]


def test_g_a_lone_carriage_return_is_text_in_label_as_in_predict(model, tmp_path, monkeypatch):
    from bertsent.cli.common import stdin_lines

    raw = b"one\rtwo\r\nthree\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    (tmp_path / "in.txt").write_bytes(raw)
    (tmp_path / "in.csv").write_bytes(b"text\r\n" + raw.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r"))
    expected = list(stdin_lines())
    assert expected == ["one\rtwo", "three"]
    label_file(model, tmp_path / "in.txt", tmp_path / "out.jsonl")
    label_file(model, tmp_path / "in.csv", tmp_path / "out.csv")
    assert [json.loads(line)["text"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == expected
    assert [row["text"] for _, row in open_table(tmp_path / "out.csv").rows()] == expected


def test_g_a_full_disk_names_the_file_and_says_how_to_resume(model, tmp_path, monkeypatch):
    (tmp_path / "in.txt").write_text(_lines(40))
    real_add = Journal.add

    def add(self, index, *args):
        if index == 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_add(self, index, *args)

    monkeypatch.setattr(Journal, "add", add)
    with pytest.raises(DataError) as error:
        label_file(model, tmp_path / "in.txt", tmp_path / "out.csv", window_rows=16)
    assert str(error.value) == (
        f"{tmp_path}/out.csv.parts/part-000001: cannot write: No space left on device; finished parts are kept "
        f"in {tmp_path}/out.csv.parts, run the same command again to resume"
    )
    monkeypatch.setattr(Journal, "add", real_add)
    assert label_file(model, tmp_path / "in.txt", tmp_path / "out.csv", window_rows=16).resumed == 16
