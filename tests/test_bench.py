"""The benchmark runs and reports the fields other tools read (its numbers live in the README).

It runs in the test's process (``python -m bench`` only calls :func:`bench.__main__.main`): a child
interpreter would add seconds of imports to each run."""

import json

import pytest


@pytest.fixture
def bench(sst2_dir, tmp_path, monkeypatch, capsys):
    """``bench(*args)``: the JSON ``python -m bench ARGS --json`` prints, on the data the tests use."""
    import bench.__main__ as entry

    monkeypatch.setattr(entry, "SST2", sst2_dir)
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))  # the bench points it elsewhere: restored after

    def run(*args: str) -> dict:
        capsys.readouterr()
        assert entry.main([*args, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    return run


def test_bench_quick_json(bench, monkeypatch):
    import bench.__main__ as entry

    monkeypatch.setattr(entry, "QUICK_SIZES", (60, 60))  # the fields, not the numbers, are the point here
    result = bench("--quick", "-n", "48")
    row = result["rows"][0]
    assert row["n"] == 48 and row["ours"] > 0 and row["tutorial"] > 0 and row["sentence_transformers"] > 0
    assert result["ratio_vs_tutorial"] == row["ours"] / row["tutorial"]
    assert result["ratio_vs_sentence_transformers"] == row["ours"] / row["sentence_transformers"]
    assert result["predict_p95_ms"] > 0 and result["help_s"] > 0 and result["tui_first_frame_s"] > 0


def test_bench_paths_json_leads_with_the_default_path(bench):
    result = bench("--paths", "-n", "24", "--paths-train", "40", "--paths-test", "40")
    default = result["default"]
    assert {"rate", "ratio_vs_st", "ratio_vs_tutorial", "accuracy", "accuracy_delta_points", "agreement"} <= set(
        default
    )
    paths = result["paths"]
    assert default["ratio_vs_st"] == default["rate"] / paths["sentence-transformers"]["rate"]
    assert default["ratio_vs_tutorial"] == default["rate"] / paths["tutorial"]["rate"]
    assert "int8" not in paths and paths["bf16"]["share_of_matmul"] > 0  # int8 was removed; bf16 has its probe
    assert 0 < paths["fp32"]["share_of_matmul"] and paths["fp32"]["agreement"] == 1.0
    assert result["matmul_tokens"] > 0 and default["precision"] in ("fp32", "bf16")
