"""Cases per second of each model backend on the same ct_tumor cases, and the harness's own overhead.

    python benchmarks/bench_backends.py                      # the tiny offline Qwen2.5-VL, 10 cases
    python benchmarks/bench_backends.py --cases 20 --max-new-tokens 256 --repeats 3 --json bench.json
    python benchmarks/bench_backends.py --model /models/Qwen2.5-VL-3B-Instruct --backends vllm,openai

Backends measured, each through the full ``harness.evaluate.evaluate`` (a fresh run directory each time, so
nothing comes from the prediction cache):

- ``transformers``: the checkpoint through :class:`~harness.models.hf.TransformersBackend`;
- ``openai``: the same checkpoint served by :class:`~harness.models.chat_server.ChatCompletionsServer` on
  127.0.0.1 (in this process) and reached through the OpenAI-compatible client, so the HTTP path, base64
  images and the thread pool are all in the measurement;
- ``vllm``: :class:`~harness.models.vllm_backend.VLLMBackend`, when vLLM imports and torch sees a CUDA GPU.

Overhead is the wall time of ``evaluate`` spent outside the backend's ``generate`` (task setup, reading the
cached data set, prediction keys and the write-ahead log, scoring with bootstrap CIs), as a fraction of the
total; the goal is under 5%. Rendering the images (``Request.load_images``: a MONAI volume load plus slicing
and resizing) happens inside ``generate``, because backends pull pixels lazily; it is harness work all the
same, so it is timed separately and a second fraction counts it as overhead too. Runs of the backends are
interleaved ``--repeats`` times and the median is reported, so a noisy machine affects them alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.evaluate import RunSpec, evaluate, load_cases, make_task
from harness.models.base import ModelBackend
from harness.models.resolve import load_model
from harness.registry import MODELS
from harness.schema import Request, Sampling

TIMED = "bench_timed"  # registered at run time only, never as an entry point


class TimedBackend(ModelBackend):
    """Wraps the backend a spec names; adds up the wall time of ``generate`` and of ``load_images``."""

    last: "TimedBackend | None" = None  # the instance the latest evaluate built

    def __init__(self, inner: ModelBackend):
        self.inner = inner
        self.model_id = inner.model_id
        self.construct_s = 0.0
        self.generate_s = 0.0
        self.render_s = 0.0  # summed over threads: may exceed generate_s where images render concurrently
        self.renders = 0
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: str, options: Mapping[str, Any]) -> "TimedBackend":
        start = time.perf_counter()
        backend = cls(load_model(spec, options=options))
        backend.construct_s = time.perf_counter() - start
        TimedBackend.last = backend
        return backend

    def bind(self, task: Any) -> None:
        self.inner.bind(task)

    def info(self) -> dict[str, Any]:
        return self.inner.info()

    def close(self) -> None:
        self.inner.close()

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[str]:
        timed = [dataclasses.replace(r, load_images=self._timed(r.load_images)) for r in requests]
        start = time.perf_counter()
        try:
            return self.inner.generate(timed, sampling)
        finally:
            self.generate_s += time.perf_counter() - start

    def _timed(self, load):
        def load_images():
            start = time.perf_counter()
            try:
                return load()
            finally:
                with self._lock:
                    self.render_s += time.perf_counter() - start
                    self.renders += 1
        return load_images


def measure(spec: RunSpec, run_dir: Path) -> dict[str, Any]:
    MODELS.register(TIMED, TimedBackend)
    try:
        start = time.perf_counter()
        result = evaluate(dataclasses.replace(spec, model=f"{TIMED}:{spec.model}"), run_dir)
        total = time.perf_counter() - start
    finally:
        MODELS.unregister(TIMED)
    timed = TimedBackend.last
    assert timed is not None
    counts, timings = result.results["requests"], result.results["timings"]
    outside = total - timed.generate_s
    score_s = timings.get("score_s", 0.0)
    return {
        "cases": result.results["n_cases"], "requests": counts["generated"], "cached": counts["cached"],
        "total_s": total, "generate_s": timed.generate_s, "render_s": timed.render_s, "renders": timed.renders,
        "outside_s": outside, "construct_s": timed.construct_s, "score_s": score_s,
        # the prediction loop's own work: task setup, reading the cached set, prediction keys, the fsynced log
        "runner_s": outside - timed.construct_s - score_s,
        "cases_per_s": result.results["n_cases"] / total,
        "overhead": outside / total,
        "overhead_without_scoring": (outside - score_s) / total,
        "model_id": result.results["model"].get("model_id"),
    }


def render_alone(spec: RunSpec) -> dict[str, Any]:
    """Every first-stage request's ``load_images`` once, serially, outside any backend."""
    task = make_task(spec)
    cases = load_cases(task, spec).cases
    requests = [r for case in cases for r in task.requests(case, task.stages[0], {})]
    requests[0].load_images()  # imports and caches warm
    start = time.perf_counter()
    images = sum(len(r.load_images()) for r in requests)
    elapsed = time.perf_counter() - start
    return {"requests": len(requests), "images": images, "ms_per_request": 1000 * elapsed / len(requests)}


