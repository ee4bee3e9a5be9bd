"""``bertsent runs``: the run history, side by side."""

from __future__ import annotations

import argparse

from bertsent.cli.common import fail, print_json, safe, stdout_console


def register(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser("runs", help="the history of training runs, side by side")
    runs.set_defaults(run=cmd_runs)
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.add_argument("--clear", action="store_true", help="forget every recorded run (model folders stay)")


def cmd_runs(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from bertsent.core.runs import RunHistory

    history = RunHistory()
    if args.clear:
        history.clear()
        print(f"cleared the run history ({safe(str(history.path))})")
        return 0
    runs = history.runs()
    if history.skipped:
        fail(f"{history.path}: skipped {history.skipped} unreadable line(s)")
    if args.json:
        print_json([asdict(run) for run in runs])
        return 0
    if not runs:
        print("no runs yet: 'bertsent train' and 'bertsent baseline' record one each")
        return 0
    from rich.table import Table
    from rich.text import Text

    best = max(run.accuracy for run in runs)
    table = Table("#", "when", "what", "accuracy", "F1", "train/test", "time", box=None)
    table.add_column("model", overflow="fold")
    table.columns[2].min_width = 24
    for number, run in enumerate(runs, start=1):
        accuracy = Text(f"{run.accuracy:.2%}", style="bold" if run.accuracy == best else "")
        table.add_row(
            str(number),
            run.created.replace("T", " ")[5:16],
            Text(safe(run.what)),
            accuracy,
            f"{run.macro_f1:.3f}",
            f"{run.n_train:,}/{run.n_test:,}",
            f"{run.seconds:.0f} s",
            Text(safe(run.model or "–")),
        )
    stdout_console().print(table)
    return 0
