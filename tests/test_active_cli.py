"""``bertsent simulate`` and ``bertsent suggest`` with each label kind, on the tiny encoder: the
plumbing and the output contracts (accuracy is measured on SST2 in the docs, not here)."""

import csv
import io
import json

from bertsent.cli.main import main


def _run(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_simulate_prints_both_curves_on_the_same_label_counts(labelled_data, tiny_encoder, capsys):
    folder, _ = labelled_data
    args = ["simulate", "--data", str(folder), "--encoder", str(tiny_encoder), "--budget", "30", "--seeds", "2"]
    result = json.loads(_run(capsys, *args, "--strategy", "margin", "--json"))
    assert result["strategy"] == "margin"
    assert [p["labels"] for p in result["curve"]] == [10, 20, 30] == [p["labels"] for p in result["random"]]
    assert all(0 <= p["accuracy"] <= 1 and p["std"] >= 0 for p in result["curve"] + result["random"])
    assert 0 <= result["all_labels"] <= 1
    table = _run(capsys, *args)
    assert "auto" in table and "random" in table and "all " in table


def test_suggest_prints_pool_sentences_not_labelled_yet(labelled_data, tiny_encoder, tmp_path, capsys):
    folder, _ = labelled_data
    with open(folder / "train.csv", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(texts) + "\n")
    args = ["suggest", "--pool", str(pool), "--labels", str(folder / "test.csv"), "--encoder", str(tiny_encoder)]
    rows = list(csv.reader(io.StringIO(_run(capsys, *args, "--n", "5"))))
    assert rows[0] == ["text", "label"] and len(rows) == 6
    assert all(text in texts and label == "" for text, label in rows[1:])
    picks = json.loads(_run(capsys, *args, "--n", "3", "--strategy", "diverse", "--json"))
    assert [texts[p["row"]] for p in picks] == [p["text"] for p in picks] and len(picks) == 3


def test_bad_input_is_one_line_and_exit_2(labelled_data, tiny_encoder, tmp_path, capsys):
    folder, _ = labelled_data
    pool = tmp_path / "pool.txt"
    pool.write_text("a sentence\n")
    cases = [
        ["simulate", "--data", str(folder), "--strategy", "cleverest"],
        ["simulate", "--data", str(folder), "--budget", "5"],
        ["suggest", "--pool", str(tmp_path / "missing.txt"), "--labels", str(folder / "test.csv")],
        ["suggest", "--pool", str(pool), "--labels", str(tmp_path / "missing.csv"), "--encoder", str(tiny_encoder)],
    ]
    for args in cases:
        capsys.readouterr()
        try:
            status = main(args)
        except SystemExit as exit:
            status = exit.code
        err = capsys.readouterr().err
        assert status == 2, args
        assert err.startswith("bertsent: ") and err.count("\n") == 1, err


def test_suggest_checks_its_files_before_loading_the_encoder(labelled_data, tmp_path, capsys, monkeypatch):
    import bertsent.core.encoding.encoder

    def load(*args, **kwargs):
        raise AssertionError("the encoder was loaded before the files were checked")

    monkeypatch.setattr(bertsent.core.encoding.encoder.Encoder, "load", load)
    folder, _ = labelled_data
    pool, binary, headless = tmp_path / "pool.txt", tmp_path / "binary.csv", tmp_path / "headless.csv"
    pool.write_text("a sentence\nanother one\n")
    binary.write_bytes(b"\x00\xff\xfe" * 100)
    headless.write_text("id,label\n1,5\n")  # a header, but no text column
    cases = [
        ["--pool", str(tmp_path / "missing.txt"), "--labels", str(folder / "test.csv")],
        ["--pool", str(pool), "--labels", str(tmp_path / "missing.csv")],
        ["--pool", str(headless), "--labels", str(folder / "test.csv")],
        ["--pool", str(pool), "--labels", str(binary)],
    ]
    for args in cases:
        capsys.readouterr()
        assert main(["suggest", *args]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("bertsent: ") and err.count("\n") == 1, err


def test_suggest_on_a_pool_labelled_already_says_so(labelled_data, tiny_encoder, tmp_path, capsys):
    folder, _ = labelled_data
    with open(folder / "test.csv", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(texts) + "\n")
    args = ["suggest", "--pool", str(pool), "--labels", str(folder / "test.csv"), "--encoder", str(tiny_encoder)]
    capsys.readouterr()
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert out == "text,label\n"
    assert err == "bertsent: every sentence of the pool is in --labels already: nothing to suggest\n"
