"""Pre-submit the built-in baselines, so that a fresh clone builds a non-empty leaderboard.

    python -m leaderboard.make_baseline_submissions [--task ct_tumor ...] [--baseline oracle ...]

Each baseline is run through ``harness.evaluate`` on the task's leaderboard split (in a temporary run
directory) and packed by the same code as ``harness submit``. Rerun it when a task's version changes or a task
is added; a baseline that cannot answer a task is reported and skipped.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from harness.errors import HarnessError
from harness.evaluate import RunSpec, evaluate
from harness.registry import BASELINES, TASKS
from leaderboard import DEFAULT_SUBMISSIONS, LEADERBOARD_SPLIT
from leaderboard.submit import submission_from_run, write_submission

ORGANISATION = "emrl-harness (built-in baseline)"


def make(tasks: list[str], baselines: list[str], submissions: Path) -> tuple[list[Path], list[str]]:
    """(files written, failures). A baseline that says it cannot answer a task (HarnessError) is skipped; one
    that crashes is a bug in it: reported as a failure, the other baselines still submitted."""
    written: list[Path] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="baseline-runs-") as tmp:
        for task in tasks:
            for name in baselines:
                model = f"baseline:{name}"
                run_dir = Path(tmp) / task / name
                try:
                    evaluate(RunSpec(model=model, task=task, split=LEADERBOARD_SPLIT, n_boot=0), run_dir)
                    sub = submission_from_run(run_dir, name=model, organisation=ORGANISATION,
                                              description=BASELINES.describe(name))
                    path = write_submission(sub, submissions, replace=True)
                except HarnessError as exc:
                    print(f"skipped {model} on {task}: {exc}", file=sys.stderr)
                    continue
                except Exception as exc:  # noqa: BLE001 - reported with its type, and the exit status says so
                    failed.append(f"{model} on {task}: {type(exc).__name__}: {exc}")
                    print(f"FAILED {failed[-1]}", file=sys.stderr)
                    continue
                print(f"{task}: {model} -> {path}")
                written.append(path)
    return written, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", action="append", help="task (repeatable) [every registered task]")
    parser.add_argument("--baseline", action="append", help="baseline (repeatable) [every registered baseline]")
    parser.add_argument("--submissions", type=Path, default=DEFAULT_SUBMISSIONS)
    args = parser.parse_args(argv)
    written, failed = make(args.task or TASKS.names(), args.baseline or BASELINES.names(), args.submissions)
    return 0 if written and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
