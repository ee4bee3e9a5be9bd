"""``bertsent train`` (frozen or fine-tuned) and ``bertsent baseline`` (TF-IDF), each recorded as a run."""

from __future__ import annotations

import argparse
from dataclasses import replace

from bertsent.cli.common import (
    DATA_HELP,
    EXIT_ERROR,
    Progress,
    column_options,
    columns,
    ctrl_c_stops_at_a_checkpoint,
    encoder_options,
    fail,
    find_data,
    load_encoder,
    number,
    positive_int,
    print_json,
    safe,
    stdout_console,
    warn_skipped,
    warnings_as_notes,
)


def register(commands: argparse._SubParsersAction) -> None:
    from bertsent.core.embed import DEFAULT_POOLING, POOLING_HELP, POOLINGS
    from bertsent.core.finetune import FinetuneSettings
    from bertsent.core.regularization import C_RANGE

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
    train.add_argument(
        "--C",
        type=number(float, C_RANGE[0], C_RANGE[1]),
        dest="C",
        help=f"fixed regularization C, {C_RANGE[0]:g} to {C_RANGE[1]:g} (turns --cv off)",
    )
    train.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    column_options(train)
    train.add_argument("--no-cache", action="store_true", help="neither read nor write the embedding cache")
    train.add_argument("--out", required=True, help="model folder to write")
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    tune = train.add_argument_group("fine-tuning (train the encoder too, with mean pooling and a linear head)")
    tune.add_argument("--finetune", action="store_true", help="fine-tune the encoder instead of freezing it")
    tune.add_argument(
        "--epochs", type=number(int, 1, 1000), default=FINETUNE.epochs, help=f"(default: {FINETUNE.epochs})"
    )
    tune.add_argument(
        "--lr", type=number(float, 1e-8, 1), default=FINETUNE.lr, help=f"AdamW learning rate (default: {FINETUNE.lr:g})"
    )
    tune.add_argument(
        "--batch-size",
        type=number(int, 1, 65536),
        default=FINETUNE.batch_size,
        help=f"(default: {FINETUNE.batch_size})",
    )
    tune.add_argument(
        "--max-length",
        type=number(int, 8, 100_000),
        default=FINETUNE.max_length,
        help=f"tokens per sentence while fine-tuning (default: {FINETUNE.max_length})",
    )
    tune.add_argument(
        "--seed", type=number(int, 0, 2**32 - 1), default=FINETUNE.seed, help=f"(default: {FINETUNE.seed})"
    )

    baseline = commands.add_parser("baseline", help="TF-IDF + logistic regression on the same split, as a run")
    baseline.set_defaults(run=cmd_baseline)
    baseline.add_argument("--data", help=DATA_HELP)
    baseline.add_argument("--limit", type=positive_int, help="use the first N sentences of each file")
    baseline.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    column_options(baseline)
    baseline.add_argument("--json", action="store_true", help="print the report as JSON")


def cmd_train(args: argparse.Namespace) -> int:
    from bertsent.core.data import cv_folds, load_splits
    from bertsent.core.embed import DEFAULT_POOLING, Embedder
    from bertsent.core.errors import BertsentError
    from bertsent.core.fastpath import check_fast_path
    from bertsent.core.persist import check_model_folder
    from bertsent.core.runs import Run
    from bertsent.core.train import embed_splits, finetune, fit

    if args.finetune and (args.pooling != "mean" and args.pooling != DEFAULT_POOLING or args.C is not None):
        raise BertsentError("--finetune trains a linear head on mean pooling: --pooling and --C do not apply")
    if args.finetune and args.precision not in ("auto", "fp32"):
        raise BertsentError("--finetune trains in fp32 (mixed precision on CUDA): --precision does not apply")
    check_model_folder(args.out)  # before any work: a bad --out must not cost a whole run
    check_writable(cache=not args.no_cache or args.finetune)
    path = find_data(args.data)
    splits = load_splits(path, limit=args.limit, **columns(args))
    warn_skipped(splits.train.skipped)
    warn_skipped(splits.test.skipped)
    C = args.C if args.C is not None or args.cv else 1.0
    if not args.finetune and C is None:
        cv_folds(splits.train.labels, 5)  # too few sentences per class: say so before embedding
    if args.finetune:
        result = _finetune(args, splits, finetune)
    else:
        encoder = load_encoder(args)
        embedder = Embedder(encoder, args.pooling, cache=not args.no_cache)
        with Progress("embedding") as progress:
            embedded = embed_splits(embedder, splits, progress)
        with Progress("choosing C" if C is None else "fitting") as progress, warnings_as_notes():
            result = fit(embedder, splits, embedded, C=C, progress=progress.steps)
    if result.report.truncated:
        limit = result.model.encoder.max_length
        fail(f"note: {result.report.truncated} sentences were longer than {limit} tokens and were truncated")
    warn_one_class(result.report)
    with Progress("checking bf16 against fp32") as progress:
        fast = check_fast_path(result.model, splits.test.texts, splits.test.labels)
    run = Run.from_report(result.report, data=str(path), data_sha256=result.data_hash)
    out, problem = _save(result, args.out, run.id, fast_path=fast and fast.to_dict())
    record(replace(run, model=out))
    if args.json:
        print_json({**result.report.to_dict(), "model": out, "fast_path": fast and fast.to_dict()})
    else:
        print_report(result.report, out)
        print_fast_path(fast)
    if problem:
        fail(problem)
        return EXIT_ERROR
    return 0


