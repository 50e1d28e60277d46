"""The leaderboard: submissions re-scored from their predictions and published as a static site.

A submission is a model's raw answers to every request of a task's leaderboard split, plus who made it; it
carries no number the leaderboard believes. ``harness submit RUN_DIR`` packs a run directory into one;
``harness leaderboard build`` re-scores every submission against the references and writes ``site/``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_SUBMISSIONS = PACKAGE_DIR / "submissions"
DEFAULT_SITE = PACKAGE_DIR / "site"
#: the split every leaderboard ranks on
LEADERBOARD_SPLIT = "test"
