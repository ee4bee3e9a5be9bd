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
