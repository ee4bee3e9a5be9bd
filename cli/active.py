"""``bertsent simulate`` (a strategy's learning curve, a labelled set as the oracle) and
``bertsent suggest`` (the next sentences of a pool to label)."""

from __future__ import annotations

import argparse

from bertsent.cli.common import (
    DATA_HELP,
    Progress,
    column_options,
    columns,
    encoder_options,
    fail,
    find_data,
    load_encoder,
    number,
    print_json,
    safe,
    stdout_console,
    warn_skipped,
)


def register(commands: argparse._SubParsersAction) -> None:
    from bertsent.core.labelling.active import DEFAULT_STRATEGY, STRATEGIES

    strategy_help = f"auto (diverse first, then the most uncertain across clusters), {', '.join(STRATEGIES[1:])}"
    simulate = commands.add_parser(
        "simulate",
        help="replay a labelled set as the oracle: a strategy's learning curve beside random picks",
        description="The pool is the data's train split, scored on its test split: 10 random labels, then 10 per "
        "round chosen by the strategy, the mean over seeds; random picks from the same first labels beside it.",
    )
    simulate.set_defaults(run=cmd_simulate)
    simulate.add_argument("--data", help=DATA_HELP)
    simulate.add_argument("--budget", type=number(int, 10, 10**6), default=400, help="labels to reach (default: 400)")
    simulate.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=DEFAULT_STRATEGY,
        help=f"{strategy_help} (default: {DEFAULT_STRATEGY})",
    )
    simulate.add_argument("--seeds", type=number(int, 1, 100), default=3, help="runs to average (default: 3)")
    simulate.add_argument("--limit", type=number(int, 20, 10**9), help="use the first N sentences of each file")
    simulate.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    column_options(simulate)
    encoder_options(simulate)
    simulate.add_argument("--json", action="store_true", help="print the curves as JSON")

    suggest = commands.add_parser(
        "suggest",
        help="the next sentences of a pool to label, for the labels so far (to label in a spreadsheet)",
        description="Prints the N sentences of --pool the model would ask about next, as CSV rows with an empty "
        "label, ready to fill in and add to --labels.",
    )
    suggest.set_defaults(run=cmd_suggest)
    suggest.add_argument("--pool", required=True, help="unlabelled sentences: CSV, TSV, JSONL or plain lines")
    suggest.add_argument("--labels", required=True, help="the labels so far: a labelled CSV, TSV or JSONL file")
    suggest.add_argument("--n", type=number(int, 1, 10**6), default=20, help="sentences to suggest (default: 20)")
    suggest.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=DEFAULT_STRATEGY,
        help=f"{strategy_help} (default: {DEFAULT_STRATEGY})",
    )
    suggest.add_argument("--text-column", help="the pool's text column (default: text, sentence, review or content)")
    encoder_options(suggest)
    suggest.add_argument("--json", action="store_true", help="print [{row, text}, ...] as JSON")


def cmd_simulate(args: argparse.Namespace) -> int:
    from bertsent.core import jobs
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import Embedder

    splits = load_splits(find_data(args.data), limit=args.limit, **columns(args))
    warn_skipped(splits.train.skipped)
    embedder = Embedder(load_encoder(args))
    with Progress("simulating") as progress:
        result = jobs.simulate(
            splits, embedder, strategy=args.strategy, budget=args.budget, seeds=args.seeds, progress=progress.job
        )
    if args.json:
        print_json(result.to_dict())
        return 0
    from rich.table import Table

    table = Table(title=f"{args.strategy} vs random, mean of {result.seeds} seeds (C = {result.C:g})")
    for heading in ("labels", args.strategy, "random", "ahead"):
        table.add_column(heading, justify="right")
    for ours, theirs in zip(result.curve, result.random, strict=True):
        table.add_row(
            f"{ours.labels:,}",
            f"{ours.accuracy:.1%} ± {ours.std:.1%}",
            f"{theirs.accuracy:.1%} ± {theirs.std:.1%}",
            f"{(ours.accuracy - theirs.accuracy) * 100:+.1f}",
        )
    table.add_row(f"all {len(splits.train):,}", f"{result.all_labels:.1%}", "", "")
    stdout_console().print(table)
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    import csv
    import sys

    from bertsent.core import jobs
    from bertsent.core.encoding.embed import Embedder

    with Progress("embedding") as progress:
        picks = jobs.suggest(
            args.pool,
            args.labels,
            lambda: Embedder(load_encoder(args)),  # loaded once both files have been read
            n=args.n,
            strategy=args.strategy,
            text_column=args.text_column,
            progress=progress.job,
        )
    if not picks:
        fail("every sentence of the pool is in --labels already: nothing to suggest")
    if args.json:
        print_json([{"row": row, "text": text} for row, text in picks])
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows([safe(text), ""] for _, text in picks)
    return 0
