"""The benchmark runs and reports the fields other tools read (its numbers live in the README)."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_quick_json(sst2_dir):
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "-n", "48", "--json"],
        cwd=REPO,
        env={**os.environ, "BERTSENT_DATA": str(sst2_dir)},  # the data the tests use, wherever it is
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    row = result["rows"][0]
    assert row["n"] == 48 and row["ours"] > 0 and row["tutorial"] > 0 and row["sentence_transformers"] > 0
    assert result["ratio_vs_tutorial"] == row["ours"] / row["tutorial"]
    assert result["ratio_vs_sentence_transformers"] == row["ours"] / row["sentence_transformers"]
    assert result["predict_p95_ms"] > 0 and result["help_s"] > 0 and result["tui_first_frame_s"] > 0


def test_bench_paths_json_leads_with_the_default_path(sst2_dir):
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--paths", "-n", "48", "--paths-train", "120", "--paths-test", "120", "--json"],
        cwd=REPO,
        env={**os.environ, "BERTSENT_DATA": str(sst2_dir)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
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
