"""Benchmark: the E-MRL trainer's rewards for one batch of 64 completions, excluding model calls.

Target: under 1 s on the project machine (2 cores, CPU). Every reward is on (format, clinical with finding F1
and the entity score, localization, cross-view, rejection, and the text-only BLEU/ROUGE one): 48 report
completions and 16 probe answers over 64 ct_tumor cases, as one GRPO step of 16 prompts x 4 completions would
hand them to TRL. The cross-view reward's verification answers come from a scripted verifier (the hallucinator
baseline, no model); its time is measured on its own and subtracted, so the number is the rewards' own cost.

    python benchmarks/bench_rewards.py [--batch 64] [--repeats 5] [--seed 0]

"cold": a batch with the findings parser's caches empty (imports, the synthetic set and the first read of each
case's files from disk excluded); "warm": the median of ``--repeats`` further batches of *new* completions (every text is perturbed,
so the per-completion parse cache never hits; the per-sentence extraction cache does, as in training, where
reports repeat their boilerplate sentences).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Sequence

import numpy as np

from baselines.text import AcquiescentBaseline, HallucinatorBaseline, OracleBaseline, TemplateBaseline
from baselines.trainer.rewards import RewardContext, build_rewards, reward_names
from harness.models.baseline import BaselineBackend
from harness.schema import Request, Sampling
from tasks.ct_tumor.task import CTTumorTask

PROBE_SHARE = 0.25


class TimedVerifier:
    """The hallucinator answering verification questions; its seconds are kept apart from the rewards'."""

    lockstep = False

    def __init__(self, task, clock=time.perf_counter):
        self.backend = BaselineBackend("hallucinator", HallucinatorBaseline())
        self.backend.bind(task)
        self.clock = clock
        self.seconds = 0.0

    def generate(self, requests: Sequence[Request]) -> list[str]:
        t0 = self.clock()
        out = self.backend.generate(list(requests), Sampling())
        self.seconds += self.clock() - t0
        return out


def perturb(text: str, rng: np.random.Generator, tag: int) -> str:
    """A new completion: sentences of the report dropped or swapped, and a unique trailing token."""
    head, sep, tail = text.partition("</report>")
    body = head.removeprefix("<report>")
    sentences = [s for s in body.split(". ") if s]
    if len(sentences) > 2 and rng.random() < 0.5:
        sentences.pop(int(rng.integers(len(sentences))))
    if len(sentences) > 2 and rng.random() < 0.5:
        i, j = rng.choice(len(sentences), 2, replace=False)
        sentences[i], sentences[j] = sentences[j], sentences[i]
    new_body = ". ".join(sentences) + f" Series {tag}."
    return (f"<report>{new_body}{sep}{tail}" if sep else f"{new_body}")


def batch(task, cases, rng, tag: int, size: int) -> tuple[list[str], list[str], list[str]]:
    baselines = [OracleBaseline(), HallucinatorBaseline(), TemplateBaseline(), AcquiescentBaseline()]
    n_probe = int(size * PROBE_SHARE)
    ids, kinds, texts = [], [], []
    for i in range(size):
        case = cases[i % len(cases)]
        kind = "probe" if i >= size - n_probe else "report"
        answer = baselines[int(rng.integers(len(baselines)))].answer(task, task.requests(case, kind, {})[0])
        ids.append(case.case_id)
        kinds.append(kind)
        texts.append(perturb(answer, rng, tag * size + i) if kind == "report" else answer)
    return ids, kinds, texts


def clear_parser_caches() -> None:
    """Empty the per-text caches of the findings parser (not the lexicon, which loads once per process)."""
    from harness.findings import extract

    for obj in vars(extract).values():
        if hasattr(obj, "cache_clear") and (obj.cache_info().maxsize or 0) > 1:
            obj.cache_clear()


def one_step(task, cases, ids, kinds, texts, clock=time.perf_counter) -> tuple[float, float, dict[str, float]]:
    verifier = TimedVerifier(task, clock)
    rewards = build_rewards(reward_names(), RewardContext.of(task, cases), verifier)
    completions = [[{"role": "assistant", "content": t}] for t in texts]
    per_reward = {}
    t0 = clock()
    for r in rewards:
        t1 = clock()
        r(prompts=None, completions=completions, case_id=ids, kind=kinds)
        per_reward[r.__name__] = clock() - t1
    total = clock() - t0
    per_reward["cross_view"] -= verifier.seconds
    return total - verifier.seconds, verifier.seconds, per_reward


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    task = CTTumorTask()
    cases = task.load("test").cases[:args.batch]
    rng = np.random.default_rng(args.seed)
    # imports, and every case's files into the OS page cache (reading data is not reward computation)
    one_step(task, cases, *batch(task, cases, rng, 10_000, args.batch))
    print(f"rewards for {args.batch} completions ({int(args.batch * PROBE_SHARE)} probe answers), every reward on, "
          "model calls excluded; wall-clock and this process's CPU seconds (the machine may be shared):")
    worst = 0.0
    for label, clock in (("wall", time.perf_counter), ("cpu", time.process_time)):
        clear_parser_caches()
        cold, cold_verify, _ = one_step(task, cases, *batch(task, cases, rng, 0, args.batch), clock=clock)
        warm = [one_step(task, cases, *batch(task, cases, rng, k + 1, args.batch), clock=clock)
                for k in range(args.repeats)]
        warm_s = statistics.median(w[0] for w in warm)
        parts = {name: statistics.median(w[2][name] for w in warm) for name in warm[0][2]}
        print(f"  {label:4s} cold (parser caches empty) {cold:.3f} s · warm (median of {args.repeats} new batches) "
              f"{warm_s:.3f} s · scripted verifier {cold_verify:.3f} s excluded")
        print("       per reward, warm: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts.items()))
        worst = max(worst, cold, warm_s) if label == "wall" else worst
    print(f"target < 1 s (wall): {'met' if worst < 1.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
