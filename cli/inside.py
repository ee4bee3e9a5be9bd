"""``bertsent map``: a saved model's test sentence vectors in 2-D, with true and predicted labels."""

from __future__ import annotations

import argparse

from bertsent.cli.common import Progress, positive_int, print_json, safe, warn_skipped


def register(commands: argparse._SubParsersAction) -> None:
    from bertsent.core.analyses.inside import PROJECTIONS

    sentence_map = commands.add_parser("map", help="2-D map of a saved model's test sentence vectors")
    sentence_map.set_defaults(run=cmd_map)
    sentence_map.add_argument("--model", required=True, help="model folder from 'bertsent train'")
    sentence_map.add_argument("--data", required=True, help="file, or folder (its test split is used)")
    sentence_map.add_argument("--method", choices=PROJECTIONS, default="pca", help="projection (default: pca)")
    sentence_map.add_argument("--limit", type=positive_int, help="use the first N sentences")
    sentence_map.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    sentence_map.add_argument("--json", action="store_true", help="print a list of {x, y, label, predicted, ...}")


def cmd_map(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bertsent.core import jobs
    from bertsent.core.data.dataset import load_dataset, load_splits
    from bertsent.core.models.persist import load_model

    saved = load_model(args.model)
    path = Path(args.data)
    if path.is_dir():
        dataset = load_splits(path, skip_bad=args.skip_bad).test
    else:
        dataset = load_dataset(path, skip_bad=args.skip_bad)
    warn_skipped(dataset.skipped)
    dataset = dataset.head(args.limit)
    with Progress("embedding") as progress:
        result = jobs.sentence_map(saved.model, dataset, method=args.method, progress=progress.job)
    if args.json:
        print_json(result.to_rows())
        return 0
    wrong = int(result.mistakes.sum())
    print(
        f"{len(result.texts):,} sentences of {safe(str(path))} mapped by {result.method}; "
        f"{wrong:,} misclassified; --json gives the coordinates"
    )
    return 0
