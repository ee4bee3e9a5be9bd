"""Where bertsent keeps its cache, config and state (overridable through environment variables).

The defaults are the platform's own folders (platformdirs): on Linux the XDG ones, the same as
bertsent has always used (``$XDG_CACHE_HOME/bertsent``, else ``~/.cache/bertsent``, and so on).
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "bertsent"
# Each folder's environment override: set, it wins over the platform's default.
OVERRIDES = {"cache": "BERTSENT_CACHE", "config": "BERTSENT_CONFIG", "state": "BERTSENT_STATE"}


def cache_dir() -> Path:
    """``$BERTSENT_CACHE``, else the user cache folder (Linux: ``$XDG_CACHE_HOME/bertsent``, ``~/.cache/bertsent``)."""
    return _folder("cache")


def config_dir() -> Path:
    """``$BERTSENT_CONFIG``, else the user config folder
    (Linux: ``$XDG_CONFIG_HOME/bertsent``, ``~/.config/bertsent``)."""
    return _folder("config")


def state_dir() -> Path:
    """``$BERTSENT_STATE``, else the user state folder
    (Linux: ``$XDG_STATE_HOME/bertsent``, ``~/.local/state/bertsent``)."""
    return _folder("state")


def _folder(role: str) -> Path:
    if explicit := os.environ.get(OVERRIDES[role]):
        return Path(explicit).expanduser()
    import platformdirs

    default = {
        "cache": platformdirs.user_cache_dir,
        "config": platformdirs.user_config_dir,
        "state": platformdirs.user_state_dir,
    }[role]
    return Path(default(APP, appauthor=False)).expanduser()


def writable_folder(folder: str | os.PathLike[str], what: str) -> Path:
    """``folder`` if it is, or can be created as, a folder this process may write; else one clear
    error naming ``what`` it is for. Checked before long work, so a bad path never wastes it."""
    from bertsent.core.base.errors import BertsentError

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
    from bertsent.core.base.errors import BertsentError

    path = Path(path)
    if path.is_dir():
        raise BertsentError(f"{what} {path} is a folder; name a file in it")
    if path.exists() and not path.is_file():
        raise BertsentError(f"{what} {path} exists and is not a regular file")
    writable_folder(path.parent, f"{what} {path}: its folder")
    return path
