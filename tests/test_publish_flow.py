"""The submission flow as the forge runs it: a local bare git repository stands in for the forge; a contributor's
branch adds a submission, leaderboard/publish.sh runs as .github/workflows/leaderboard.yml runs it (in a fresh
clone, BASE=origin/main), the site is built with the new model in it, and a bad submission is refused with its
reason and no site.

Uses the committed cxr_report baseline submissions (cheap to re-score) and the installed `harness` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leaderboard import DEFAULT_SUBMISSIONS

ROOT = Path(__file__).resolve().parents[1]
HARNESS = Path(sys.executable).parent / "harness"
TASK = "cxr_report"

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("git") is None or not HARNESS.exists(),
                                 reason="needs git and the installed `harness` command")]


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _publish(clone: Path, site: Path) -> subprocess.CompletedProcess:
    """publish.sh as the workflow runs it."""
    env = {**os.environ, "BASE": "origin/main", "SITE_OUT": str(site), "TASKS": TASK, "BOOTSTRAP": "50",
           "HARNESS": str(HARNESS)}
    return subprocess.run(["bash", "leaderboard/publish.sh"], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture()
def forge(tmp_path) -> Path:
    """A bare repository whose main branch holds publish.sh and two submissions (oracle, template)."""
    bare = tmp_path / "forge.git"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    _git(tmp_path, "clone", "-q", str(bare), str(seed))
    (seed / "leaderboard" / "submissions" / TASK).mkdir(parents=True)
    shutil.copy(ROOT / "leaderboard" / "publish.sh", seed / "leaderboard" / "publish.sh")
    for name in ("oracle", "template"):
        shutil.copy(DEFAULT_SUBMISSIONS / TASK / f"baseline-{name}.json", seed / "leaderboard" / "submissions" / TASK)
    _git(seed, "checkout", "-q", "-b", "main")
    _git(seed, "add", ".")
    _git(seed, "commit", "-q", "-m", "leaderboard")
    _git(seed, "push", "-q", "origin", "main")
    return bare


def _contribute(forge: Path, tmp_path: Path, branch: str, file_name: str, obj: dict) -> Path:
    """A contributor clones, adds one submission on a branch and pushes it; CI then checks the branch out fresh."""
    work = tmp_path / f"work-{branch}"
    _git(tmp_path, "clone", "-q", str(forge), str(work))
    _git(work, "checkout", "-q", "-b", branch)
    (work / "leaderboard" / "submissions" / TASK / file_name).write_text(json.dumps(obj))
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", f"Submit {file_name}")
    _git(work, "push", "-q", "origin", branch)
    ci = tmp_path / f"ci-{branch}"
    _git(tmp_path, "clone", "-q", str(forge), str(ci))
    _git(ci, "checkout", "-q", branch)
    return ci


def test_a_submission_on_a_branch_is_checked_and_published(forge, tmp_path):
    obj = json.loads((DEFAULT_SUBMISSIONS / TASK / "baseline-hallucinator.json").read_text())
    obj["model"]["name"] = "Contributed model"
    ci = _contribute(forge, tmp_path, "submit-contributed", "contributed-model.json", obj)
    site = tmp_path / "site"
    r = _publish(ci, site)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checking leaderboard/submissions/cxr_report/contributed-model.json" in r.stdout
    assert "1 submission file(s) checked" in r.stdout
    index = (site / "index.html").read_text()
    assert "Contributed model" in index and "baseline:oracle" in index
    assert (site / ".nojekyll").exists() and (site / TASK / "models" / "contributed-model.html").exists()


def test_a_bad_submission_is_refused_with_its_reason(forge, tmp_path):
    obj = json.loads((DEFAULT_SUBMISSIONS / TASK / "baseline-template.json").read_text())
    obj["model"]["name"] = "Incomplete model"
    obj["predictions"] = obj["predictions"][:-1]  # one request left unanswered
    ci = _contribute(forge, tmp_path, "submit-incomplete", "incomplete-model.json", obj)
    site = tmp_path / "site"
    r = _publish(ci, site)
    assert r.returncode == 1
    assert "REFUSED leaderboard/submissions/cxr_report/incomplete-model.json" in r.stderr
    assert "no prediction" in r.stderr  # the reason, from `harness leaderboard check`
    assert not site.exists()
