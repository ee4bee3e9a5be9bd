"""``bertsent doctor``: this machine and install as bertsent sees them (the probe ``--version`` once ran)."""

from __future__ import annotations

import argparse

from bertsent.cli.common import print_json, safe


def register(commands: argparse._SubParsersAction) -> None:
    doctor = commands.add_parser(
        "doctor", help="this machine as bertsent sees it: CPU, fast path, package versions, folders and their sizes"
    )
    doctor.set_defaults(run=cmd_doctor)
    doctor.add_argument("--refresh", action="store_true", help="probe the CPU again (about a second), not its cache")
    doctor.add_argument("--json", action="store_true", help="print one JSON object")


def cmd_doctor(args: argparse.Namespace) -> int:
    from bertsent.core import jobs

    checkup = jobs.doctor(refresh=args.refresh)
    if args.json:
        print_json(checkup.to_dict())
        return 0
    machine = checkup.machine
    print(f"bertsent {checkup.version} (Python {checkup.python}, {checkup.platform})")
    print("\nmachine")
    print(f"  cpu: {safe(machine.cpu)} ({', '.join(machine.features) or 'none of note'})")
    print(f"  torch threads: {checkup.torch_threads}; cuda: {safe(checkup.cuda or 'none')}")
    print(
        f"  fast path: {machine.precision} ({machine.reason}; "
        f"fp32 {machine.fp32_gflops:.0f} GFLOP/s, bf16 {machine.bf16_gflops:.0f} GFLOP/s)"
    )
    print("\npackages")
    for name, version in checkup.packages.items():
        print(f"  {name} {version or 'not installed'}")
    print("\nfolders")
    for folder in checkup.folders:
        files = f"{folder.files:,} file{'s' if folder.files != 1 else ''}"
        held = f"{files}, {_size(folder.bytes)}" if folder.exists else "not created yet"
        print(f"  {folder.role}: {safe(folder.path)} ({folder.source}; {held})")
    print("\nhub")
    print(
        f"  {checkup.offline + ': local files only' if checkup.offline else 'encoders not on disk load from the hub'}"
    )
    return 0


def _size(count: int) -> str:
    value, unit = float(count), "bytes"
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{count:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
