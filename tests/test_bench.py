"""The benchmark runs and reports the fields other tools read (its numbers live in the README)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_quick_json():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "-n", "48", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["ratio_vs_tutorial"] > 0 and result["ratio_vs_sentence_transformers"] > 0
    row = result["rows"][0]
    assert row["n"] == 48 and row["ours"] > 0 and row["sentence_transformers"] > 0
    assert result["predict_p95_ms"] > 0 and result["help_s"] > 0 and result["tui_first_frame_s"] > 0
