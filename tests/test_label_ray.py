"""The Ray engine: a local Ray with 2 workers gives the local engine's labels on 2,000 SST2 sentences."""

from __future__ import annotations

import csv

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'bertsent[ray]'; make install does)")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_two_ray_workers_label_2000_sst2_sentences_as_the_local_engine(local_ray, small_model_dir, sst2_dir, tmp_path):
    from bertsent.core.data import load_dataset
    from bertsent.core.label import label_file
    from bertsent.core.label_ray import label_with_ray
    from bertsent.core.persist import load_model

    texts = load_dataset(sst2_dir / "train.tsv").texts[:2000]
    source = tmp_path / "in.csv"
    with open(source, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("id", "review"), *((i, t) for i, t in enumerate(texts))] + [(2000, " ")])
    label_file(load_model(small_model_dir).model, source, tmp_path / "local.csv", all_probabilities=True)
    result = label_with_ray(
        small_model_dir, str(source), tmp_path / "ray.csv", all_probabilities=True, workers=2, worker_threads=1
    )
    assert (result.rows, result.bad) == (2001, 1)
    local, distributed = _read(tmp_path / "local.csv"), _read(tmp_path / "ray.csv")
    assert list(distributed[0]) == list(local[0])
    assert [r["id"] for r in distributed] == [r["id"] for r in local]
    assert [r["review"] for r in distributed] == [r["review"] for r in local]
    assert [r["label"] for r in distributed] == [r["label"] for r in local]
    assert distributed[-1]["error"] == "empty text" and distributed[-1]["label"] == ""
    differences = [
        abs(float(a["probability"]) - float(b["probability"]))
        for a, b in zip(local[:-1], distributed[:-1], strict=True)
    ]
    assert max(differences) < 1e-4
