"""``bertsent train`` (frozen or fine-tuned) and ``bertsent baseline`` (TF-IDF), each recorded as a run."""

from __future__ import annotations

import argparse

from bertsent.cli.common import (
    DATA_HELP,
    Progress,
    ctrl_c_stops_at_a_checkpoint,
    encoder_options,
    fail,
    find_data,
    load_encoder,
    positive_float,
    positive_int,
    print_json,
    safe,
    warn_skipped,
)


def register(commands: argparse._SubParsersAction) -> None:
    from bertsent.core.embed import DEFAULT_POOLING, POOLING_HELP, POOLINGS
    from bertsent.core.finetune import FinetuneSettings

    FINETUNE = FinetuneSettings()

    train = commands.add_parser("train", help="embed, fit logistic regression, report, save the model")
    train.set_defaults(run=cmd_train)
    train.add_argument("--data", help=DATA_HELP)
    encoder_options(train)
    train.add_argument(
        "--pooling",
        choices=POOLINGS,
        default=DEFAULT_POOLING,
        help="; ".join(f"{k}: {v}" for k, v in POOLING_HELP.items()) + f" (default: {DEFAULT_POOLING})",
    )
    train.add_argument("--limit", type=positive_int, help="use the first N sentences of each file")
    train.add_argument(
        "--cv",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="choose C by 5-fold cross-validation on the training split (default: on)",
    )
    train.add_argument("--C", type=positive_float, dest="C", help="fixed regularization C (turns --cv off)")
    train.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    train.add_argument("--no-cache", action="store_true", help="neither read nor write the embedding cache")
    train.add_argument("--out", required=True, help="model folder to write")
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    tune = train.add_argument_group("fine-tuning (train the encoder too, with mean pooling and a linear head)")
    tune.add_argument("--finetune", action="store_true", help="fine-tune the encoder instead of freezing it")
    tune.add_argument("--epochs", type=positive_int, default=FINETUNE.epochs, help=f"(default: {FINETUNE.epochs})")
    tune.add_argument(
        "--lr", type=positive_float, default=FINETUNE.lr, help=f"AdamW learning rate (default: {FINETUNE.lr:g})"
    )
    tune.add_argument(
        "--batch-size", type=positive_int, default=FINETUNE.batch_size, help=f"(default: {FINETUNE.batch_size})"
    )
    tune.add_argument(
        "--max-length",
        type=positive_int,
        default=FINETUNE.max_length,
        help=f"tokens per sentence while fine-tuning (default: {FINETUNE.max_length})",
    )
    tune.add_argument("--seed", type=int, default=FINETUNE.seed, help=f"(default: {FINETUNE.seed})")

    baseline = commands.add_parser("baseline", help="TF-IDF + logistic regression on the same split, as a run")
    baseline.set_defaults(run=cmd_baseline)
    baseline.add_argument("--data", help=DATA_HELP)
    baseline.add_argument("--limit", type=positive_int, help="use the first N sentences of each file")
    baseline.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    baseline.add_argument("--json", action="store_true", help="print the report as JSON")


