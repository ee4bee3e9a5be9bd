"""What every command shares: exit codes, one-line errors, literal text, progress bars, options."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (128 + SIGTERM), handled as Ctrl-C is

_stop_signals: set[int] = set()  # the stop signals this command received: main's exit status says which


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so the same cleanup runs (cache flush, temp files)."""


def stop_signal(signum: int) -> None:
    """Note that ``signum`` (SIGINT or SIGTERM) asked this command to stop."""
    _stop_signals.add(signum)


def stop_status(*, reset: bool = False) -> int:
    """The exit status of a command that stopped on request: 143 once SIGTERM came, else 130.

    Work that stops at a checkpoint turns the signal into ``Cancelled`` (and some commands turn
    ``KeyboardInterrupt`` into it), so the status comes from the signal received, not the exception.
    """
    status = EXIT_TERMINATED if signal.SIGTERM in _stop_signals else EXIT_INTERRUPTED
    if reset:
        _stop_signals.clear()
    return status


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2) like every other error."""

    def error(self, message: str) -> None:
        fail(f"{message} (see {self.prog} --help)")
        sys.exit(EXIT_ERROR)


DATA_HELP = "file or folder (default: $BERTSENT_DATA, cache, then download)"


def encoder_options(sub: argparse.ArgumentParser) -> None:
    from bertsent.core.encoding.encoder import DEFAULT_ENCODER, PRECISIONS

    sub.add_argument(
        "--encoder",
        default=DEFAULT_ENCODER,
        help=f"minilm (offline default), mpnet (once installed: bertsent encoders), distilbert, bert, "
        f"a Hugging Face id or a model folder "
        f"(default: {DEFAULT_ENCODER})",
    )
    sub.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cuda when present)")
    sub.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="auto: fp32 on CPU, bf16/fp16 on CUDA; bf16 on a CPU is fast only with bf16 instructions (default: auto)",
    )


def number(kind: type, low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite ``kind`` (int or float) in ``[low, high]``, else one clear line."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'a whole number' if kind is int else 'a number'}"
            ) from None
        if not low <= value <= high:  # also false for NaN; inf is out of every range
            raise argparse.ArgumentTypeError(f"{text} is outside the sane range {low:g} to {high:g}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def column_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--text-column", help="column with the sentences (default: text, sentence, review or content)")
    sub.add_argument("--label-column", help="column with the labels (default: label, sentiment, class or target)")


def columns(args: argparse.Namespace) -> dict:
    """The labelled-data options of ``args`` as keyword arguments of ``load_splits``/``load_dataset``."""
    return {"skip_bad": args.skip_bad, "text_column": args.text_column, "label_column": args.label_column}


positive_int = number(int, 1, 10**9)


def safe(text: str) -> str:
    from bertsent.core.base.text import clean

    return clean(text)


def fail(message: str) -> None:
    print(f"bertsent: {safe(message)}", file=sys.stderr, flush=True)


def print_json(data: object, *, one_line: bool = False) -> None:
    """Every JSON the CLI prints goes through here: strict JSON (see core.base.jsonio)."""
    from bertsent.core.base import jsonio

    print(jsonio.dumps(data, indent=None if one_line else 2), flush=one_line)


def stdout_console(**options):
    """A Rich console on stdout whose closed pipe ends the command normally (see main).

    Rich's own reaction to a closed pipe is ``SystemExit(1)``; a reader that stops early
    (``| head -1``) is not an error, so the pipe error goes up to main like any other.
    """
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return PipeConsole(**options)


@contextlib.contextmanager
def warnings_as_notes() -> Iterator[None]:
    """Library warnings raised inside (a solver that did not converge, say) become one note each,
    once, instead of a screen of repeated tracebacks-like lines."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen = set()
    for warning in caught:
        text = str(warning.message).strip().splitlines()[0] if str(warning.message).strip() else ""
        if (warning.category, text) not in seen:
            seen.add((warning.category, text))
            fail(f"note: {warning.category.__name__}: {text}")


def warn_skipped(skipped: dict[str, int]) -> None:
    if skipped:
        fail("skipped " + ", ".join(f"{n} row(s): {reason}" for reason, n in skipped.items()))


def find_data(path: str | None):
    from bertsent.core.data.sources import find_data

    with Progress("downloading") as progress:
        return find_data(path, progress=lambda name, done, total: progress.bytes(name, done, total))


def load_encoder(args: argparse.Namespace):
    from bertsent.core.encoding.encoder import Encoder

    return Encoder.load(args.encoder, device=args.device, precision=args.precision)


def stdin_lines() -> Iterator[str]:
    """Lines of stdin as text; bytes that are not UTF-8 stay as lone surrogates, for core to
    report on that line (instead of the whole stream failing to decode)."""
    from bertsent.core.data.table import line_text  # the one rule for where a line ends

    for line in sys.stdin.buffer:
        yield line_text(line.decode("utf-8", "surrogateescape"))


@contextmanager
def ctrl_c_stops_at_a_checkpoint() -> Iterator[threading.Event]:
    """The first Ctrl-C or SIGTERM sets the event, so work that checkpoints (fine-tuning) stops at
    the end of its step and saves where it was; a second one interrupts at once."""
    event = threading.Event()

    def stop(signum, frame) -> None:
        stop_signal(signum)
        if event.is_set():
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        event.set()

    try:
        previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave the signals as they are
        yield event
        return
    try:
        yield event
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Progress:
    """A Rich progress bar on stderr, fed by core progress callbacks (silent when not a terminal)."""

    def __init__(self, description: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(stderr=True)
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.bar.add_task(description, total=None, rate="")

    def job(self, p) -> None:
        """A ``core.jobs.Progress``: the bar is named after the job's current stage."""
        eta = f"ETA {_clock(p.eta)}" if p.eta is not None else ""
        rate = ", ".join(part for part in (f"{p.rate:,.0f}/s" if p.rate else "", eta, p.detail) if part)
        total = max(p.total, p.done) if p.total else None
        self.bar.update(self.task, description=p.stage, completed=p.done, total=total, rate=rate)

    def bytes(self, name: str, done: int, total: int | None) -> None:
        self.bar.update(self.task, description=f"downloading {name}", completed=done, total=total)

    def __enter__(self) -> Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"
