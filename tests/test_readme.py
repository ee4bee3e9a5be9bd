"""The README's Python examples run as written (from the project folder, ../shared beside it)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_python_block_runs_as_written(number, sst2_dir, tmp_path):
    project = tmp_path / "project"  # a stand-in for the project folder, with ../shared beside it
    project.mkdir()
    (tmp_path / "shared").symlink_to(sst2_dir.parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", BLOCKS[number]], cwd=project, capture_output=True, text=True, env=os.environ, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