def cmd_train(args: argparse.Namespace) -> int:
    from bertsent.core.data import load_splits
    from bertsent.core.embed import DEFAULT_POOLING, Embedder
    from bertsent.core.errors import BertsentError
    from bertsent.core.persist import save_model
    from bertsent.core.runs import Run, RunHistory
    from bertsent.core.train import embed_splits, finetune, fit

    if args.finetune and (args.pooling != "mean" and args.pooling != DEFAULT_POOLING or args.C is not None):
        raise BertsentError("--finetune trains a linear head on mean pooling: --pooling and --C do not apply")
    if args.finetune and args.precision not in ("auto", "fp32"):
        raise BertsentError("--finetune trains in fp32 (mixed precision on CUDA): --precision does not apply")
    path = find_data(args.data)
    splits = load_splits(path, limit=args.limit, skip_bad=args.skip_bad)
    warn_skipped(splits.train.skipped)
    warn_skipped(splits.test.skipped)
    if args.finetune:
        result = _finetune(args, splits, finetune)
    else:
        encoder = load_encoder(args)
        embedder = Embedder(encoder, args.pooling, cache=not args.no_cache)
        C = args.C if args.C is not None or args.cv else 1.0
        with Progress("embedding") as progress:
            embedded = embed_splits(embedder, splits, progress)
        with Progress("choosing C" if C is None else "fitting") as progress:
            result = fit(embedder, splits, embedded, C=C, progress=progress.steps)
    if result.report.truncated:
        limit = result.model.encoder.max_length
        fail(f"note: {result.report.truncated} sentences were longer than {limit} tokens and were truncated")
    save_model(result.model, args.out, report=result.report, data_hash=result.data_hash)
    RunHistory().add(Run.from_report(result.report, data=str(path), data_sha256=result.data_hash, model=args.out))
    if args.json:
        print_json({**result.report.to_dict(), "model": args.out})
    else:
        print_report(result.report, args.out)
    return 0


def _finetune(args: argparse.Namespace, splits, finetune):
    from bertsent.core.finetune import FinetuneSettings

    settings = FinetuneSettings(
        epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_length=args.max_length, seed=args.seed
    )
    with (
        Progress("fine-tuning") as progress,
        Progress("evaluating") as evaluating,
        ctrl_c_stops_at_a_checkpoint() as stop,
    ):
        return finetune(
            splits,
            args.encoder,
            settings,
            device=args.device,
            progress=progress.training,
            embed_progress=evaluating,
            cancel=stop,
        )


def cmd_baseline(args: argparse.Namespace) -> int:
    from bertsent.core.baseline import tfidf_report
    from bertsent.core.data import data_hash, load_splits
    from bertsent.core.runs import Run, RunHistory

    path = find_data(args.data)
    splits = load_splits(path, limit=args.limit, skip_bad=args.skip_bad)
    warn_skipped(splits.train.skipped)
    warn_skipped(splits.test.skipped)
    report = tfidf_report(splits)
    RunHistory().add(Run.from_report(report, data=str(path), data_sha256=data_hash(splits.train)))
    if args.json:
        print_json(report.to_dict())
    else:
        print_report(report, None)
    return 0


def print_report(report, out: str | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    cv = f" (cross-validated over {len(report.cv.Cs)} values, {report.cv.folds} folds)" if report.cv else ""
    if report.method == "tfidf":
        what = "TF-IDF + logistic regression (no encoder)"
    else:
        what = f"encoder [bold]{escape(safe(report.encoder))}[/], pooling [bold]{report.pooling}[/]"
        if report.method == "finetune":
            s = report.settings
            what += f", fine-tuned {s['epochs']} epoch(s), lr {s['lr']:g}, batch {s['batch_size']}"
    console.print(f"{what}, {report.n_train:,} train / {report.n_test:,} test sentences", highlight=False)
    console.print(
        f"test accuracy [bold]{report.accuracy:.2%}[/]  (most-frequent-class baseline "
        f"{report.baseline_accuracy:.2%}, train accuracy {report.train_accuracy:.2%})",
        highlight=False,
    )
    if report.C is not None:
        console.print(f"C = {report.C:.4g}{cv}", highlight=False)
    table = Table("class", "precision", "recall", "F1", "support", box=None)
    for name, m in report.per_class.items():
        table.add_row(name, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support))
    console.print(table)
    (tn, fp), (fn, tp) = report.confusion
    console.print(f"confusion (rows true, columns predicted): neg→neg {tn}  neg→pos {fp}  pos→neg {fn}  pos→pos {tp}")
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    saved = f"; model saved to {safe(out)}" if out else ""
    console.print(f"time: {seconds}{saved}", highlight=False, markup=False)
