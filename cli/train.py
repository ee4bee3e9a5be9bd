"""``bertsent train`` (frozen or fine-tuned) and ``bertsent baseline`` (TF-IDF), each recorded as a run."""

from __future__ import annotations

import argparse

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
    from bertsent.core.base.regularization import C_RANGE
    from bertsent.core.encoding.embed import DEFAULT_POOLING, POOLING_HELP, POOLINGS
    from bertsent.core.encoding.layers import LAYERS_HELP
    from bertsent.core.models.finetune import FinetuneSettings

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
    train.add_argument(
        "--layers",
        type=layer_set,
        metavar="SET",
        help=f"{LAYERS_HELP} (default: the pooling's; for layers pooling the set measured for the encoder, "
        "see docs/layers.md)",
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
    classes_option(train)
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
    classes_option(baseline)
    baseline.add_argument("--json", action="store_true", help="print the report as JSON")


def cmd_train(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from bertsent.core import jobs
    from bertsent.core.base.errors import BertsentError
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import DEFAULT_POOLING, Embedder
    from bertsent.core.models.finetune import FinetuneSettings
    from bertsent.core.models.persist import check_model_folder

    if args.finetune and (
        args.pooling != "mean" and args.pooling != DEFAULT_POOLING or args.C is not None or args.layers is not None
    ):
        raise BertsentError(
            "--finetune trains a linear head on the last layer's mean: --pooling, --layers and --C do not apply"
        )
    if args.finetune and args.precision not in ("auto", "fp32"):
        raise BertsentError("--finetune trains in fp32 (mixed precision on CUDA): --precision does not apply")
    check_model_folder(args.out)  # before any work: a bad --out must not cost a whole run
    check_writable(cache=not args.no_cache or args.finetune)
    path = find_data(args.data)
    splits = load_splits(path, limit=args.limit, class_order=class_order(args), **columns(args))
    warn_skipped(splits.train.skipped)
    warn_skipped(splits.test.skipped)
    recipe: dict = {"data": str(path)}
    if args.finetune:
        settings = FinetuneSettings(
            epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_length=args.max_length, seed=args.seed
        )
        recipe.update(encoder=args.encoder, finetune=settings, device=args.device)
    else:
        embedder = Embedder(load_encoder(args), args.pooling, layers=args.layers, cache=not args.no_cache)
        recipe.update(embedder=embedder, C=args.C if args.C is not None or args.cv else 1.0)
    # Fine-tuning checkpoints: the first Ctrl-C stops it at the end of a step, resumable.
    stopping = ctrl_c_stops_at_a_checkpoint() if args.finetune else nullcontext(None)
    with Progress("training") as progress, warnings_as_notes(), stopping as stop:
        trained = jobs.train(splits, progress=progress.job, cancel=stop, **recipe)
    for note in trained.notes:
        fail(f"note: {note}")
    with Progress("saving") as progress:
        saved = jobs.save(trained.result, args.out, run=trained.run, progress=progress.job)
    out = None if saved.folder is None else str(saved.folder)
    if args.json:
        fast = saved.fast_path and saved.fast_path.to_dict()
        print_json({**trained.report.to_dict(), "model": out, "fast_path": fast})
    else:
        print_report(trained.report, out)
        if saved.precision:
            print(saved.precision)
    if saved.problem:
        fail(saved.problem)
        return EXIT_ERROR
    return 0


def layer_set(text: str) -> str:
    """An argparse type: a layer set's spelling checked (its depth is checked against the encoder)."""
    from bertsent.core.base.errors import RecipeError
    from bertsent.core.encoding.layers import parse_layers

    try:
        return parse_layers(text)
    except RecipeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def class_order(args: argparse.Namespace) -> list[str] | None:
    """``--classes "a,b,c"`` as a list of names (None: sorted)."""
    from bertsent.core.base.errors import DataError

    if args.classes is None:
        return None
    names = [name for name in args.classes.split(",") if name.strip()]
    if not names:
        raise DataError(f"--classes {args.classes!r} names no class; give the classes in order, comma-separated")
    return names


def check_writable(*, cache: bool) -> None:
    """The run history's folder (and the cache's, when used) must be usable before work starts."""
    from bertsent.core.base.paths import cache_dir, state_dir, writable_folder

    writable_folder(state_dir(), "state folder ($BERTSENT_STATE)")
    if cache:
        writable_folder(cache_dir(), "cache folder ($BERTSENT_CACHE)")


def cmd_baseline(args: argparse.Namespace) -> int:
    from bertsent.core import jobs
    from bertsent.core.data.dataset import load_splits

    check_writable(cache=False)
    path = find_data(args.data)
    splits = load_splits(path, limit=args.limit, class_order=class_order(args), **columns(args))
    warn_skipped(splits.train.skipped)
    warn_skipped(splits.test.skipped)
    result = jobs.baseline(splits, data=str(path))
    for note in result.notes:
        fail(f"note: {note}")
    if args.json:
        print_json(result.report.to_dict())
    else:
        print_report(result.report, None)
    return 0


def classes_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--classes",
        metavar="NAMES",
        help='the classes in the order reports and models show them, comma-separated, e.g. "very negative,'
        'negative,neutral,positive,very positive" (default: integers in numeric order, other labels sorted)',
    )


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
