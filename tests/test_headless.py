"""core stays headless and cheap to import."""

import pkgutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# Every module of core, found on disk, so a new one cannot be left out of the check.
CORE_MODULES = ["bertsent.core"] + [m.name for m in pkgutil.walk_packages([str(REPO / "core")], "bertsent.core.")]


def test_every_subpackage_of_core_is_packaged():
    """pyproject.toml lists packages by name: a folder left out would be missing from the wheel."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {m.name for m in pkgutil.walk_packages([str(REPO / "core")], "bertsent.core.") if m.ispkg}
    assert len(folders) >= 6 and folders <= listed


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_core_never_imports_textual_or_rich():
    loaded = _loaded_after("; ".join(f"import {m}" for m in CORE_MODULES))
    assert not {name.split(".")[0] for name in loaded} & {"textual", "rich"}
    assert len(CORE_MODULES) > 40 and set(CORE_MODULES) <= loaded


def test_importing_core_and_cli_does_not_load_torch():
    loaded = _loaded_after(
        "import bertsent.core.data.dataset, bertsent.core.encoding.embed, bertsent.core.models.persist\n"
        "import bertsent.cli.main as cli\n"
        "cli.build_parser()"
    )
    assert "bertsent.cli.main" in loaded
    assert "torch" not in loaded and "transformers" not in loaded


def test_cli_help_loads_neither_scikit_learn_nor_torch():
    """`bertsent --help` and every command's parser stay fast: scikit-learn alone costs ~1 s."""
    loaded = _loaded_after("import bertsent.cli.main as cli; cli.build_parser()")
    assert not {name.split(".")[0] for name in loaded} & {"sklearn", "scipy", "torch", "transformers"}


def test_predicting_with_a_saved_model_loads_no_scikit_learn(small_model_dir):
    """`bertsent predict` and `label` start a second sooner without it (core.models.linear)."""
    loaded = _loaded_after(
        "from bertsent.core.models.persist import load_model\n"
        f"print(load_model({str(small_model_dir)!r}).model.predict(['a fine film']))"
    )
    assert "bertsent.core.models.persist" in loaded and "torch" in loaded
    assert not {name for name in loaded if name.split(".")[0] == "sklearn"}


def test_scripts_cli_never_imports_textual():
    modules = ", ".join(
        f"bertsent.cli.{m.name}" for m in pkgutil.iter_modules([str(REPO / "cli")]) if m.name != "__main__"
    )
    loaded = _loaded_after(f"import {modules}; import bertsent.cli.main as cli; cli.build_parser()")
    assert "bertsent.cli.main" in loaded
    assert not {name for name in loaded if name.split(".")[0] == "textual"}
