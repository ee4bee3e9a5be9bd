"""Your own data: any label set (names or integers, 2 to N classes) from the CLI, and its limits."""

import csv
import json
import shutil

import numpy as np
import pytest
from bertsent.cli.main import main


@pytest.fixture(scope="module")
def own_csv(sst5_dir, tmp_path_factory):
    """240 SST-5 sentences (80 per class) as a spreadsheet would export them: ';'-separated, named
    columns, CRLF, a quoted field holding a newline, three label names."""
    three = {"very negative": "bad", "negative": "bad", "neutral": "so-so", "positive": "good", "very positive": "good"}
    rows, seen = [], dict.fromkeys(three.values(), 0)
    for row in csv.DictReader((sst5_dir / "train.csv").open(encoding="utf-8")):
        if seen[three[row["label"]]] < 80:
            seen[three[row["label"]]] += 1
            rows.append(row)
    path = tmp_path_factory.mktemp("own") / "reviews.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", "Review", "Verdict"])
        for number, row in enumerate(rows[:240]):
            text = row["text"] if number != 3 else row["text"] + "\nsecond line of the same review"
            writer.writerow([number, text, three[row["label"]]])
    return path


def test_train_predict_evaluate_with_named_labels(own_csv, tmp_path, capsys, cli):
    model = tmp_path / "model"
    args = ["train", "--data", str(own_csv), "--label-column", "verdict", "--C", "0.01", "--out", str(model)]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["classes"] == ["bad", "good", "so-so"] and report["n_train"] == 180 and report["n_test"] == 60
    assert list(report["per_class"]) == ["bad", "good", "so-so"]
    assert np.array(report["confusion"]).shape == (3, 3) and np.sum(report["confusion"]) == 60
    assert report["accuracy"] > report["baseline_accuracy"]
    meta = json.loads((model / "model.json").read_text())
    assert meta["classes"] == ["bad", "good", "so-so"] and meta["format"] == 4

    assert main(["predict", "--model", str(model), "--json", "a gorgeous , witty movie", "a dull , lifeless mess"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for line in lines:
        assert line["label"] in ("bad", "good", "so-so") and line["label"] == line["label_name"] == line["scored"]
        assert set(line["probabilities"]) == {"bad", "good", "so-so"}
        assert np.isclose(sum(line["probabilities"].values()), 1.0)
        assert line["probability"] == max(line["probabilities"].values())
        assert line["probabilities"][line["label"]] == line["probability"]

    assert main(["predict", "--model", str(model), "--json", "--score-class", "so-so", "a gorgeous movie"]) == 0
    assert json.loads(capsys.readouterr().out)["scored"] == "so-so"
    done = cli("predict", "--model", str(model), "--score-class", "great", "a film")
    assert (
        done.returncode == 2 and "no class 'great' in this model; its classes are 'bad', 'good', 'so-so'" in done.stderr
    )

    evaluate = ["evaluate", "--model", str(model), "--data", str(own_csv), "--label-column", "Verdict", "--json"]
    assert main(evaluate) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["n"] == 240 and evaluated["accuracy"] > 0.5 and 0 < evaluated["macro_f1"] <= 1

    assert main(["train", "--data", str(own_csv), "--label-column", "verdict", "--C", "0.01", "--out", str(model)]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix" in out and "so-so" in out and "macro F1" in out


def one_line_error(done, message: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_four_line_file_names_the_minimum(tmp_path, cli):
    small = tmp_path / "small.tsv"
    small.write_text("good\t1\nbad\t0\nfine\t1\nawful\t0\n")
    done = cli("data", "--data", str(small))
    one_line_error(done, "4 sentences are too few for a stratified 75%/25% split of 2 classes; need at least 5")


def test_too_few_per_class_for_cross_validation_writes_nothing(tmp_path, cli):
    data = tmp_path / "few"
    data.mkdir()
    (data / "train.tsv").write_text("".join(f"film number {i}\t{i % 2}\n" for i in range(20)) + "odd one\t2\n")
    (data / "test.tsv").write_text("a film\t0\nanother\t2\n")
    out = tmp_path / "model"
    done = cli("train", "--data", str(data), "--out", str(out))
    one_line_error(done, "class '2' has 1 training sentence; cross-validation needs at least 2 of each class")
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("text,label\n" + "".join(f"s{i},{i}\n" for i in range(150)), [], "150 distinct values"),
        (
            "words;stars\na;1\nb;2\n",
            ["--text-column", "words", "--label-column", "rating"],
            "no column 'rating'; columns found: 'words', 'stars'",
        ),
        ("text,label\na,1\nb,\n", [], "data.csv:3: empty label"),
    ],
)
def test_bad_label_columns_are_one_line(tmp_path, content, args, message, cli):
    data = tmp_path / "data.csv"
    data.write_text(content)
    out = tmp_path / "model"
    one_line_error(cli("train", "--data", str(data), *args, "--out", str(out)), message)
    assert not out.exists()


@pytest.mark.parametrize("old_format", [1, 2])
def test_model_folders_of_earlier_formats_are_refused_in_one_line(small_model_dir, tmp_path, old_format):
    """Folders saved before labels were data and model.json carried its own checksum ask to retrain."""
    from bertsent.core.base.errors import ModelFileError
    from bertsent.core.models.persist import load_model

    old = tmp_path / "old"
    shutil.copytree(small_model_dir, old)
    meta = json.loads((old / "model.json").read_text())
    del meta["classes"], meta["label_names"], meta["checksum"]
    meta.update(format=old_format, labels={"0": "negative", "1": "positive"})
    (old / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=f"model format {old_format} .* train it again"):
        load_model(old)
