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
        needs_images = False
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
    needs_images = False
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
