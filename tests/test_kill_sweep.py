"""Issue 14, "Done when": `kill -9` at points of a run (one of them in the middle of a large answer's write), then a
rerun: every case, no duplicate, no lost finished answer, and `harness score` succeeds. A sample of the sweep in
benchmarks/kill_sweep.py, which runs the full 100-case version with many random kill points and `harness submit`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.evaluate import RUN_SPEC, RunSpec, evaluate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import kill_sweep  # noqa: E402


@pytest.mark.slow
def test_kills_mid_write_and_between_answers_then_a_rerun_lose_and_duplicate_nothing(ct_test_set, harness_cache):
    total = kill_sweep.prepare(harness_cache, limit=12)  # label maps cached: the killed runs do not import MONAI
    # fixed points: mid-way through a 90 kB answer's write, after 5 more answers, and in the next large write
    tally = kill_sweep.sweep(cycles=1, kills=3, limit=12, seed=14, cache=harness_cache, log=lambda *_: None,
                             plan=[("write", 0), ("answers", 5), ("write", 0)], total=total)
    assert tally.problems == []
    assert tally.kills_by_phase["mid-record (large answer)"] >= 1 and tally.kills >= 2, tally.line()
    assert tally.cases == [12] and tally.duplicates == 0 and tally.lost == 0 and tally.regenerated_wrongly == 0
    assert tally.score_ok == 1


def test_a_run_killed_while_writing_run_json_can_be_resumed(tmp_path, ct_test_set, monkeypatch):
    """run.json is replaced, not rewritten in place: a kill mid-write left it empty, and the rerun then refused the
    directory as another run's."""
    spec = RunSpec(model="baseline:oracle", task="ct_tumor", limit=2, n_boot=10,
                   task_options={"evidence": {"verify": False, "probes": False}})
    run_dir = tmp_path / "run"
    evaluate(spec, run_dir)

    real_write_text = Path.write_text

    def killed_mid_write(self, data, *args, **kwargs):
        if self.name.startswith(RUN_SPEC):
            real_write_text(self, "", *args, **kwargs)  # opened and truncated, then the process dies
            raise KeyboardInterrupt
        return real_write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        evaluate(spec, run_dir)
    monkeypatch.undo()
    try:
        result = evaluate(spec, run_dir)
    except HarnessError as exc:  # pragma: no cover - the old behaviour
        pytest.fail(f"the rerun refused its own run directory: {exc}")
    assert result.results["n_cases"] == 2 and result.results["requests"]["generated"] == 0
