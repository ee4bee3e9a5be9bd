"""The ``bertsent`` parser and entry point: each command module registers its own subcommand.

``main`` is the one place where exceptions become exit statuses and one-line messages.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence

from bertsent.cli import (
    active,
    completion,
    data,
    doctor,
    encoders,
    export,
    inside,
    label,
    predict,
    probe,
    runs,
    tokenize,
    train,
)
from bertsent.cli.common import EXIT_ERROR, EXIT_TERMINATED, OneLineParser, Terminated, fail, stop_signal, stop_status

COMMAND_MODULES = (
    tokenize, data, train, runs, predict, label, active, export, probe, inside, encoders, doctor, completion,
)  # fmt: skip


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="bertsent",
        description="Sentence classification with a frozen BERT-style encoder and logistic regression.",
    )
    parser.add_argument(
        "--version", action=VersionAction, nargs=0, help="show the version (this machine: bertsent doctor)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


class VersionAction(argparse.Action):
    """``--version``: the installed package's version, from its metadata."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    from bertsent.core import installed_version

    return f"bertsent {installed_version()}"


def main(argv: Sequence[str] | None = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:  # at once: the parser's commands import numpy
        print(version_text())
        return 0
    from bertsent.core.encoding.encoder import quiet_transformers

    quiet_transformers()
    args = build_parser().parse_args(argv)
    from bertsent.core.base.errors import BertsentError, Cancelled

    stop_status(reset=True)  # a signal noted by an earlier call in this process is not this one's
    try:
        with sigterm_as_interrupt():
            return args.run(args)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
        status = EXIT_TERMINATED if isinstance(exc, Terminated) else stop_status()
        what = "terminated" if status == EXIT_TERMINATED else "interrupted"
        fail(str(exc) or f"{what}; finished embeddings are cached, run again to resume")
        return status
    except Cancelled as exc:  # stopped on request at a checkpoint: 143 if SIGTERM asked, else 130
        fail(str(exc))
        return stop_status()
    except BertsentError as exc:
        fail(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:  # the reader went away (`| head -1`): a normal end, in every output mode
        _discard_stdout()
        return 0
    except OSError as exc:  # a file or folder problem core did not foresee: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}")
        return EXIT_ERROR


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (only the main thread can install it)."""

    def terminate(signum, frame) -> None:
        stop_signal(signum)
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (an embedding test harness, say)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
