"""`kill -9` at random points of a ct_tumor run, then a rerun (issue 14, "Done when"): the rerun must finish all
cases with no duplicate prediction and no lost finished answer, and `harness score` and `harness submit` must
succeed on the run directory.

Each cycle starts an empty run directory and runs `harness run` in a subprocess, with a model that answers as the
oracle after a short pause and gives one answer in seven 90 kB of padding, written through a file that reaches the
disk 8 KiB at a time (as tests/test_resume.py does for the torn-line test), so that kills land mid-record too. The
process gets SIGKILL at a random point (seconds after its start: start-up, data, cached requests; after a random
number of new answers; mid-way through a large answer's write; or seconds after the last answer: scoring and
writing results), and is started again; after ``--kills`` kills (or once a resumed run finishes before its kill),
a last run goes to the end. Checked after each cycle: every line of ``predictions.jsonl`` is a record, no key
twice, every answer that was complete at some kill is still there with the same text, the last run generated
exactly what was missing, ``results.json`` has every case, and `harness score` and `harness submit` (full test
split only) exit 0. The data set and label-map cache are built first, outside the kills.

    python benchmarks/kill_sweep.py [--cycles 4] [--kills 8] [--limit N] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BIG_BYTES = 90_000  # a large answer: under the leaderboard's 100,000-character limit, so `harness submit` takes it
DRIVER = textwrap.dedent('''
    import sys, time, zlib
    import harness.runner
    from harness.models.baseline import BaselineBackend
    from harness.registry import BASELINES, MODELS
    from harness.testing import slow_disk_writes

    # writes reach the disk 8 KiB at a time: a kill can land in the middle of a record (a large answer takes
    # about 0.1 s)
    slow_disk_writes(harness.runner, 1 << 13, lambda n: 0.01 if n > 1 << 13 else 0.002)

    class Sweep(BaselineBackend):
        """The oracle's answers after a pause; one answer in seven carries %(big)d bytes of padding."""
        @classmethod
        def from_spec(cls, spec, options):
            model = cls("oracle", BASELINES.get("oracle")())
            model.model_id = "sweep:oracle"
            return model
        def generate(self, requests, sampling):
            time.sleep(0.01 * len(requests))
            texts = super().generate(requests, sampling)
            return [("~" * %(big)d if zlib.crc32(f"{r.case.case_id}/{r.kind}".encode()) %% 7 == 0 else "") + t
                    for r, t in zip(requests, texts)]
        def info(self):
            return {"backend": "sweep", "model_id": self.model_id}

    MODELS.register("sweep", Sweep)
    from harness.cli import app
    sys.argv = ["harness", "run", "--model", "sweep:oracle", "--task", "ct_tumor", "--batch-size", "4", *sys.argv[1:]]
    app()
