"""``bertsent evaluate`` and ``bertsent predict``: a saved model on labelled data or new sentences."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bertsent.cli.common import (
    EXIT_ERROR,
    Progress,
    column_options,
    columns,
    fail,
    print_json,
    safe,
    stdin_lines,
    stdout_console,
    warn_skipped,
)


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("evaluate", help="accuracy of a saved model on labelled data")
    evaluate.set_defaults(run=cmd_evaluate)
    evaluate.add_argument("--model", required=True, help="model folder from 'bertsent train'")
    evaluate.add_argument("--data", required=True, help="file, or folder (its test split is used)")
    evaluate.add_argument("--skip-bad", action="store_true", help="skip malformed rows and count them")
    column_options(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print JSON")

    predict = commands.add_parser("predict", help="label sentences and show which tokens pushed them")
    predict.set_defaults(run=cmd_predict)
    predict.add_argument("--model", required=True, help="model folder from 'bertsent train'")
    predict.add_argument("text", nargs="*", help="sentences (default: one per line from stdin)")
    predict.add_argument("--json", action="store_true", help="one JSON object per line")
    predict.add_argument(
        "--no-scores", action="store_true", help="label and probability only (about 20x faster for bulk input)"
    )
    predict.add_argument(
        "--score-class",
        metavar="LABEL",
        help="token scores towards this class (a label or its name) instead of the predicted one",
    )


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bertsent.core import jobs
    from bertsent.core.data.dataset import load_dataset, load_splits
    from bertsent.core.models.persist import load_model

    saved = load_model(args.model)
    for note in saved.notes:
        fail(f"note: {note}")
    path = Path(args.data)
    if path.is_dir():
        dataset = load_splits(path, **columns(args)).test
    else:
        dataset = load_dataset(path, **columns(args))
    warn_skipped(dataset.skipped)
    with Progress("embedding") as progress:
        result = jobs.evaluate(saved.model, dataset, progress=progress.job)
    if args.json:
        out = {
            "accuracy": result.accuracy,
            "macro_f1": result.macro_f1,
            "n": result.n,
            "precision": result.precision,
            "model": args.model,
            "data": str(path),
        }
        print_json(out)
    else:
        print(
            f"accuracy {result.accuracy:.2%}, macro F1 {result.macro_f1:.3f} on {result.n:,} sentences of "
            f"{safe(str(path))} (at {result.precision} precision)"
        )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from bertsent.core import jobs
    from bertsent.core.base.errors import DataError
    from bertsent.core.models.persist import load_model

    saved = load_model(args.model)
    for note in saved.notes:
        fail(f"note: {note}")
    model = saved.model
    scored = None if args.score_class is None else model.classes.find(args.score_class)
    lines = args.text or stdin_lines()
    render = None if args.json else token_renderer()
    bad = good = 0
    for number, item in enumerate(jobs.predict(model, lines, scores=not args.no_scores, scored=scored), start=1):
        if isinstance(item, DataError):
            bad += 1
            fail(f"line {number}: {item}")
            continue
        good += 1
        if render is None:
            data = item.to_dict()
            if args.no_scores:
                del data["tokens"], data["words"], data["scored"]
            print_json(data, one_line=True)
        else:
            render(item)
    if bad:
        fail(f"{bad} line(s) could not be predicted")
    if not good:  # a script must see that nothing came out; some lines predicted is a success
        if not bad:
            fail("nothing to predict: give sentences as arguments or one per line on stdin")
        return EXIT_ERROR
    return 0


def token_renderer() -> Callable:
    from bertsent.core.base.strength import strength_steps
    from bertsent.core.models.explain import display_axis
    from rich.text import Text

    console = stdout_console(highlight=False)
    plain = not console.is_terminal or console.no_color

    def render(prediction) -> None:
        line = Text()
        line.append(f"{safe(prediction.label_name):8s} ", style="bold")
        line.append(f"p={prediction.probability:.3f}  ")
        if prediction.scored is not None and prediction.scored != prediction.label:
            line.append(f"(scores towards {safe(prediction.scored_name)}) ", style="italic")
        if not prediction.tokens:
            line.append(safe(prediction.text))
        sign = display_axis(prediction)[0] if prediction.tokens else 1
        steps = strength_steps([sign * token.score for token in prediction.tokens])
        for token, step in zip(prediction.tokens, steps, strict=True):
            text = safe(token.token)
            if plain:
                line.append(f"{text}{('+' if step > 0 else '-') * abs(step)} ")
            else:
                line.append(text, style=step_style(step))
                line.append(" ")
        console.print(line, soft_wrap=True)

    return render


def step_style(step: int) -> str:
    """Green (positive) or red (negative) text, brighter and then bold with the strength step."""
    from bertsent.core.base.strength import STEPS

    strength = abs(step) / STEPS
    channel = 90 + round(165 * strength)
    grey = 90 - round(60 * strength)
    color = f"rgb({grey},{channel},{grey})" if step > 0 else f"rgb({channel},{grey},{grey})"
    return f"bold {color}" if abs(step) == STEPS else color
