"""core stays headless and cheap to import."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


CORE_MODULES = [
    "core",
    "core.cache",
    "core.classifier",
    "core.data",
    "core.embed",
    "core.encoder",
    "core.errors",
    "core.explain",
    "core.files",
    "core.model",
    "core.paths",
    "core.persist",
    "core.report",
    "core.sources",
    "core.train",
]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {name.split(".")[0] for name in out.split()}


def test_core_never_imports_textual_or_rich():
    loaded = _loaded_after("; ".join(f"import {m}" for m in CORE_MODULES))
    assert not loaded & {"textual", "rich"}


def test_importing_core_and_cli_does_not_load_torch():
    loaded = _loaded_after("import core, core.data, core.embed, core.persist, tui.cli; tui.cli.build_parser()")
    assert "torch" not in loaded and "transformers" not in loaded
