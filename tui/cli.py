"""``bertsent`` (scripts) and ``bertsent-tui`` (the app) command lines over ``core``.

Heavy imports (torch, transformers, scikit-learn, rich) happen inside commands so that
``bertsent --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    from core import __version__
    from core.embed import DEFAULT_POOLING, POOLING_HELP, POOLINGS
    from core.encoder import DEFAULT_ENCODER, PRECISIONS
    from core.finetune import FinetuneSettings

    FINETUNE = FinetuneSettings()

    parser = argparse.ArgumentParser(
        prog="bertsent",
        description="Sentence classification with a frozen BERT-style encoder and logistic regression.",
    )
    parser.add_argument("--version", action="version", version=f"bertsent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def encoder_options(sub: argparse.ArgumentParser) -> None:
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

    tokenize = commands.add_parser("tokenize", help="show WordPiece tokens and ids of a sentence")
    tokenize.add_argument("text", help="the sentence")
    encoder_options(tokenize)
    tokenize.add_argument("--json", action="store_true", help="print JSON")

    data = commands.add_parser("data", help="find, validate and summarize a dataset")
    data.add_argument("--data", help="file or folder (default: $BERTSENT_DATA, cache, then download)")
    data.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    data.add_argument("--json", action="store_true", help="print JSON")
    encoder_options(data)

    train = commands.add_parser("train", help="embed, fit logistic regression, report, save the model")
    train.add_argument("--data", help="file or folder (default: $BERTSENT_DATA, cache, then download)")
    encoder_options(train)
    train.add_argument(
        "--pooling",
        choices=POOLINGS,
        default=DEFAULT_POOLING,
        help="; ".join(f"{k}: {v}" for k, v in POOLING_HELP.items()) + f" (default: {DEFAULT_POOLING})",
    )
    train.add_argument("--limit", type=_positive_int, help="use the first N sentences of each file")
    train.add_argument(
        "--cv",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="choose C by 5-fold cross-validation on the training split (default: on)",
    )
    train.add_argument("--C", type=_positive_float, dest="C", help="fixed regularization C (turns --cv off)")
    train.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    train.add_argument("--no-cache", action="store_true", help="neither read nor write the embedding cache")
    train.add_argument("--out", required=True, help="model folder to write")
    train.add_argument("--json", action="store_true", help="print the report as JSON")
    tune = train.add_argument_group("fine-tuning (train the encoder too, with mean pooling and a linear head)")
    tune.add_argument("--finetune", action="store_true", help="fine-tune the encoder instead of freezing it")
    tune.add_argument("--epochs", type=_positive_int, default=FINETUNE.epochs, help=f"(default: {FINETUNE.epochs})")
    tune.add_argument(
        "--lr", type=_positive_float, default=FINETUNE.lr, help=f"AdamW learning rate (default: {FINETUNE.lr:g})"
    )
    tune.add_argument(
        "--batch-size", type=_positive_int, default=FINETUNE.batch_size, help=f"(default: {FINETUNE.batch_size})"
    )
    tune.add_argument(
        "--max-length",
        type=_positive_int,
        default=FINETUNE.max_length,
        help=f"tokens per sentence while fine-tuning (default: {FINETUNE.max_length})",
    )
    tune.add_argument("--seed", type=int, default=FINETUNE.seed, help=f"(default: {FINETUNE.seed})")

    baseline = commands.add_parser("baseline", help="TF-IDF + logistic regression on the same split, as a run")
    baseline.add_argument("--data", help="file or folder (default: $BERTSENT_DATA, cache, then download)")
    baseline.add_argument("--limit", type=_positive_int, help="use the first N sentences of each file")
    baseline.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    baseline.add_argument("--json", action="store_true", help="print the report as JSON")

    runs = commands.add_parser("runs", help="the history of training runs, side by side")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.add_argument("--clear", action="store_true", help="forget every recorded run (model folders stay)")

    evaluate = commands.add_parser("evaluate", help="accuracy of a saved model on labelled data")
    evaluate.add_argument("--model", required=True, help="model folder from 'bertsent train'")
    evaluate.add_argument("--data", required=True, help="file, or folder (its test split is used)")
    evaluate.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    evaluate.add_argument("--json", action="store_true", help="print JSON")

    predict = commands.add_parser("predict", help="label sentences and show which tokens pushed them")
    predict.add_argument("--model", required=True, help="model folder from 'bertsent train'")
    predict.add_argument("text", nargs="*", help="sentences (default: one per line from stdin)")
    predict.add_argument("--json", action="store_true", help="one JSON object per line")
    predict.add_argument(
        "--no-scores", action="store_true", help="label and probability only (about 20x faster for bulk input)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from core.errors import BertsentError, Cancelled

    command: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    try:
        return command(args)
    except KeyboardInterrupt:
        _fail("interrupted; finished embeddings are cached, run again to resume")
        return EXIT_INTERRUPTED
    except Cancelled as exc:
        _fail(str(exc))
        return EXIT_INTERRUPTED
    except BertsentError as exc:
        _fail(str(exc))
        return EXIT_ERROR
    except BrokenPipeError:
        sys.stderr.close()
        return 0


def tui_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bertsent-tui", description="The bertsent terminal app.")
    parser.add_argument("--data", help="file or folder with labelled sentences (default: $BERTSENT_DATA)")
    parser.add_argument("--encoder", help="minilm (offline default), distilbert, bert, an id or a folder")
    args = parser.parse_args(argv)
    from tui.app import create_app

    create_app(data=args.data, encoder=args.encoder).run()
    return 0


# -- commands -----------------------------------------------------------------------------------


def cmd_tokenize(args: argparse.Namespace) -> int:
    encoder = _load_encoder(args)
    tokens = encoder.tokenize(args.text)
    if args.json:
        _print_json({"tokens": tokens.tokens, "ids": tokens.ids, "truncated": tokens.truncated})
    else:
        print(" ".join(_safe(t) for t in tokens.tokens))
        print(" ".join(str(i) for i in tokens.ids))
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from core.data import LABEL_NAMES, load_splits, summarize

    path = _find_data(args.data)
    splits = load_splits(path, skip_bad=args.skip_bad)
    encoder = _load_encoder(args)
    out = {"path": str(path), "given_split": splits.given}
    for name, dataset in (("train", splits.train), ("test", splits.test)):
        summary = summarize(dataset, encoder.token_lengths(dataset.texts))
        out[name] = {
            "n": summary.n,
            "per_label": {LABEL_NAMES[k]: v for k, v in summary.per_label.items()},
            "duplicates": summary.duplicates,
            "tokens": summary.length_stats,
            "skipped": dataset.skipped,
        }
    if args.json:
        _print_json(out)
        return 0
    print(f"data: {_safe(str(path))} ({'its own train/test split' if splits.given else 'stratified 75/25 split'})")
    for name in ("train", "test"):
        part = out[name]
        labels = ", ".join(f"{k} {v:,}" for k, v in part["per_label"].items())
        tokens = part["tokens"]
        print(
            f"{name:5s} {part['n']:>7,} sentences ({labels}); tokens min {tokens['min']} "
            f"median {tokens['median']:.0f} p95 {tokens['p95']:.0f} max {tokens['max']}; "
            f"{part['duplicates']} duplicates"
        )
        _warn_skipped(part["skipped"])
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from core.data import load_splits
    from core.embed import DEFAULT_POOLING, Embedder
    from core.errors import BertsentError
    from core.persist import save_model
    from core.runs import Run, RunHistory
    from core.train import embed_splits, finetune, fit

    if args.finetune and (args.pooling != "mean" and args.pooling != DEFAULT_POOLING or args.C is not None):
        raise BertsentError("--finetune trains a linear head on mean pooling: --pooling and --C do not apply")
    if args.finetune and args.precision not in ("auto", "fp32"):
        raise BertsentError("--finetune trains in fp32 (mixed precision on CUDA): --precision does not apply")
    path = _find_data(args.data)
    splits = load_splits(path, limit=args.limit, skip_bad=args.skip_bad)
    _warn_skipped(splits.train.skipped)
    _warn_skipped(splits.test.skipped)
    if args.finetune:
        result = _finetune(args, splits, finetune)
    else:
        encoder = _load_encoder(args)
        embedder = Embedder(encoder, args.pooling, cache=not args.no_cache)
        C = args.C if args.C is not None or args.cv else 1.0
        with _Progress("embedding") as progress:
            embedded = embed_splits(embedder, splits, progress)
        with _Progress("choosing C" if C is None else "fitting") as progress:
            result = fit(embedder, splits, embedded, C=C, progress=progress.steps)
    if result.report.truncated:
        limit = result.model.encoder.max_length
        _fail(f"note: {result.report.truncated} sentences were longer than {limit} tokens and were truncated")
    save_model(result.model, args.out, report=result.report, data_hash=result.data_hash)
    RunHistory().add(Run.from_report(result.report, data=str(path), data_sha256=result.data_hash, model=args.out))
    if args.json:
        _print_json({**result.report.to_dict(), "model": args.out})
    else:
        _print_report(result.report, args.out)
    return 0


def _finetune(args: argparse.Namespace, splits, finetune):
    from core.finetune import FinetuneSettings

    settings = FinetuneSettings(
        epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_length=args.max_length, seed=args.seed
    )
    with _Progress("fine-tuning") as progress, _Progress("evaluating") as evaluating:
        return finetune(
            splits,
            args.encoder,
            settings,
            device=args.device,
            progress=progress.training,
            embed_progress=evaluating,
        )


def cmd_baseline(args: argparse.Namespace) -> int:
    from core.baseline import tfidf_report
    from core.data import data_hash, load_splits
    from core.runs import Run, RunHistory

    path = _find_data(args.data)
    splits = load_splits(path, limit=args.limit, skip_bad=args.skip_bad)
    _warn_skipped(splits.train.skipped)
    _warn_skipped(splits.test.skipped)
    report = tfidf_report(splits)
    RunHistory().add(Run.from_report(report, data=str(path), data_sha256=data_hash(splits.train)))
    if args.json:
        _print_json(report.to_dict())
    else:
        _print_report(report, None)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from core.runs import RunHistory

    history = RunHistory()
    if args.clear:
        history.clear()
        print(f"cleared the run history ({_safe(str(history.path))})")
        return 0
    runs = history.runs()
    if history.skipped:
        _fail(f"{history.path}: skipped {history.skipped} unreadable line(s)")
    if args.json:
        _print_json([asdict(run) for run in runs])
        return 0
    if not runs:
        print("no runs yet: 'bertsent train' and 'bertsent baseline' record one each")
        return 0
    from rich.console import Console
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
            Text(_safe(run.what)),
            accuracy,
            f"{run.macro_f1:.3f}",
            f"{run.n_train:,}/{run.n_test:,}",
            f"{run.seconds:.0f} s",
            Text(_safe(run.model or "–")),
        )
    Console().print(table)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.data import load_dataset, load_splits
    from core.persist import load_model

    saved = load_model(args.model)
    path = Path(args.data)
    if path.is_dir():
        dataset = load_splits(path, skip_bad=args.skip_bad).test
    else:
        dataset = load_dataset(path, skip_bad=args.skip_bad)
    _warn_skipped(dataset.skipped)
    with _Progress("embedding") as progress:
        proba = saved.model.predict_proba(dataset.texts, progress)[:, 1]
    accuracy = float(((proba >= 0.5).astype(int) == dataset.labels).mean())
    if args.json:
        _print_json({"accuracy": accuracy, "n": len(dataset), "model": args.model, "data": str(path)})
    else:
        print(f"accuracy {accuracy:.2%} on {len(dataset):,} sentences of {_safe(str(path))}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from core.errors import DataError
    from core.persist import load_model

    model = load_model(args.model).model
    lines = args.text or _stdin_lines()
    render = None if args.json else _token_renderer()
    bad = 0
    for number, item in enumerate(model.explain_many(lines, scores=not args.no_scores), start=1):
        if isinstance(item, DataError):
            bad += 1
            _fail(f"line {number}: {item}")
            continue
        if render is None:
            data = item.to_dict()
            if args.no_scores:
                del data["tokens"], data["words"]
            print(json.dumps(data, ensure_ascii=False), flush=True)
        else:
            render(item)
    if bad:
        _fail(f"{bad} line(s) could not be predicted")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "tokenize": cmd_tokenize,
    "data": cmd_data,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "baseline": cmd_baseline,
    "runs": cmd_runs,
}


# -- helpers ------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _safe(text: str) -> str:
    from tui.safe_text import clean

    return clean(text)


def _fail(message: str) -> None:
    print(f"bertsent: {_safe(message)}", file=sys.stderr, flush=True)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=float))


def _warn_skipped(skipped: dict[str, int]) -> None:
    if skipped:
        _fail("skipped " + ", ".join(f"{n} row(s): {reason}" for reason, n in skipped.items()))


def _find_data(path: str | None):
    from core.sources import find_data

    with _Progress("downloading") as progress:
        return find_data(path, progress=lambda name, done, total: progress.bytes(name, done, total))


def _load_encoder(args: argparse.Namespace):
    from core.encoder import Encoder

    return Encoder.load(args.encoder, device=args.device, precision=args.precision)


def _stdin_lines() -> Iterator[str]:
    for line in sys.stdin:
        yield line.rstrip("\r\n")


class _Progress:
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

    def __enter__(self) -> _Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _print_report(report, out: str | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    cv = f" (cross-validated over {len(report.cv.Cs)} values, {report.cv.folds} folds)" if report.cv else ""
    if report.method == "tfidf":
        what = "TF-IDF + logistic regression (no encoder)"
    else:
        what = f"encoder [bold]{escape(_safe(report.encoder))}[/], pooling [bold]{report.pooling}[/]"
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
    saved = f"; model saved to {_safe(out)}" if out else ""
    console.print(f"time: {seconds}{saved}", highlight=False, markup=False)


def _token_renderer() -> Callable:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    plain = not console.is_terminal or console.no_color

    def render(prediction) -> None:
        line = Text()
        line.append(f"{prediction.label_name:8s} ", style="bold green" if prediction.label else "bold red")
        line.append(f"P(positive)={prediction.probability:.3f}  ")
        if not prediction.tokens:
            line.append(_safe(prediction.text))
        for token in prediction.tokens:
            text = _safe(token.token)
            if plain:
                mark = "+" if token.score > 0.01 else "-" if token.score < -0.01 else ""
                line.append(f"{text}{mark} ")
            else:
                line.append(text, style=_score_style(token.score))
                line.append(" ")
        console.print(line, soft_wrap=True)

    return render


def _score_style(score: float) -> str:
    strength = min(abs(score) / 0.3, 1.0)
    channel = int(90 + 165 * strength)
    grey = 90 - int(60 * strength)
    color = f"rgb({grey},{channel},{grey})" if score > 0 else f"rgb({channel},{grey},{grey})"
    return f"bold {color}" if strength > 0.5 else color


if __name__ == "__main__":
    sys.exit(main())
