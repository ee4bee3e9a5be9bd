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
