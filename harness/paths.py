"""Where the harness keeps its caches: the environment is read here, at each call, and nowhere else in the library."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$EMRL_HARNESS_CACHE``, else ``$XDG_CACHE_HOME/emrl-harness``, else ``~/.cache/emrl-harness``."""
    if os.environ.get("EMRL_HARNESS_CACHE"):
        return Path(os.environ["EMRL_HARNESS_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "emrl-harness"
