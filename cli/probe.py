"""``bertsent probe``: test accuracy of a classifier on each layer alone, [CLS] and mean pooling."""

from __future__ import annotations

import argparse

from bertsent.cli.common import (
    DATA_HELP,
    Progress,
    encoder_options,
    find_data,
    load_encoder,
    positive_int,
    print_json,
    safe,
    warn_skipped,
)


def register(commands: argparse._SubParsersAction) -> None:
    probe = commands.add_parser(
        "probe", help="which layer holds the label: logistic regression on each layer alone, [CLS] and mean"
    )
    probe.set_defaults(run=cmd_probe)
    probe.add_argument("--data", help=DATA_HELP)
    encoder_options(probe)
    probe.add_argument("--limit", type=positive_int, help="use the first N sentences of each file")
    probe.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    probe.add_argument(
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also fit the recipe on each prefix set, layers 0..k's means concatenated (the last is the "
        "all-layer recipe), and name the cheapest within 0.3 points of the best (default: on)",
    )
    probe.add_argument(
        "--json",
        action="store_true",
        help="print a list of {layer, pooling, accuracy, C}, then one {layers: '0-k', pooling: 'layers', "
        "accuracy, C} per prefix set",
    )


def cmd_probe(args: argparse.Namespace) -> int:
    from bertsent.core import jobs
    from bertsent.core.data.dataset import load_splits

    path = find_data(args.data)
    splits = load_splits(path, limit=args.limit, skip_bad=args.skip_bad)
    warn_skipped(splits.train.skipped)
    warn_skipped(splits.test.skipped)
    encoder = load_encoder(args)
    with Progress("embedding every layer") as progress:
        result = jobs.probe(encoder, splits, reference=args.reference, progress=progress.job)
    if args.json:
        print_json([score.to_dict() for score in [*result.scores, *result.prefixes]])
    else:
        print_probe(result)
    return 0


def print_probe(result) -> None:
    from bertsent.core.analyses.probe import PROBE_POOLINGS
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(
        f"encoder [bold]{escape(safe(result.encoder))}[/]: logistic regression on one layer at a time, "
        f"{result.n_train:,} train / {result.n_test:,} test sentences",
        highlight=False,
    )
    best = result.best
    table = Table("layer", *(f"{p} acc" for p in PROBE_POOLINGS), box=None)
    for layer in range(result.layers):
        cells = []
        for pooling in PROBE_POOLINGS:
            accuracy = result.accuracy(layer, pooling)
            mark = " *" if (layer, pooling) == (best.layer, best.pooling) else ""
            cells.append(f"{accuracy:.2%}{mark}")
        table.add_row("embeddings" if layer == 0 else str(layer), *cells)
    console.print(table)
    last_cls = result.accuracy(result.layers - 1, "cls")
    console.print(
        f"best: layer {best.layer} {best.pooling} {best.accuracy:.2%} (*); the tutorial's last-layer [CLS] "
        f"{last_cls:.2%} ({(last_cls - best.accuracy) * 100:+.1f} pts)",
        highlight=False,
    )
    cheapest = result.cheapest_prefix
    if cheapest is not None:
        from bertsent.core.analyses.probe import PREFIX_TOLERANCE

        runs = result.layers - 1
        prefixes = Table("layers", "acc", "transformer layers run", box=None)
        for prefix in result.prefixes:
            mark = " *" if prefix is cheapest else ""
            prefixes.add_row(f"0-{prefix.depth}", f"{prefix.accuracy:.2%}{mark}", f"{prefix.depth} of {runs}")
        console.print("each layer's mean, concatenated, layers 0..k (train --layers 0-k; 0-{runs} is all layers):")
        console.print(prefixes)
        console.print(
            f"cheapest within {PREFIX_TOLERANCE * 100:.1f} points of the best: layers 0-{cheapest.depth} "
            f"{cheapest.accuracy:.2%} (*), {cheapest.depth} of {runs} transformer layers; all layers "
            f"{result.reference:.2%}",
            highlight=False,
        )
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    console.print(f"time: {seconds}", highlight=False, markup=False)
