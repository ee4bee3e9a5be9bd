"""Where bertsent keeps its cache and config (overridable through environment variables)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$BERTSENT_CACHE``, else ``$XDG_CACHE_HOME/bertsent``, else ``~/.cache/bertsent``."""
    if explicit := os.environ.get("BERTSENT_CACHE"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "bertsent"


def config_dir() -> Path:
    """``$BERTSENT_CONFIG``, else ``$XDG_CONFIG_HOME/bertsent``, else ``~/.config/bertsent``."""
    if explicit := os.environ.get("BERTSENT_CONFIG"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base).expanduser() / "bertsent"


def state_dir() -> Path:
    """``$BERTSENT_STATE``, else ``$XDG_STATE_HOME/bertsent``, else ``~/.local/state/bertsent``."""
    if explicit := os.environ.get("BERTSENT_STATE"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base).expanduser() / "bertsent"


def writable_folder(folder: str | os.PathLike[str], what: str) -> Path:
    """``folder`` if it is, or can be created as, a folder this process may write; else one clear
    error naming ``what`` it is for. Checked before long work, so a bad path never wastes it."""
    from bertsent.core.errors import BertsentError

    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == folder else f" ({existing} is a file)"
        raise BertsentError(f"{what} {folder} is not a folder{where}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BertsentError(f"{what} {folder} is not writable ({existing} does not allow it)")
    return folder


def writable_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` if a file can be written there (atomically: a new file beside it, renamed over it);
    else one clear error naming ``what`` it is. Checked before the work, as ``writable_folder``."""
    from bertsent.core.errors import BertsentError

    path = Path(path)
    if path.is_dir():
        raise BertsentError(f"{what} {path} is a folder; name a file in it")
    if path.exists() and not path.is_file():
        raise BertsentError(f"{what} {path} exists and is not a regular file")
    writable_folder(path.parent, f"{what} {path}: its folder")
    return path
