"""What every command shares: exit codes, one-line errors, literal text, progress bars, options."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
DATA_HELP = "file or folder (default: $BERTSENT_DATA, cache, then download)"


def encoder_options(sub: argparse.ArgumentParser) -> None:
    from bertsent.core.encoder import DEFAULT_ENCODER, PRECISIONS

    sub.add_argument(
        "--encoder",
        default=DEFAULT_ENCODER,
        help=f"minilm (offline default), distilbert, bert, a Hugging Face id or a model folder "
        f"(default: {DEFAULT_ENCODER})",
    )
    sub.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cuda when present)")
    sub.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="auto: fp32 on CPU, bf16/fp16 on CUDA; int8: quantized Linear layers, CPU only (default: auto)",
    )


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def safe(text: str) -> str:
    from bertsent.tui.safe_text import clean

    return clean(text)


def fail(message: str) -> None:
    print(f"bertsent: {safe(message)}", file=sys.stderr, flush=True)


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=float))


def warn_skipped(skipped: dict[str, int]) -> None:
    if skipped:
        fail("skipped " + ", ".join(f"{n} row(s): {reason}" for reason, n in skipped.items()))


def find_data(path: str | None):
    from bertsent.core.sources import find_data

    with Progress("downloading") as progress:
        return find_data(path, progress=lambda name, done, total: progress.bytes(name, done, total))


def load_encoder(args: argparse.Namespace):
    from bertsent.core.encoder import Encoder

    return Encoder.load(args.encoder, device=args.device, precision=args.precision)


def stdin_lines() -> Iterator[str]:
    for line in sys.stdin:
        yield line.rstrip("\r\n")


@contextmanager
def ctrl_c_stops_at_a_checkpoint() -> Iterator[threading.Event]:
    """The first Ctrl-C sets the event, so work that checkpoints (fine-tuning) stops at the end of
    its step and saves where it was; a second Ctrl-C interrupts at once."""
    event = threading.Event()

    def stop(signum, frame) -> None:
        if event.is_set():
            raise KeyboardInterrupt
        event.set()

    try:
        previous = signal.signal(signal.SIGINT, stop)
    except ValueError:  # not the main thread: leave Ctrl-C as it is
        yield event
        return
    try:
        yield event
    finally:
        signal.signal(signal.SIGINT, previous)


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

    def __call__(self, p) -> None:
        cached = f", {p.cached:,} cached" if p.cached else ""
        self.bar.update(self.task, completed=p.done, total=p.total, rate=f"{p.rate:,.0f} sent/s{cached}")

    def training(self, p) -> None:
        rate = f"loss {p.loss:.3f}, {p.rate:,.0f} sent/s"
        self.bar.update(self.task, completed=p.step, total=p.total, rate=rate)

    def steps(self, done: int, total: int) -> None:
        self.bar.update(self.task, completed=done, total=total, rate="")

    def bytes(self, name: str, done: int, total: int | None) -> None:
        self.bar.update(self.task, description=f"downloading {name}", completed=done, total=total)

    def __enter__(self) -> Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()
