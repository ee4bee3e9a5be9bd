"""The TUI's remembered settings (last data path and encoder) in a small JSON file."""

from __future__ import annotations

import contextlib
from pathlib import Path

from bertsent.core.base import jsonio
from bertsent.core.base.files import MIB, atomic_write_text, read_regular
from bertsent.core.base.paths import config_dir

KEYS = ("data", "encoder")


def config_path() -> Path:
    return config_dir() / "tui.json"


def load() -> dict[str, str]:
    """Remembered settings; a missing or damaged file gives ``{}``."""
    try:
        data = jsonio.loads(read_regular(config_path(), MIB))
    except (OSError, ValueError):  # missing, unreadable, not JSON, nested too deeply
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: value for key, value in data.items() if key in KEYS and isinstance(value, str) and value}


def remember(**values: str | None) -> None:
    """Merge ``values`` into the file atomically; an unwritable config folder is not an error."""
    data = load()
    data.update({key: value for key, value in values.items() if key in KEYS and value})
    with contextlib.suppress(OSError):
        atomic_write_text(config_path(), jsonio.dumps(data, indent=2, sort_keys=True) + "\n")