def available_backends(wanted: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    chosen, skipped = [], {}
    for name in wanted:
        if name == "vllm":
            reason = _vllm_unavailable()
            if reason:
                skipped[name] = reason
                continue
        chosen.append(name)
    return chosen, skipped


def _vllm_unavailable() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed"
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    return None if torch.cuda.is_available() else "no CUDA GPU"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="checkpoint directory [a tiny Qwen2.5-VL built offline]")
    parser.add_argument("--backends", default="transformers,openai,vllm")
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8, help="requests per generate call (the runner's)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--warmup-cases", type=int, default=2,
                        help="an untimed run of each backend first (imports, first-call costs); 0 skips it")
    parser.add_argument("--device", default="auto", help="transformers backend device (also the served model's)")
    parser.add_argument("--concurrency", type=int, default=8, help="openai backend: requests in flight")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples in scoring (as run)")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    try:
        return _run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> int:
    model_dir = args.model
    if model_dir is None:
        from baselines.tiny_vlm import build_tiny_vlm

        model_dir = build_tiny_vlm(work / "tiny_qwen2_5_vl", family="qwen2_5_vl", seed=0)
    base = RunSpec(model=str(model_dir), task="ct_tumor", limit=args.cases, batch_size=args.batch_size,
                   sampling=Sampling(max_new_tokens=args.max_new_tokens), n_boot=args.bootstrap,
                   cache_dir=str(work / "cache"))
    load_cases(make_task(base), base)  # build the synthetic set once, outside every measurement

    backends, skipped = available_backends([b.strip() for b in args.backends.split(",") if b.strip()])
    runs: dict[str, list[dict[str, Any]]] = {b: [] for b in backends}
    server = None

    def spec_for(name: str) -> RunSpec:
        nonlocal server
        if name == "transformers":
            return dataclasses.replace(base, model_options={"device": args.device})
        if name == "openai":
            if server is None:
                server = _start_server(model_dir, args)
            return dataclasses.replace(base, model=server.spec, model_options={"concurrency": args.concurrency})
        if name == "vllm":
            return dataclasses.replace(base, model=f"vllm:{model_dir}")
        raise SystemExit(f"unknown backend {name!r} (known: transformers, openai, vllm)")

    try:
        if args.warmup_cases:
            for name in backends:
                evaluate(dataclasses.replace(spec_for(name), limit=args.warmup_cases), work / "runs" / f"{name}-warmup")
        for repeat in range(args.repeats):
            for name in backends:
                runs[name].append(measure(spec_for(name), work / "runs" / f"{name}-{repeat}"))
                print(f"  {name} run {repeat + 1}/{args.repeats}: {runs[name][-1]['total_s']:.1f}s",
                      file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
            server.backend.close()

    summary = {name: _median(rows) for name, rows in runs.items()}
    render = render_alone(base)
    _print_table(summary, skipped, render, args, model_dir)
    if args.json:
        args.json.write_text(json.dumps({"settings": {k: str(v) for k, v in vars(args).items()},
                                         "model": str(model_dir), "runs": runs, "median": summary,
                                         "render_alone": render, "skipped": skipped}, indent=2))
    return 0


def _start_server(model_dir: Path, args: argparse.Namespace):
    from harness.models.hf import TransformersBackend
    from harness.models.chat_server import ChatCompletionsServer

    served = TransformersBackend.from_spec(str(model_dir), {"device": args.device, "batch_size": args.batch_size})
    return ChatCompletionsServer(served, "bench", max_batch=args.batch_size).start()


def _median(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median total time (a whole run, so that its columns add up)."""
    return sorted(rows, key=lambda r: r["total_s"])[(len(rows) - 1) // 2]


def _print_table(summary: Mapping[str, Mapping[str, Any]], skipped: Mapping[str, str], render: Mapping[str, Any],
                 args: argparse.Namespace, model_dir: Path) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nct_tumor, {args.cases} cases, max_new_tokens={args.max_new_tokens}, batch_size={args.batch_size}, "
          f"bootstrap={args.bootstrap}, run of median time of {args.repeats}; model {model_dir}\n"
          f"{os.cpu_count()} CPUs, load average {load} (other processes slow every column alike)")
    head = (f"{'backend':<13}{'requests':>9}{'total s':>9}{'generate':>9}{'render':>8}{'build':>7}{'runner':>8}"
            f"{'score':>7}{'cases/s':>9}{'overhead':>10}{'w/o score':>10}")
    print(head)
    print("-" * len(head))
    for name, m in summary.items():
        print(f"{name:<13}{m['requests']:>9}{m['total_s']:>9.2f}{m['generate_s']:>9.2f}{m['render_s']:>8.2f}"
              f"{m['construct_s']:>7.2f}{m['runner_s']:>8.2f}{m['score_s']:>7.2f}{m['cases_per_s']:>9.3f}"
              f"{m['overhead']:>10.1%}{m['overhead_without_scoring']:>10.1%}")
    for name, reason in skipped.items():
        print(f"{name:<13}not run: {reason}")
    print("overhead = (total - generate) / total = (build + runner + score) / total; w/o score leaves scoring out.\n"
          "render = load_images inside generate (summed over threads where a backend renders concurrently).\n"
          f"rendering alone, serially: {render['ms_per_request']:.0f} ms per request "
          f"({render['requests']} requests, {render['images']} images)")


if __name__ == "__main__":
    raise SystemExit(main())
