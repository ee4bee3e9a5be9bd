"""The ``bertsent`` parser and entry point: each command module registers its own subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bertsent.cli import data, export, predict, runs, tokenize, train
from bertsent.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, fail

COMMAND_MODULES = (tokenize, data, train, runs, predict, export)


def build_parser() -> argparse.ArgumentParser:
    from bertsent.core import __version__

    parser = argparse.ArgumentParser(
        prog="bertsent",
        description="Sentence classification with a frozen BERT-style encoder and logistic regression.",
    )
    parser.add_argument("--version", action="version", version=f"bertsent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


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
