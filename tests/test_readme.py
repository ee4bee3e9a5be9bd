"""The Python examples of the README and the docs pages run as written (from the project folder,
../shared beside it). An example shown on more than one page runs once."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
BLOCKS = list(  # a block inside a list item is indented: dedented, as Markdown shows it
    dict.fromkeys(
        textwrap.dedent(block)
        for page in PAGES
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    )
)


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
