"""``bertsent label``: label every row of a CSV, TSV, JSONL or plain-text corpus with a saved model."""

from __future__ import annotations

import argparse

from bertsent.cli.common import Progress, fail, positive_int, safe


def register(commands: argparse._SubParsersAction) -> None:
    from bertsent.core.data.table import FORMATS
    from bertsent.core.labelling.label import OUTPUT_FORMATS, WINDOW_ROWS

    label = commands.add_parser(
        "label",
        help="label a whole corpus: every input row and column, plus label and probability (resumable)",
        description="Label every row of INPUT with a saved model and write the rows, with their columns, to "
        "--out. Killed or interrupted, the same command resumes where it stopped.",
    )
    label.set_defaults(run=cmd_label)
    label.add_argument("input", metavar="INPUT", help="CSV, TSV, JSONL or plain-text file; - for stdin (plain lines)")
    label.add_argument("--model", required=True, help="model folder from 'bertsent train'")
    label.add_argument("--out", required=True, help="file to write (written atomically when complete)")
    label.add_argument("--text-column", help="column holding the text (default: text, sentence, review or content)")
    label.add_argument(
        "--format", choices=OUTPUT_FORMATS, help="output format (default: from --out's suffix, else the input's)"
    )
    label.add_argument("--input-format", choices=FORMATS, help="input format (default: from INPUT's suffix)")
    label.add_argument("--all-probabilities", action="store_true", help="add one probability column per class")
    label.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this machine, resumable; ray: a Ray cluster (pip install 'bertsent[ray]') (default: local)",
    )
    label.add_argument("--ray-address", help="Ray cluster to use (default: $RAY_ADDRESS, else a local Ray)")
    label.add_argument(
        "--workers", type=positive_int, help="Ray actors (default: as many as the cluster's nodes can host)"
    )
    label.add_argument(
        "--cpus-per-worker",
        type=positive_int,
        help="CPUs (torch threads) of each Ray actor (default: 2, or the largest node's CPUs if fewer)",
    )
    label.add_argument("--verbose", action="store_true", help="show Ray's own log lines (hidden by default)")
    label.add_argument(
        "--window-rows",
        type=positive_int,
        default=WINDOW_ROWS,
        help=f"rows sorted by length together and written as one part; a kill loses at most one window "
        f"(default: {WINDOW_ROWS:,})",
    )


def cmd_label(args: argparse.Namespace) -> int:

    from bertsent.core import jobs

    with Progress("labelling") as progress:
        try:
            result = jobs.label(
                args.model,
                args.input,
                args.out,
                engine=args.engine,
                text_column=args.text_column,
                format=args.format,
                input_format=args.input_format,
                all_probabilities=args.all_probabilities,
                window_rows=args.window_rows,
                address=args.ray_address,
                workers=args.workers,
                cpus_per_worker=args.cpus_per_worker,
                verbose=args.verbose,
                progress=progress.job,
            )
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (a subclass): main gives each its status
            kept = (
                "the Ray engine does not resume: nothing was written"
                if args.engine == "ray"
                else "finished parts are kept, run the same command again to resume"
            )
            said = "interrupted" if type(stop) is KeyboardInterrupt else "terminated"
            raise type(stop)(f"{said}; {kept}") from None
    if result.restarted:
        fail("note: an interrupted run with other settings or another model was discarded")
    rate = (result.rows - result.resumed) / result.seconds if result.seconds > 0 else 0.0
    resumed = f", {result.resumed:,} of them from the interrupted run" if result.resumed else ""
    fail(
        f"labelled {result.rows:,} rows into {safe(str(result.output))} ({result.format}) in {result.seconds:.1f} s, "
        f"{rate:,.0f} rows/s{resumed}"
    )
    if result.bad:
        examples = "; ".join(result.first_errors[:3])
        fail(f"{result.bad:,} row(s) could not be labelled (see the error column), e.g. {safe(examples)}")
    return 0