''' % {"big": BIG_BYTES})


def complete_records(log: Path) -> tuple[dict[str, str], list[str], int]:
    """(key -> text of every complete line, keys in file order, bytes after the last newline)."""
    if not log.exists():
        return {}, [], 0
    raw = log.read_bytes()
    body, _, tail = raw.rpartition(b"\n")
    records: dict[str, str] = {}
    order: list[str] = []
    for line in body.split(b"\n") if body else []:
        if line.strip():
            rec = json.loads(line)  # raises on a fragment mid-file: exactly what must never happen
            order.append(rec["key"])
            records[rec["key"]] = rec["text"]
    return records, order, len(tail)


@dataclass
class Tally:
    cycles: int = 0
    kills: int = 0
    kills_by_kind: Counter = field(default_factory=Counter)  # the point aimed at
    kills_by_phase: Counter = field(default_factory=Counter)  # where it landed, read from the log
    finished_before_kill: int = 0
    cases: list[int] = field(default_factory=list)
    duplicates: int = 0
    lost: int = 0
    regenerated_wrongly: int = 0
    score_ok: int = 0
    submit_ok: int = 0
    submit_tried: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(self.kills_by_kind.items()))
        phases = ", ".join(f"{k}: {v}" for k, v in sorted(self.kills_by_phase.items()))
        submit = f"{self.submit_ok}/{self.submit_tried}" if self.submit_tried else "not tried (--limit)"
        return (f"cycles={self.cycles} kills={self.kills} (aimed at {kinds}; landed {phases}); runs that "
                f"finished before their kill: "
                f"{self.finished_before_kill}; cases per finished run: {sorted(set(self.cases))}; duplicates="
                f"{self.duplicates}; lost finished answers={self.lost}; wrong generated counts="
                f"{self.regenerated_wrongly}; harness score ok {self.score_ok}/{self.cycles}; harness submit ok "
                f"{submit}; problems: {len(self.problems)}")


def _start(run_dir: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRIVER, "--out", str(run_dir), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class LogWatch:
    """Complete lines and the torn tail of a growing log, reading only what was added since the last look."""

    def __init__(self, log: Path):
        self.log, self.offset, self.lines, self.tail = log, 0, 0, 0

    def poll(self) -> tuple[int, int]:
        size = self.log.stat().st_size if self.log.exists() else 0
        if size < self.offset + self.tail:  # a resumed run cut a torn tail off: count again
            self.offset, self.lines, self.tail = 0, 0, 0
        if size > self.offset:
            with open(self.log, "rb") as fh:
                fh.seek(self.offset)
                new = fh.read(size - self.offset)
            cut = new.rfind(b"\n")
            if cut >= 0:
                self.lines += new.count(b"\n")
                self.offset += cut + 1
            self.tail = size - self.offset
        return self.lines, self.tail


def choose_kill(rng: random.Random, remaining: int | None) -> tuple[str, float]:
    """A kill point: ("time", s after the start), ("answers", new complete answers), ("write", 0: mid-way through a
    large answer), or ("scoring", s after the last answer: scoring and writing results)."""
    kind = rng.choices(["time", "answers", "write", "scoring"], weights=[2, 4, 3, 1])[0]
    if kind == "time":
        return kind, rng.uniform(0.05, 3.0)
    if kind == "answers":
        return kind, float(rng.randint(1, max(1, remaining or 100)))
    if kind == "scoring":  # scoring 100 cases takes one to two seconds
        return kind, rng.uniform(0.0, 1.0)
    return kind, 0.0


def _kill_at(proc: subprocess.Popen, log: Path, point: tuple[str, float], total: int | None,
             patience: float = 30.0) -> str | None:
    """Kill ``proc`` with SIGKILL at ``point`` (see ``choose_kill``); returns its kind, None if ``proc`` finished
    first. A point that does not come within ``patience`` seconds (no large answer left) kills then."""
    kind, value = point
    watch = LogWatch(log)
    had, _ = watch.poll()
    start = time.monotonic()
    answered_all_at = None
    while proc.poll() is None:
        elapsed = time.monotonic() - start
        lines, tail = watch.poll()
        if elapsed > patience:
            break
        if kind == "time" and elapsed >= value:
            break
        if kind == "answers" and lines - had >= value:
            break
        if kind == "write" and tail > 16_384:  # a large answer a sixth to a half written
            break
        if kind == "scoring":
            if total is None or lines < total:
                answered_all_at = None
            elif answered_all_at is None:
                answered_all_at = time.monotonic()
            elif time.monotonic() - answered_all_at >= value:
                break
        time.sleep(0.002)
    if proc.poll() is not None:
        return None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return kind


def _phase(log: Path, total: int | None, had: int) -> str:
    """Where the kill landed, read from the log it left (``had``: complete answers before this start)."""
    records, _, tail = complete_records(log)
    if tail:
        return f"mid-record ({tail} bytes written)" if tail < 1000 else "mid-record (large answer)"
    if total is not None and len(records) >= total:
        return "after the last answer (scoring, results)"
    if len(records) == had:
        return "before this start's first answer (start-up, data, cached requests)"
    return "between answers"


def cycle(root: Path, rng: random.Random, kills: int, limit: int | None, env: dict[str, str], tally: Tally,
          total: int | None, plan: list[tuple[str, float]] | None = None) -> int | None:
    """One run killed up to ``kills`` times (at the points of ``plan``, else at random ones), then finished;
    returns the run's request count."""
    run_dir = root / f"cycle{tally.cycles}"
    log = run_dir / "predictions.jsonl"
    args = ["--bootstrap", "100"] + (["--limit", str(limit)] if limit else [])
    finished: dict[str, str] = {}  # every answer that was complete at some kill
    for k in range(kills):
        had = len(complete_records(log)[0])
        point = plan[k] if plan else choose_kill(rng, total - had if total is not None else None)
        proc = _start(run_dir, args, env)
        how = _kill_at(proc, log, point, total)
        if how is None:
            err = proc.stderr.read().decode(errors="replace")
            if proc.returncode != 0:
                tally.problems.append(f"cycle {tally.cycles}: a resumed run failed: {err[-500:]}")
            tally.finished_before_kill += 1
            break
        tally.kills += 1
        tally.kills_by_kind[how] += 1
        phase = _phase(log, total, had)
        tally.kills_by_phase[phase if phase.startswith("mid-record (large") else phase.split(" (")[0]] += 1
        try:
            records, _, _ = complete_records(log)
        except ValueError as exc:
            tally.problems.append(f"cycle {tally.cycles}: unreadable log after a kill: {exc}")
            return total
        finished.update(records)
    before, _, _ = complete_records(log)
    done = subprocess.run([sys.executable, "-c", DRIVER, "--out", str(run_dir), *args], env=env,
                          capture_output=True, text=True)
    tally.cycles += 1
    if done.returncode != 0:
        tally.problems.append(f"cycle {tally.cycles - 1}: the last rerun failed: {done.stderr[-800:]}")
        return total
    results = json.loads((run_dir / "results.json").read_text())
    records, order, tail = complete_records(log)
    tally.cases.append(results["n_cases"])
    tally.duplicates += len(order) - len(set(order))
    if tail:
        tally.problems.append(f"cycle {tally.cycles - 1}: the finished log ends in a torn line")
    lost = [k for k, text in finished.items() if records.get(k) != text]
    tally.lost += len(lost)
    req = results["requests"]
    total = req["requests"]
    if len(records) != total or req["cached"] != len(before) or req["generated"] != total - len(before):
        tally.regenerated_wrongly += 1
        tally.problems.append(f"cycle {tally.cycles - 1}: {len(records)} answers for {total} requests; the last "
                              f"rerun found {len(before)} cached and reported {req}")
    score = subprocess.run([sys.executable, "-m", "harness.cli", "score", str(run_dir)], env=env,
                           capture_output=True, text=True)
    if score.returncode == 0:
        tally.score_ok += 1
    else:
        tally.problems.append(f"cycle {tally.cycles - 1}: harness score failed: {score.stderr[-500:]}")
    if limit is None:
        tally.submit_tried += 1
        submit = subprocess.run([sys.executable, "-m", "harness.cli", "submit", str(run_dir), "--submissions",
                                 str(root / "submissions"), "--name", f"sweep cycle {tally.cycles - 1}"], env=env,
                                capture_output=True, text=True)
        if submit.returncode == 0:
            tally.submit_ok += 1
        else:
            tally.problems.append(f"cycle {tally.cycles - 1}: harness submit failed: {submit.stderr[-500:]}")
    return total


def sweep(cycles: int, kills: int, limit: int | None = None, seed: int = 0, cache: Path | None = None, log=print,
          plan: list[tuple[str, float]] | None = None, total: int | None = None) -> Tally:
    """``cycles`` runs, each killed up to ``kills`` times; ``total``: the run's request count, if known (the
    "scoring" kill point waits for it)."""
    rng = random.Random(seed)
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EMRL_HARNESS_CACHE": str(cache or Path(tmp) / "cache"), "PYTHONUNBUFFERED": "1"}
        for _ in range(cycles):
            t0 = time.monotonic()
            total = cycle(Path(tmp), rng, kills, limit, env, tally, total, plan)
            log(f"cycle {tally.cycles}: {time.monotonic() - t0:.0f} s; so far: {tally.line()}")
    return tally


def prepare(cache: Path, limit: int | None = None) -> int:
    """Build the test set and the label-map cache the evidence requests read (one oracle run in this process), so
    that the killed runs spend their time on the run, not on building phantoms or importing MONAI. Returns the
    run's request count."""
    os.environ["EMRL_HARNESS_CACHE"] = str(cache)
    from harness.evaluate import RunSpec, evaluate

    with tempfile.TemporaryDirectory() as tmp:
        result = evaluate(RunSpec(model="baseline:oracle", task="ct_tumor", limit=limit, n_boot=0),
                          Path(tmp) / "warm-up")
    return int(result.results["requests"]["requests"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=4)
    ap.add_argument("--kills", type=int, default=8, help="kills per cycle at most (a resumed run may finish first)")
    ap.add_argument("--limit", type=int, default=None, help="fewer cases (harness submit then is not tried)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=None, help="EMRL_HARNESS_CACHE to use [a fresh one]")
    ns = ap.parse_args()
    if ns.cache is None:  # the data set is built before the sweep: the kills are for the run, not the phantoms
        ns.cache = Path(tempfile.mkdtemp(prefix="kill-sweep-cache-"))
    t0 = time.monotonic()
    total = prepare(ns.cache, ns.limit)
    print(f"test set and label cache ready in {time.monotonic() - t0:.0f} s ({ns.cache})")
    tally = sweep(ns.cycles, ns.kills, ns.limit, ns.seed, ns.cache, total=total)
    print("kill sweep:", tally.line())
    for p in tally.problems:
        print("  problem:", p)
    ok = (not tally.problems and not tally.duplicates and not tally.lost
          and tally.score_ok == tally.cycles and tally.submit_ok == tally.submit_tried)
    print("result:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
