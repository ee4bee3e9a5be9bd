"""The ``bertsent`` parser and entry point: each command module registers its own subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bertsent.cli import data, export, label, predict, runs, tokenize, train
from bertsent.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, fail

COMMAND_MODULES = (tokenize, data, train, runs, predict, label, export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bertsent",
        description="Sentence classification with a frozen BERT-style encoder and logistic regression.",
    )
    parser.add_argument(
        "--version", action=VersionAction, nargs=0, help="show the version and this machine's fast path"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


class VersionAction(argparse.Action):
    """``--version``: the version, and the precision models that allow it run in here (probed once, cached)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from bertsent.core import __version__
        from bertsent.core.fastpath import machine_choice

        machine = machine_choice()
        features = ", ".join(machine.features) or "none of note"
        print(f"bertsent {__version__}")
        print(f"cpu: {machine.cpu} ({features})")
        print(
            f"fast path here: {machine.precision} ({machine.reason}; fp32 {machine.fp32_gflops:.0f} GFLOP/s, ", end=""
        )
        print(f"bf16 {machine.bf16_gflops:.0f} GFLOP/s)")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bertsent.core.errors import BertsentError, Cancelled

    try:
        return args.run(args)
    except KeyboardInterrupt:
        fail("interrupted; finished embeddings are cached, run again to resume")
        return EXIT_INTERRUPTED
    except Cancelled as exc:
        fail(str(exc))
        return EXIT_INTERRUPTED
    except BertsentError as exc:
        fail(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