def _save(result, out: str, run_id: str, **extra) -> tuple[str | None, str | None]:
    """Save to ``out``; if that fails now (checked before the work, so something changed), save
    the finished fit in the state folder instead. Returns where it went and what went wrong."""
    from bertsent.core.errors import BertsentError
    from bertsent.core.paths import state_dir
    from bertsent.core.persist import save_model

    try:
        save_model(result.model, out, report=result.report, data_hash=result.data_hash, **extra)
        return out, None
    except BertsentError as exc:
        fallback = state_dir() / "unsaved" / run_id
        try:
            save_model(result.model, fallback, report=result.report, data_hash=result.data_hash, **extra)
        except BertsentError:
            return None, f"{exc}; the model could not be saved anywhere"
        return str(fallback), f"{exc}; the model was saved to {fallback} instead"


def warn_one_class(report) -> None:
    """A model that gives one label to every test sentence has learned nothing but the prior."""
    predicted = [sum(column) for column in zip(*report.confusion, strict=True)]
    if sum(1 for count in predicted if count) == 1 and report.n_test > 1:
        hint = ""
        if report.C is not None:  # fine-tuned models have no C
            hint = f" (C = {report.C:g} may be too small for {report.n_train:,} sentences: try a larger --C, or --cv)"
        fail(f"note: the model predicts one label for every test sentence{hint}")


def check_writable(*, cache: bool) -> None:
    """The run history's folder (and the cache's, when used) must be usable before work starts."""
    from bertsent.core.paths import cache_dir, state_dir, writable_folder

    writable_folder(state_dir(), "state folder ($BERTSENT_STATE)")
    if cache:
        writable_folder(cache_dir(), "cache folder ($BERTSENT_CACHE)")


def record(run) -> None:
    """Add ``run`` to the history; failing that is a note, not a failed command (the work is done)."""
    from bertsent.core.errors import BertsentError
    from bertsent.core.runs import RunHistory

    try:
        RunHistory().add(run)
    except BertsentError as exc:
        fail(f"note: the run was not recorded: {exc}")


def print_fast_path(fast) -> None:
    """Which precision the saved model runs in by default, and why."""
    from bertsent.core.fastpath import describe_choice

    if fast is not None:
        print(describe_choice(fast))


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
    from bertsent.core.runs import Run

    check_writable(cache=False)
    path = find_data(args.data)
    splits = load_splits(path, limit=args.limit, **columns(args))
    warn_skipped(splits.train.skipped)
    warn_skipped(splits.test.skipped)
    report = tfidf_report(splits)
    record(Run.from_report(report, data=str(path), data_sha256=data_hash(splits.train)))
    if args.json:
        print_json(report.to_dict())
    else:
        print_report(report, None)
    return 0


def print_report(report, out: str | None) -> None:
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    cv = f" ({report.cv.folds}-fold CV over C = {report.cv.Cs[0]:.4g} … {report.cv.Cs[-1]:.4g})" if report.cv else ""
    if report.method == "tfidf":
        what = "TF-IDF + logistic regression (no encoder)"
    else:
        what = f"encoder [bold]{escape(safe(report.encoder))}[/], pooling [bold]{report.pooling}[/]"
        if report.method == "finetune":
            s = report.settings
            what += f", fine-tuned {s['epochs']} epoch(s), lr {s['lr']:g}, batch {s['batch_size']}"
    console.print(f"{what}, {report.n_train:,} train / {report.n_test:,} test sentences", highlight=False)
    console.print(
        f"test accuracy [bold]{report.accuracy:.2%}[/], macro F1 {report.macro_f1:.3f}  (most-frequent-class "
        f"baseline {report.baseline_accuracy:.2%}, train accuracy {report.train_accuracy:.2%})",
        highlight=False,
    )
    if report.C is not None:
        console.print(f"C = {report.C:.4g}{cv}", highlight=False)
    table = Table("class", "precision", "recall", "F1", "support", box=None)
    for name, m in report.per_class.items():
        table.add_row(Text(safe(name)), f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support))
    console.print(table)
    confusion = Table("true \\ predicted", box=None)
    for name in report.names:
        confusion.add_column(Text(safe(name)), justify="right")
    for name, row in zip(report.names, report.confusion, strict=True):
        confusion.add_row(Text(safe(name)), *(f"{count:,}" for count in row))
    console.print("confusion matrix (rows: true class, columns: predicted)", highlight=False)
    console.print(confusion)
    seconds = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    saved = f"; model saved to {safe(out)}" if out else ""
    console.print(f"time: {seconds}{saved}", highlight=False, markup=False)
