"""Every command with each label kind (0/1; 3 strings; 6 strings with spaces), in the class order
the user gives, on a tiny config-built encoder: the plumbing of the jobs, not accuracy."""

import json

import pytest
from bertsent.cli.main import main


def _run(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def trained(labelled_data, tiny_encoder, tmp_path_factory):
    """A model trained with the classes in their natural (not sorted) order: the report JSON."""
    folder, order = labelled_data
    model = tmp_path_factory.mktemp("model") / "m"
    classes = ",".join(str(label) for label in order[::-1]) if order == [0, 1] else ",".join(order)
    args = ["train", "--data", str(folder), "--encoder", str(tiny_encoder), "--C", "1", "--classes", classes]
    assert main([*args, "--out", str(model), "--json"]) == 0
    return model, order if order != [0, 1] else [1, 0]


def test_train_keeps_the_given_order_in_report_and_model(trained, capsys):
    model, order = trained
    meta = json.loads((model / "model.json").read_text())
    assert meta["classes"] == order
    assert meta["report"]["classes"] == order and len(meta["report"]["confusion"]) == len(order)
    names = meta["label_names"]
    assert list(meta["report"]["per_class"]) == names


def test_predict_evaluate_map_label_export_and_runs(trained, labelled_data, tmp_path, capsys):
    model, order = trained
    folder, _ = labelled_data
    lines = _run(capsys, "predict", "--model", str(model), "--json", "a superb and brilliant film", "dull")
    for line in map(json.loads, lines.splitlines()):
        assert line["label"] in order and list(line["probabilities"]) == [str(label) for label in order]
        assert line["probability"] == max(line["probabilities"].values())

    evaluation = json.loads(_run(capsys, "evaluate", "--model", str(model), "--data", str(folder), "--json"))
    assert evaluation["n"] == 6 * len(order) and 0 <= evaluation["accuracy"] <= 1
    assert evaluation["precision"] in ("fp32", "bf16")

    rows = json.loads(_run(capsys, "map", "--model", str(model), "--data", str(folder), "--json"))
    assert len(rows) == 6 * len(order)
    assert {row["label"] for row in rows} == set(order) and {row["predicted"] for row in rows} <= set(order)

    out = tmp_path / "labelled.csv"
    _run(capsys, "label", str(folder / "test.csv"), "--model", str(model), "--out", str(out))
    header, *body = out.read_text().splitlines()
    assert header.startswith("text,label,") and len(body) == 6 * len(order)

    _run(capsys, "export", "--model", str(model), "--out", str(tmp_path / "m.joblib"))
    _run(capsys, "runs")  # exit 0 whatever the history holds


def test_data_baseline_and_probe_in_the_given_order(labelled_data, tiny_encoder, capsys):
    folder, order = labelled_data
    classes = ",".join(str(label) for label in order)
    data = json.loads(_run(capsys, "data", "--data", str(folder), "--encoder", str(tiny_encoder), "--json"))
    assert data["classes"] == sorted(order) and data["train"]["n"] == 16 * len(order)
    report = json.loads(_run(capsys, "baseline", "--data", str(folder), "--classes", classes, "--json"))
    assert report["classes"] == order and list(report["per_class"]) == (
        ["negative", "positive"] if order == [0, 1] else order
    )
    probe = json.loads(
        _run(capsys, "probe", "--data", str(folder), "--encoder", str(tiny_encoder), "--no-reference", "--json")
    )
    assert probe
