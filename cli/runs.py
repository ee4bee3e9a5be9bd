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

    from bertsent.core.models.runs import RunHistory

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
    console = stdout_console(highlight=False)
    console.print(runs_table(runs, console.width), soft_wrap=True)
    return 0


NARROW_FIRST = ("when", "F1", "time", "train/test")  # dropped in this order when a line would not fit
MIN_WHAT, MIN_MODEL = 28, 16  # 28: "minilm fine-tuned, 3 epochs" whole


def runs_table(runs, width: int):
    """One line per run within ``width`` columns: the free-text columns are cut with "…" (the
    model path from the left, where its last part stays), and narrow terminals drop columns."""
    from rich.table import Table
    from rich.text import Text

    best = max(run.accuracy for run in runs)
    columns = {
        "#": [str(number) for number in range(1, len(runs) + 1)],
        "when": [run.created.replace("T", " ")[5:16] for run in runs],
        "what": [safe(run.what) for run in runs],
        "accuracy": [f"{run.accuracy:.2%}" for run in runs],
        "F1": [f"{run.macro_f1:.3f}" for run in runs],
        "train/test": [f"{run.n_train:,}/{run.n_test:,}" for run in runs],
        "time": [f"{run.seconds:.0f} s" for run in runs],
        "model": [safe(run.model or "–") for run in runs],
    }
    need = {name: max(len(name), *(len(cell) for cell in cells)) for name, cells in columns.items()}
    shown = list(columns)
    while True:
        free = width - sum(need[n] for n in shown if n not in ("what", "model")) - 2 * (len(shown) - 1)
        what = min(need["what"], free - min(MIN_MODEL, need["model"]))  # what was run comes first
        model = min(need["model"], free - what)
        dropping = [n for n in NARROW_FIRST if n in shown]
        if what >= min(MIN_WHAT, need["what"]) or not dropping:
            break
        shown.remove(dropping[0])
    widths = {**need, "what": max(what, 1), "model": max(model, 1)}
    table = Table(box=None, padding=(0, 1), pad_edge=False)
    for name in shown:
        right = name in ("accuracy", "F1", "train/test", "time")
        table.add_column(name, justify="right" if right else "left", no_wrap=True, width=widths[name])
    for row in range(len(runs)):
        cells = []
        for name in shown:
            cell = columns[name][row]
            if len(cell) > widths[name]:
                keep = widths[name] - 1
                cell = "…" + cell[len(cell) - keep :] if name == "model" else cell[:keep] + "…"
            style = "bold" if name == "accuracy" and runs[row].accuracy == best else ""
            cells.append(Text(cell, style=style))
        table.add_row(*cells)
    return table
