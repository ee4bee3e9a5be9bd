"""The docs say what the code does: the README stays short, the reliability page names tests that
exist, and the generated CLI reference covers every command the parser has."""

import argparse
import importlib.util
import re
from pathlib import Path

from bertsent.cli.main import build_parser

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"


def _load_hook():
    spec = importlib.util.spec_from_file_location("docs_references", REPO / "docs" / "hooks" / "references.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_at_most_200_lines():
    assert len((REPO / "README.md").read_text().splitlines()) <= 200


def _named_tests(page: Path) -> list[tuple[str, str | None]]:
    """(file, test name or None) for every test a table row's last cell names; ``::name`` alone
    continues the file named before it in the same cell."""
    named = []
    for row in page.read_text().splitlines():
        if not row.startswith("|"):
            continue
        current = None
        for file, name in re.findall(r"`((?:tui/)?test_\w+\.py)?(?:::(\w+))?`", row.rstrip("|").split("|")[-1]):
            current = file or current
            if current:
                named.append((current, name or None))
    return named


def test_every_test_the_reliability_page_names_exists():
    named = _named_tests(REPO / "docs" / "reliability.md")
    assert len(named) > 40
    missing = [
        f"{file}::{name}" if name else file
        for file, name in named
        if not (TESTS / file).is_file() or (name and f"def {name}(" not in (TESTS / file).read_text())
    ]
    assert not missing


def _commands(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub
                yield from _commands(sub)


def test_cli_reference_has_every_command_and_option():
    page = _load_hook().cli_reference()
    commands = list(_commands(build_parser()))
    assert len(commands) > 10
    for sub in commands:
        assert f"### `{sub.prog}`" in page
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in page, (sub.prog, flag)
