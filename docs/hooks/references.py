"""mkdocs hook: the references are written from the code at build time, so they cannot drift.

The API reference: mkdocstrings reads ``bertsent.core`` from its source. The checkout keeps it in
``core/`` (pyproject.toml's package-dir installs it as ``bertsent.core``), so :func:`on_startup`
links ``build/docs-api/bertsent/core`` to ``core/`` and mkdocs.yml points the handler there.

The CLI reference:
``docs/reference/cli.md`` holds the marker ``<!-- cli-reference -->``; :func:`on_page_markdown` replaces it with
a table of the commands and each command's ``--help``, taken from ``bertsent.cli.main.build_parser``
(and from ``bertsent.tui.__main__.build_parser`` once the app's parser has a builder). The page
therefore says what the installed parser says: it cannot drift from the code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
from pathlib import Path

API_PAGE = "reference/api.md"
# core's docstrings cross-reference in Sphinx's roles (:class:`~bertsent.core.base.errors.Cancelled`), which
# mkdocstrings shows as written: the API page shows the name alone, as Sphinx would.
SPHINX_ROLE = re.compile(r":(?:class|func|meth|attr|data|exc|mod):<code>~?(?:[\w.]+\.)?(\w+)</code>")
MARKER = "<!-- cli-reference -->"
PAGE = "reference/cli.md"
WIDTH = "100"


ROOT = Path(__file__).resolve().parents[2]
API_TREE = "build/docs-api"


def on_startup(command: str, dirty: bool) -> None:
    """Before any plugin reads its configuration, so mkdocstrings finds the linked package."""
    root = ROOT
    link = root / API_TREE / "bertsent" / "core"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not (link.is_symlink() and link.resolve() == (root / "core").resolve()):
        link.unlink(missing_ok=True)
        link.symlink_to(root / "core", target_is_directory=True)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lost its {MARKER} marker")
    return markdown.replace(MARKER, cli_reference())


def on_page_content(html: str, page, config, files) -> str:
    if page.file.src_uri != API_PAGE:
        return html
    return SPHINX_ROLE.sub(r"<code>\1</code>", html)


def cli_reference() -> str:
    # argparse wraps at $COLUMNS and colours help where NO_COLOR is unset (Python 3.14+): plain and fixed.
    fixed = {"COLUMNS": WIDTH, "NO_COLOR": "1"}
    previous = {name: os.environ.get(name) for name in fixed}
    os.environ.update(fixed)
    try:
        parts = []
        for module in ("bertsent.cli.main", "bertsent.tui.__main__"):
            build = getattr(importlib.import_module(module), "build_parser", None)
            if build is not None:
                parts.append(program_reference(build()))
        return "\n".join(parts)
    finally:
        for name, value in previous.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def program_reference(parser: argparse.ArgumentParser) -> str:
    lines = [f"## `{parser.prog}`", "", parser.description or "", "", *help_block(parser)]
    commands = list(subcommands(parser))
    if commands:
        lines += ["", "| command | what it does |", "|---|---|"]
        lines += [f"| [`{name}`](#{anchor(name)}) | {escape(text)} |" for name, text, _ in commands]
        for name, text, sub in commands:
            lines += ["", f"### `{name}`", "", text, "", *help_block(sub)]
    return "\n".join(lines) + "\n"


def subcommands(parser: argparse.ArgumentParser):
    """(full name, help, parser) of every subcommand, depth first, in the parser's order."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        seen = set()
        for name, sub in action.choices.items():
            if id(sub) in seen:  # an alias names the same parser again
                continue
            seen.add(id(sub))
            yield sub.prog, helps.get(name) or sub.description or "", sub
            yield from subcommands(sub)


def help_block(parser: argparse.ArgumentParser) -> list[str]:
    return ["```text", parser.format_help().rstrip(), "```"]


def anchor(name: str) -> str:
    return name.replace(" ", "-").lower()


def escape(text: str) -> str:
    return text.replace("|", "\\|")
