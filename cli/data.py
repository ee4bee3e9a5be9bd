"""``bertsent data``: find, validate and summarize a dataset."""

from __future__ import annotations

import argparse

from bertsent.cli.common import (
    DATA_HELP,
    column_options,
    columns,
    encoder_options,
    find_data,
    load_encoder,
    print_json,
    safe,
    warn_skipped,
)


def register(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="find, validate and summarize a dataset")
    data.set_defaults(run=cmd_data)
    data.add_argument("--data", help=DATA_HELP)
    data.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    column_options(data)
    data.add_argument("--json", action="store_true", help="print JSON")
    encoder_options(data)


def cmd_data(args: argparse.Namespace) -> int:
    from bertsent.core.data.dataset import load_splits, summarize

    path = find_data(args.data)
    splits = load_splits(path, **columns(args))
    encoder = load_encoder(args)
    classes = splits.classes
    names = dict(zip(classes.labels, classes.names, strict=True))
    out = {"path": str(path), "given_split": splits.given, "classes": list(classes.labels)}
    for name, dataset in (("train", splits.train), ("test", splits.test)):
        summary = summarize(dataset, encoder.token_lengths(dataset.texts), classes.labels)
        out[name] = {
            "n": summary.n,
            "per_label": {names[k]: v for k, v in summary.per_label.items()},
            "duplicates": summary.duplicates,
            "tokens": summary.length_stats,
            "skipped": dataset.skipped,
        }
    if args.json:
        print_json(out)
        return 0
    print(f"data: {safe(str(path))} ({'its own train/test split' if splits.given else 'stratified 75/25 split'})")
    for name in ("train", "test"):
        part = out[name]
        labels = ", ".join(f"{k} {v:,}" for k, v in part["per_label"].items())
        tokens = part["tokens"]
        print(
            f"{name:5s} {part['n']:>7,} sentences ({labels}); tokens min {tokens['min']} "
            f"median {tokens['median']:.0f} p95 {tokens['p95']:.0f} max {tokens['max']}; "
            f"{part['duplicates']} duplicates"
        )
        warn_skipped(part["skipped"])
    return 0
