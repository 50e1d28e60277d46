"""Killing a run halfway loses no finished prediction, and the rerun generates only what is missing."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from harness.evaluate import RunSpec, evaluate
from harness.models.base import ModelBackend
from harness.registry import MODELS

SLOW_MODEL = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from harness.evaluate import RunSpec, evaluate
    from harness.models.base import ModelBackend
    from harness.registry import MODELS

    class Slow(ModelBackend):
        model_id = "test:resumable"
        @classmethod
        def from_spec(cls, spec, options):
            return cls()
        def generate(self, requests, sampling):
            time.sleep(0.3)
            return [f"<report>case {r.case.case_id}</report><key_slice>1</key_slice>" for r in requests]

    MODELS.register("resumable", Slow)
    REPORT_ONLY = {"evidence": {"verify": False, "probes": False}}
    evaluate(RunSpec(model="resumable:x", task="ct_tumor", limit=12, batch_size=1, n_boot=10,
                     task_options=REPORT_ONLY), Path(sys.argv[1]))
''')


class Counting(ModelBackend):
    model_id = "test:resumable"
    calls = 0

    @classmethod
    def from_spec(cls, spec, options):
        return cls()

    def generate(self, requests, sampling):
        Counting.calls += len(requests)
        return [f"<report>case {r.case.case_id}</report><key_slice>1</key_slice>" for r in requests]


def test_sigkill_halfway_then_resume(tmp_path, ct_test_set):
    run_dir = tmp_path / "run"
    log = run_dir / "predictions.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_MODEL, str(run_dir)], env=os.environ.copy())
    deadline = time.time() + 60
    while time.time() < deadline:
        if log.exists() and len(log.read_text().splitlines()) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = len([l for l in log.read_text().splitlines() if l.strip()])
    assert 4 <= saved < 12, f"expected a half-finished run, found {saved} predictions"

    MODELS.register("resumable", Counting)
    try:
        result = evaluate(RunSpec(model="resumable:x", task="ct_tumor", limit=12, batch_size=1, n_boot=10,
                                  task_options={"evidence": {"verify": False, "probes": False}}), run_dir)
    finally:
        MODELS.unregister("resumable")
    assert Counting.calls == 12 - saved
    assert result.results["requests"] == {"requests": 12, "cached": saved, "generated": 12 - saved,
                                          "by_stage": {"report": 12 - saved}}
    lines = log.read_text().splitlines()
    assert len({l for l in lines if l.strip()}) == 12


BIG_ANSWER_MODEL = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    import harness.runner
    from harness.evaluate import RunSpec, evaluate
    from harness.models.base import ModelBackend
    from harness.registry import MODELS
    from harness.testing import slow_disk_writes

    slow_disk_writes(harness.runner, 1 << 16, lambda n: 0.02)  # 64 KiB at a time: the parent can kill -9 mid-record

    class Big(ModelBackend):
        model_id = "test:resumable"
        @classmethod
        def from_spec(cls, spec, options):
            return cls()
        def generate(self, requests, sampling):
            # the third answer is 1 MB: the kill lands while it is being written
            return [("x" * 1_000_000 if r.case.case_id.endswith("2") else "") +
                    f"<report>case {r.case.case_id}</report><key_slice>1</key_slice>" for r in requests]

    MODELS.register("resumable", Big)
    evaluate(RunSpec(model="resumable:x", task="ct_tumor", limit=6, batch_size=1, n_boot=10,
                     task_options={"evidence": {"verify": False, "probes": False}}), Path(sys.argv[1]))
''')


def test_sigkill_during_a_1mb_write_then_resume_and_score(tmp_path, ct_test_set):
    """A torn last line is cut off before the rerun appends, so the log stays readable for score and submit."""
    from harness.evaluate import rescore

    run_dir = tmp_path / "run"
    log = run_dir / "predictions.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", BIG_ANSWER_MODEL, str(run_dir)], env=os.environ.copy())
    deadline = time.time() + 60
    while time.time() < deadline and not (log.exists() and log.stat().st_size > 300_000):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    raw = log.read_bytes()
    assert not raw.endswith(b"\n") and 300_000 < len(raw) < 1_000_000, "the kill should land mid-record"
    complete = raw.count(b"\n")
    assert complete == 2

    Counting.calls = 0
    MODELS.register("resumable", Counting)
    try:
        result = evaluate(RunSpec(model="resumable:x", task="ct_tumor", limit=6, batch_size=1, n_boot=10,
                                  task_options={"evidence": {"verify": False, "probes": False}}), run_dir)
    finally:
        MODELS.unregister("resumable")
    assert Counting.calls == 4 and result.results["n_cases"] == 6
    lines = log.read_text().splitlines()
    assert len(lines) == 6 and all(l.startswith("{") and l.endswith("}") for l in lines)
    assert rescore(run_dir).results["n_cases"] == 6  # `harness score` reads the whole log again
