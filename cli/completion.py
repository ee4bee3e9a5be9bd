"""``bertsent completion bash|zsh|fish``: a shell completion script, generated from the parser
(shtab), so it offers exactly the commands and options this version has."""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "fish")
# Arguments that name a file or folder: the script completes paths there.
PATH_ARGUMENTS = {"--data", "--model", "--out", "input"}


def register(commands: argparse._SubParsersAction) -> None:
    completion = commands.add_parser(
        "completion",
        help='print a shell completion script, e.g. eval "$(bertsent completion bash)" in ~/.bashrc',
    )
    completion.set_defaults(run=cmd_completion)
    completion.add_argument("shell", choices=SHELLS)


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab
    from bertsent.cli.main import build_parser

    parser = build_parser()
    for action in _actions(parser):
        if PATH_ARGUMENTS.intersection(action.option_strings or [action.dest]):
            action.complete = shtab.FILE  # type: ignore[attr-defined]  # shtab reads this attribute
    print(shtab.complete(parser, shell=args.shell), end="")
    return 0


def _actions(parser: argparse.ArgumentParser):
    """Every argument of ``parser`` and of its subcommands' parsers."""
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _actions(sub)
