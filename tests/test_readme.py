"""The Python examples of the README and the docs pages run as written (from the project folder,
../shared beside it). An example shown on more than one page runs once.

All of them run in one fresh interpreter, one after the other, each in a namespace of its own
(as ``python -c BLOCK`` would): a block that needs a name it does not define or import fails
as it would alone, and torch, transformers and the encoder are imported once instead of once
a block (about 3.5 s of CPU each here)."""

import json
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
# Runs each block of the JSON list in argv[1] with a fresh __main__ namespace and writes what each
# printed, or its traceback, to argv[2].
RUNNER = """
import contextlib, io, json, sys, traceback
results = []
for number, block in enumerate(json.load(open(sys.argv[1]))):
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(block, f"<block {number}>", "exec"), {"__name__": "__main__"})
        results.append({"printed": printed.getvalue(), "error": None})
    except BaseException:
        results.append({"printed": printed.getvalue(), "error": traceback.format_exc()})
json.dump(results, open(sys.argv[2], "w"))
"""


@pytest.fixture(scope="module")
def ran(sst2_dir, tmp_path_factory) -> list[dict]:
    """What each block printed, or its traceback."""
    root = tmp_path_factory.mktemp("readme")
    project = root / "project"  # a stand-in for the project folder, with ../shared beside it
    project.mkdir()
    (root / "shared").symlink_to(sst2_dir.parent.parent)
    (root / "blocks.json").write_text(json.dumps(BLOCKS), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(root / "blocks.json"), str(root / "results.json")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((root / "results.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_python_block_runs_as_written(number, ran):
    assert ran[number]["error"] is None, ran[number]["error"][-2000:]
    assert ran[number]["printed"].strip()
