"""The prepared GPU check of issue 18 (run it through ``bash benchmarks/gpu_check.sh``; README "The GPU check").

On one CUDA GPU, offline, in a time budget (480 s by default), it

(a) runs the ``tox -e vllm`` tests (the test files named in tox.ini's ``[testenv:vllm]``);
(b) measures cases/s of the vLLM and the transformers backends on the same ``ct_tumor`` cases (64) with a
    random-weight, full-size Qwen2.5-VL-3B built offline from its published config
    (``benchmarks/qwen2_5_vl_3b_config.json``) and the project's offline tokenizer, extended to the model's
    151,936 ids. Output length is fixed (transformers ``min_new_tokens`` = ``max_new_tokens``; vLLM
    ``ignore_eos`` and ``min_tokens``), so random weights cost what trained ones would and no weights are needed.
    It also measures the harness overhead outside generation as a share of wall time;
(c) runs 5 E-MRL GRPO steps with ``use_vllm`` in colocate mode on the tiny offline Qwen2.5-VL;
(d) writes every figure to one JSON file.

A part that cannot run (no CUDA GPU, vLLM or TRL not installed, the time budget spent) is recorded as
``"not run: <reason>"`` in place of each of its figures, and the others still run. ``--dry-run`` checks the
plumbing on CPU: a shrunken model from the same builder (the 3B config with tiny sizes, the same 151,936-id
tokenizer and processor), a handful of cases, the transformers backend only; the JSON has the same keys.

Each measurement runs in a subprocess of its own (``_worker``), with the interpreter of the environment it needs:
the vLLM backend wants ``vllm==0.33`` (the ``vllm`` extra, ``.tox/vllm``), GRPO with vLLM wants the
``train-vllm`` extra (vLLM 0.31, TRL 1.16), which cannot share one environment.
"""

from __future__ import annotations

import argparse
import configparser
import dataclasses
import json
import os
import platform
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
CONFIG_3B = Path(__file__).resolve().parent / "qwen2_5_vl_3b_config.json"
SCHEMA = 1
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "gpu_check.json"

# The figures each part reports: numbers when it ran, "not run: <reason>" in each of them when it did not.
TEST_FIGURES = ("passed", "failed", "skipped", "errors", "wall_s")
THROUGHPUT_FIGURES = ("cases", "requests", "total_s", "generate_s", "render_s", "score_s", "startup_s",
                      "cases_per_s", "generate_cases_per_s", "tokens_per_s", "overhead",
                      "overhead_without_scoring", "overhead_with_render")
GRPO_FIGURES = ("steps", "train_s", "s_per_step", "wall_s")

# --dry-run's model: the 3B builder with these sizes (the processor, tokenizer and vocabulary stay full-size)
SHRUNK_TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
               "num_key_value_heads": 2, "mrope_section": [2, 3, 3]}
SHRUNK_VISION = {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                 "fullatt_block_indexes": [1]}
# --dry-run's task: 4 cases of 4 small slices
DRY_TASK_OPTIONS = {"splits": {"test": {"n_cases": 4, "seed": 1000}},
                    "views": {"n_axial": 4, "image_size": 64, "reformats": False}}
# GRPO's task on the tiny model: 8 training cases, 8 slices of 64 px
GRPO_TASK_OPTIONS = {"splits": {"train": {"n_cases": 8, "seed": 2000}},
                     "views": {"n_axial": 8, "image_size": 64, "reformats": False}}


def not_run(reason: str) -> str:
    return f"not run: {reason}"


def skipped_part(figures: Sequence[str], reason: str, **extra: Any) -> dict[str, Any]:
    text = not_run(reason)
    return {"status": text, **{f: text for f in figures}, **extra}


# -- the random-weight model ------------------------------------------------------------------------------------
def extended_tokenizer(size: int) -> Any:
    """The project's offline byte-level BPE (``baselines.tiny_vlm.build_tokenizer``, Qwen's special tokens at ids
    0-7) with its vocabulary filled up to ``size`` ids by concatenations of its own tokens, so that every id a
    full-size model can emit decodes to text. Encoding is unchanged (the fillers are reachable by no merge)."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    from baselines import tiny_vlm

    data = json.loads(tiny_vlm.build_tokenizer().backend_tokenizer.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise RuntimeError("the offline tokenizer's ids are not contiguous")
    words = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])
             if t not in tiny_vlm.SPECIAL_TOKENS and len(t) > 1]
    next_id = len(vocab)
    for a in words:
        for b in words:
            if next_id >= size:
                break
            if a + b not in vocab:
                vocab[a + b] = next_id
                next_id += 1
        if next_id >= size:
            break
    if next_id < size:
        raise RuntimeError(f"could not fill the vocabulary to {size} ids")
    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(data)),
                                   eos_token=tiny_vlm.EOS, pad_token=tiny_vlm.PAD, padding_side="left")


def build_model(out: Path, shrink: bool, device: str = "cpu", seed: int = 0) -> dict[str, Any]:
    """A random-weight Qwen2.5-VL of the published 3B config (``shrink``: tiny layer sizes, same vocabulary and
    processor) saved to ``out`` with its processor; returns what was built."""
    import torch
    import transformers

    from baselines import tiny_vlm

    start = time.perf_counter()
    pub = json.loads(CONFIG_3B.read_text())
    pre = pub["_preprocessor"]
    tokenizer = extended_tokenizer(int(pub["vocab_size"]))
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in tiny_vlm.SPECIAL_TOKENS}
    text = {k: pub[k] for k in ("hidden_act", "hidden_size", "intermediate_size", "max_position_embeddings",
                                "max_window_layers", "num_attention_heads", "num_hidden_layers",
                                "num_key_value_heads", "rms_norm_eps", "sliding_window", "use_sliding_window",
                                "tie_word_embeddings", "vocab_size")}
    section = list(pub["rope_scaling"]["mrope_section"])
    if shrink:
        text.update({k: v for k, v in SHRUNK_TEXT.items() if k != "mrope_section"})
        section = SHRUNK_TEXT["mrope_section"]
    text.update(rope_parameters={"rope_type": "default", "rope_theta": pub["rope_theta"], "mrope_section": section},
                bos_token_id=ids[tiny_vlm.PAD], eos_token_id=ids[tiny_vlm.EOS], pad_token_id=ids[tiny_vlm.PAD])
    vision = {k: v for k, v in pub["vision_config"].items() if k not in ("in_chans", "spatial_patch_size")}
    vision["in_channels"] = pub["vision_config"]["in_chans"]
    if shrink:
        vision.update(SHRUNK_VISION)
    config = transformers.Qwen2_5_VLConfig(
        text_config=text, vision_config=vision, tie_word_embeddings=pub["tie_word_embeddings"],
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.device(device):
            model = transformers.Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=dtype)
    model.generation_config.pad_token_id = ids[tiny_vlm.PAD]
    model.generation_config.eos_token_id = ids[tiny_vlm.EOS]
    parameters = sum(p.numel() for p in model.parameters())
    model.save_pretrained(out)
    common = dict(patch_size=pre["patch_size"], temporal_patch_size=pre["temporal_patch_size"],
                  merge_size=pre["merge_size"], image_mean=pre["image_mean"], image_std=pre["image_std"],
                  size={"shortest_edge": pre["min_pixels"], "longest_edge": pre["max_pixels"]})
    processor = transformers.Qwen2_5_VLProcessor(
        image_processor=transformers.Qwen2VLImageProcessor(**common),
        video_processor=transformers.Qwen2VLVideoProcessor(**common), tokenizer=tokenizer,
        chat_template=tiny_vlm.chat_template("qwen2_5_vl"))
    processor.save_pretrained(out)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return {"config": "Qwen2.5-VL-3B" + (" shrunk (dry run)" if shrink else ""), "random_weights": True,
            "parameters": parameters, "vocab_size": len(tokenizer), "dtype": str(dtype).removeprefix("torch."),
            "built_on": device, "build_s": round(time.perf_counter() - start, 2), "path": str(out)}


# -- workers (each in a subprocess, with the interpreter of its environment) ------------------------------------
def worker_probe(_: Mapping[str, Any]) -> dict[str, Any]:
    import importlib.metadata as md
    import importlib.util

    def version(name: str) -> str | None:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return None

    info: dict[str, Any] = {"python": sys.executable, "python_version": platform.python_version()}
    for name in ("torch", "transformers", "vllm", "trl", "tox"):
        info[name] = version(name) if importlib.util.find_spec(name) is not None else None
    info["project_installed"] = any(ep.name == "ct_tumor" for ep in md.entry_points(group="harness.tasks"))
    info["cuda"], info["gpu"] = False, None
    if info["torch"]:
        import torch

        info["cuda"] = bool(torch.cuda.is_available())
        if info["cuda"]:
            info["gpu"] = torch.cuda.get_device_name(0)
    return info


def worker_build(args: Mapping[str, Any]) -> dict[str, Any]:
    return build_model(Path(args["out"]), shrink=bool(args["shrink"]), device=args["device"])


def fix_output_length(backend: Any) -> None:
    """Every generation runs to ``max_new_tokens``: EOS is ignored, so a random model writes what a trained one
    of the same length would cost."""
    from harness.models import vllm_backend
    from harness.models.hf import TransformersBackend

    if isinstance(backend, TransformersBackend):
        original = backend._generation_kwargs

        def generation_kwargs(model: Any, sampling: Any) -> dict[str, Any]:
            return {**original(model, sampling), "min_new_tokens": sampling.max_new_tokens}

        backend._generation_kwargs = generation_kwargs
    elif isinstance(backend, vllm_backend.VLLMBackend):
        if not getattr(vllm_backend.sampling_kwargs, "fixed_length", False):
            original_sampling = vllm_backend.sampling_kwargs

            def sampling_kwargs(sampling: Any) -> dict[str, Any]:
                return {**original_sampling(sampling), "ignore_eos": True, "min_tokens": sampling.max_new_tokens}

            sampling_kwargs.fixed_length = True  # type: ignore[attr-defined]
            vllm_backend.sampling_kwargs = sampling_kwargs
    else:
        raise TypeError(f"no fixed-length setting for {type(backend).__name__}")


def worker_throughput(args: Mapping[str, Any]) -> dict[str, Any]:
    """One backend, built once; an untimed warm-up run (model load, engine start, compilation), then the timed
    run on ``cases`` cases through the full ``harness.evaluate.evaluate`` in a fresh run directory."""
    from bench_backends import TimedBackend

    from harness.evaluate import RunSpec, evaluate, load_cases, make_task
    from harness.models.resolve import load_model
    from harness.registry import MODELS
    from harness.schema import Sampling

    name = args["backend"]
    work = Path(args["work"])
    spec = RunSpec(model="gpu_check_held:model", task="ct_tumor", limit=int(args["cases"]),
                   batch_size=int(args["batch_size"]), sampling=Sampling(max_new_tokens=int(args["max_new_tokens"])),
                   task_options=args["task_options"], n_boot=int(args["n_boot"]), cache_dir=args["cache_dir"])
    task = make_task(spec)
    dataset = load_cases(task, spec)  # the synthetic set exists before anything is timed
    # each case's images rendered once, so that the volume cache is as warm for the first backend as for the second
    start = time.perf_counter()
    for case in dataset.cases:
        task.requests(case, task.stages[0], {})[0].load_images()
    cache_warm_s = time.perf_counter() - start

    start = time.perf_counter()
    inner = load_model(args["model"] if name == "transformers" else f"vllm:{args['model']}",
                       options=dict(args["model_options"]))
    fix_output_length(inner)

    class Held(TimedBackend):
        """The one backend every run of this worker gets; closed at the end, not after each run."""

        def close(self) -> None:
            pass

    held = Held(inner)

    class Factory:
        @staticmethod
        def from_spec(spec: str, options: Mapping[str, Any]) -> Held:
            return held

        @staticmethod
        def check_options(options: Mapping[str, Any]) -> None:
            pass

        @staticmethod
        def task_defaults(spec: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
            return {}

    MODELS.register("gpu_check_held", Factory)
    try:
        if int(args["warmup_cases"]) > 0:
            evaluate(dataclasses.replace(spec, limit=int(args["warmup_cases"])), work / f"{name}-warmup")
        startup = time.perf_counter() - start
        held.generate_s = held.render_s = 0.0
        held.renders = 0
        begin = time.perf_counter()
        result = evaluate(spec, work / f"{name}-timed")
        total = time.perf_counter() - begin
        info = held.info()
    finally:
        MODELS.unregister("gpu_check_held")
        inner.close()
    first = json.loads((work / f"{name}-timed" / "predictions.jsonl").read_text().splitlines()[0])["text"]
    cases = result.results["n_cases"]
    requests = result.results["requests"]["generated"]
    score = float(result.results["timings"].get("score_s", 0.0))
    outside = total - held.generate_s
    return {
        "status": "ok", "cases": cases, "requests": requests, "total_s": total, "generate_s": held.generate_s,
        "render_s": held.render_s, "score_s": score, "startup_s": startup, "volume_cache_warm_s": cache_warm_s,
        "cases_per_s": cases / total, "generate_cases_per_s": cases / held.generate_s if held.generate_s else None,
        "tokens_per_s": requests * spec.sampling.max_new_tokens / held.generate_s if held.generate_s else None,
        "overhead": outside / total, "overhead_without_scoring": (outside - score) / total,
        # rendering (load_images) happens inside generate; counted as harness work too. Summed over threads where
        # the backend renders concurrently (vLLM), so it can overstate there.
        "overhead_with_render": min(1.0, (outside + held.render_s) / total),
        "batch_size": spec.batch_size, "max_new_tokens": spec.sampling.max_new_tokens,
        "model_options": dict(args["model_options"]), "first_output": first[:200],
        "backend_info": {k: v for k, v in info.items() if isinstance(v, (str, int, float, bool, type(None)))},
    }


def worker_grpo(args: Mapping[str, Any]) -> dict[str, Any]:
    """``steps`` E-MRL GRPO steps with TRL's vLLM in colocate mode, on the tiny offline Qwen2.5-VL."""
    from baselines.tiny_vlm import build_tiny_vlm
    from baselines.trainer.config import from_mapping
    from baselines.trainer.grpo import train_emrl

    trl = {"max_steps": int(args["steps"]), "use_vllm": True, "vllm_mode": "colocate",
           "vllm_gpu_memory_utilization": float(args["vllm_gpu_memory_utilization"]),
           "per_device_train_batch_size": 8, "num_generations": 4, "max_completion_length": 64,
           "learning_rate": 1e-4, "bf16": True, "gradient_checkpointing": False, "save_strategy": "no",
           "logging_steps": 1, "dataloader_num_workers": 0,
           **args.get("trl_overrides", {})}  # tests: the same worker on CPU without vLLM
    if trl["use_vllm"]:
        # colocate mode in a single process (no accelerate launch): torch.distributed's variables, as TRL documents
        for name, value in (("RANK", "0"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "127.0.0.1")):
            os.environ.setdefault(name, value)
        os.environ.setdefault("MASTER_PORT", str(_free_port()))
    work = Path(args["work"])
    start = time.perf_counter()
    model = build_tiny_vlm(work / "tiny_qwen2_5_vl", family="qwen2_5_vl", seed=0)
    cfg = from_mapping("emrl", {
        "model": str(model), "output_dir": str(work / "grpo"), "seed": 0, "cache_dir": args["cache_dir"],
        "task_options": GRPO_TASK_OPTIONS, "trl": trl})
    result = train_emrl(cfg)
    summary = result.summary
    steps = int(summary.get("steps", 0))
    train_s = float(summary["timings"]["train_s"])
    last = {k: v for k, v in summary.get("final_log", {}).items() if isinstance(v, (int, float))}
    return {"status": "ok" if steps == int(args["steps"]) else f"failed: {steps} of {args['steps']} steps logged",
            "steps": steps, "train_s": train_s, "s_per_step": train_s / steps if steps else None,
            "wall_s": time.perf_counter() - start, "final_log": last, "trl_settings": trl,
            "versions": {**summary.get("versions", {}), "vllm": worker_probe({})["vllm"]}}


WORKERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "probe": worker_probe, "build": worker_build, "throughput": worker_throughput, "grpo": worker_grpo}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the orchestrator -------------------------------------------------------------------------------------------
class Budget:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = time.monotonic()

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)


def say(message: str) -> None:
    print(f"[gpu_check {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_worker(python: str, kind: str, args: Mapping[str, Any], work: Path, timeout: float) -> dict[str, Any]:
    """``python gpu_check.py _worker KIND`` with ``args``; its JSON result, or ``{"status": "failed: ..."}``."""
    args_file, result_file = work / f"{kind}-args.json", work / f"{kind}-result.json"
    log = work / f"{kind}-{args.get('backend', 'worker')}.log"
    args_file.write_text(json.dumps(args))
    result_file.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "PYTHONUNBUFFERED": "1"}
    cmd = [python, str(Path(__file__).resolve()), "_worker", kind, str(args_file), str(result_file)]
    with log.open("w") as fh:
        try:
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=ROOT, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"status": f"failed: stopped after {timeout:.0f} s (the time budget); log {log.name}"}
        except OSError as exc:  # no such interpreter
            return {"status": f"failed: could not start {python}: {exc.strerror or exc}"}
    if proc.returncode == 0 and result_file.exists():
        return json.loads(result_file.read_text())
    return {"status": f"failed (exit {proc.returncode}): {_last_error(log)}; log {log.name}"}


def _last_error(log: Path) -> str:
    lines = [l.strip() for l in log.read_text(errors="replace").splitlines() if l.strip()]
    errors = [l for l in lines if re.match(r"^[\w.]*(Error|Exception)\b", l)]
    return (errors or lines or ["no output"])[-1][:300]


def vllm_test_files() -> list[str]:
    """The test files ``tox -e vllm`` runs, read from tox.ini."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "tox.ini")
    command = cfg["testenv:vllm"]["commands"]
    return [w for w in shlex.split(command.replace("{posargs:-q}", "")) if w.startswith("tests/")]


def parse_pytest(output: str) -> dict[str, Any]:
    """Counts from pytest's last summary line and the reasons of skipped tests (``-rs``)."""
    counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    summary = [l for l in output.splitlines() if re.search(r"\b(passed|failed|skipped|error|errors)\b.* in ", l)]
    if summary:
        for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary[-1]):
            counts["errors" if word.startswith("error") else word] = int(number)
    reasons = sorted({m.group(1).strip() for m in re.finditer(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", output, re.M)})
    return {**counts, "skip_reasons": reasons}


def part_vllm_tests(a: argparse.Namespace, probe: Callable[[str], dict[str, Any]], work: Path,
                    budget: Budget) -> dict[str, Any]:
    files = vllm_test_files()
    base = {"test_files": files}
    if a.dry_run:
        return skipped_part(TEST_FIGURES, "dry run (CPU plumbing check; the vLLM tests need vLLM and a CUDA GPU)",
                            **base)
    host = probe(sys.executable)
    if not host["cuda"]:
        return skipped_part(TEST_FIGURES, "no CUDA GPU", **base)
    env = {**os.environ}
    if host["tox"] or shutil.which("tox"):
        cmd = [sys.executable, "-m", "tox", "-e", "vllm"] if host["tox"] else [shutil.which("tox"), "-e", "vllm"]
        runner = "tox -e vllm"
        if a.wheelhouse:
            env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(Path(a.wheelhouse).resolve()))
            runner += f" (packages from {a.wheelhouse})"
    else:
        python = vllm_python(a)
        found = probe(python)
        if not found["vllm"]:
            return skipped_part(TEST_FIGURES, f"vLLM is not installed ({python}) and tox is not there to build "
                                              "its environment", **base)
        cmd = [python, "-m", "pytest", "-rs", "-q", *files]
        runner = f"pytest in {python} (tox is not installed)"
    if budget.left() < 30:
        return skipped_part(TEST_FIGURES, f"the time budget ({a.budget_s:.0f} s) was spent before this part", **base)
    say(f"(a) vLLM tests: {runner}")
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=min(a.tests_timeout_s, budget.left()))
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        (work / "vllm-tests.log").write_text(out)
        return {**skipped_part(TEST_FIGURES, "timed out"), "status": "failed: timed out", **base,
                "runner": runner, "log_tail": out.splitlines()[-15:]}
    out = proc.stdout + proc.stderr
    (work / "vllm-tests.log").write_text(out)
    counts = parse_pytest(out)
    status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    if proc.returncode == 0 and counts["skipped"] and any("vLLM" in r or "CUDA" in r for r in counts["skip_reasons"]):
        status = "ok, but tests that need vLLM or CUDA were skipped"
    return {"status": status, **counts, "wall_s": time.perf_counter() - start, **base, "runner": runner,
            "log_tail": out.splitlines()[-15:]}


def env_problem(env: Mapping[str, Any], cuda: bool, vllm: str | None = None, trl: bool = False) -> str | None:
    """Why a part cannot run in the environment ``env`` (a probe's answer), or None."""
    python = env["python"]
    if env.get("error"):
        return f"{python} could not be run ({env['error']})"
    if cuda and not env["cuda"]:
        return "no CUDA GPU"
    if vllm and not env["vllm"]:
        return f"vLLM is not installed ({python}; {vllm})"
    if trl and not env["trl"]:
        return f"TRL is not installed ({python}; the train-vllm extra)"
    if not env["project_installed"]:
        return f"the project is not installed in {python} (pip install -e .)"
    return None


def vllm_python(a: argparse.Namespace) -> str:
    tox_env = ROOT / ".tox" / "vllm" / "bin" / "python"
    return a.vllm_python or (str(tox_env) if tox_env.exists() else sys.executable)


def part_throughput(a: argparse.Namespace, probe: Callable[[str], dict[str, Any]], work: Path,
                    budget: Budget) -> dict[str, Any]:
    hf_python = a.python or (vllm_python(a) if not a.dry_run else sys.executable)
    vpy = vllm_python(a)
    hf_env = probe(hf_python)
    settings = {"task": "ct_tumor", "cases": a.cases, "max_new_tokens": a.max_new_tokens,
                "fixed_output_length": "transformers: min_new_tokens = max_new_tokens; vLLM: ignore_eos, "
                                       "min_tokens = max_tokens",
                "decoding": "greedy (the harness default)", "task_options": DRY_TASK_OPTIONS if a.dry_run else {},
                "bootstrap": a.bootstrap, "warmup_cases": a.warmup_cases}
    part: dict[str, Any] = {"settings": settings}
    why_hf = env_problem(hf_env, cuda=not a.dry_run)
    if a.dry_run:
        why_vllm = "dry run (CPU plumbing check; the vLLM backend needs vLLM and a CUDA GPU)"
    else:
        v_env = probe(vpy)
        why_vllm = env_problem(v_env, cuda=True, vllm="the vllm extra")
    if why_hf and why_vllm:
        part["model"] = skipped_part(("build_s", "parameters"), why_hf)
    else:
        say("(b) building the random-weight Qwen2.5-VL-3B" + (" (shrunk: dry run)" if a.dry_run else ""))
        builder = hf_python if not why_hf else vpy
        part["model"] = run_worker(builder, "build", {"out": str(work / "qwen2_5_vl_3b_random"),
                                                      "shrink": a.dry_run, "device": "cpu" if a.dry_run else "cuda"},
                                   work, timeout=max(1.0, budget.left()))
        if not str(part["model"].get("status", "ok")).startswith("ok"):
            why_hf = why_vllm = f"the model could not be built: {part['model']['status']}"
    common = {"model": str(work / "qwen2_5_vl_3b_random"), "cases": a.cases, "max_new_tokens": a.max_new_tokens,
              "task_options": settings["task_options"], "n_boot": a.bootstrap, "warmup_cases": a.warmup_cases,
              "cache_dir": str(work / "cache"), "work": str(work / "runs")}
    for name, python, why, batch, options in (
            ("vllm", vpy, why_vllm, a.vllm_batch_size, {"max_model_len": 32768}),
            ("transformers", hf_python, why_hf, a.hf_batch_size,
             {"device": "cpu" if a.dry_run else "cuda", "batch_size": a.hf_batch_size})):
        if why is None and budget.left() < 20:
            why = f"the time budget ({a.budget_s:.0f} s) was spent before this part"
        if why is not None:
            say(f"(b) {name}: not run: {why}")
            part[name] = skipped_part(THROUGHPUT_FIGURES, why, python=python)
            continue
        say(f"(b) {name} backend on {a.cases} ct_tumor cases")
        part[name] = {**run_worker(python, "throughput", {**common, "backend": name, "batch_size": batch,
                                                          "model_options": options}, work, timeout=budget.left()),
                      "python": python}
        if not part[name]["status"].startswith("ok"):
            part[name] = {**skipped_part(THROUGHPUT_FIGURES, part[name]["status"]), **part[name]}
    v, t = part["vllm"].get("cases_per_s"), part["transformers"].get("cases_per_s")
    if isinstance(v, float) and isinstance(t, float) and t > 0:
        part["vllm_speedup"] = v / t
    else:
        reason = next(x for x in (part["vllm"]["status"], part["transformers"]["status"]) if x != "ok")
        part["vllm_speedup"] = reason if reason.startswith("not run: ") else not_run(reason)
    return part


def part_grpo(a: argparse.Namespace, probe: Callable[[str], dict[str, Any]], work: Path,
              budget: Budget) -> dict[str, Any]:
    python = a.train_python or sys.executable
    extra = {"steps_asked": a.grpo_steps, "model": "tiny offline Qwen2.5-VL (baselines.tiny_vlm)",
             "trl": {"use_vllm": True, "vllm_mode": "colocate"}, "python": python}
    if a.dry_run:
        return skipped_part(GRPO_FIGURES, "dry run (CPU plumbing check; GRPO with use_vllm needs vLLM and a CUDA GPU)",
                            **extra)
    env = probe(python)
    why = env_problem(env, cuda=True, vllm="the train-vllm extra", trl=True) or (
        f"the time budget ({a.budget_s:.0f} s) was spent before this part" if budget.left() < 30 else None)
    if why is not None:
        say(f"(c) GRPO with vLLM: not run: {why}")
        return skipped_part(GRPO_FIGURES, why, **extra)
    say(f"(c) {a.grpo_steps} GRPO steps, use_vllm colocate, tiny model")
    (work / "grpo").mkdir(exist_ok=True)
    result = run_worker(python, "grpo", {"steps": a.grpo_steps, "work": str(work / "grpo"),
                                         "cache_dir": str(work / "cache"), "vllm_gpu_memory_utilization": 0.2},
                        work, timeout=budget.left())
    if not result["status"].startswith("ok"):
        result = {**skipped_part(GRPO_FIGURES, result["status"]), **result}
    return {**extra, **result}


def goals(throughput: Mapping[str, Any]) -> dict[str, Any]:
    """The issue's goals for the GPU run: vLLM >= 10x the transformers backend's cases/s, overhead < 5%."""
    speedup = throughput["vllm_speedup"]
    out: dict[str, Any] = {"vllm_at_least_10x_transformers": {"value": speedup, "met": None}}
    if isinstance(speedup, float):
        out["vllm_at_least_10x_transformers"]["met"] = speedup >= 10
    for name in ("vllm", "transformers"):
        value = throughput[name]["overhead"]
        out[f"{name}_overhead_under_5pct"] = {"value": value, "met": value < 0.05 if isinstance(value, float) else None}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_worker"]:
        kind, args_file, result_file = argv[1:4]
        result = WORKERS[kind](json.loads(Path(args_file).read_text()))
        Path(result_file).write_text(json.dumps(result, default=str))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dry-run", action="store_true", help="check the plumbing on CPU (under a minute)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON file [benchmarks/results/gpu_check.json]")
    p.add_argument("--work", type=Path, help="scratch folder (models, runs, logs) [a temporary one, removed]")
    p.add_argument("--budget-s", type=float, default=480.0, help="time budget of the whole check [480]")
    p.add_argument("--cases", type=int, help="ct_tumor cases [64; dry run 2]")
    p.add_argument("--max-new-tokens", type=int, help="fixed output length [128; dry run 8]")
    p.add_argument("--hf-batch-size", type=int, default=16, help="transformers backend batch size [16]")
    p.add_argument("--vllm-batch-size", type=int, default=256, help="requests per vLLM generate call [256]")
    p.add_argument("--warmup-cases", type=int, help="untimed warm-up run per backend [2; dry run 1]")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples in scoring, as run [1000]")
    p.add_argument("--grpo-steps", type=int, default=5)
    p.add_argument("--tests-timeout-s", type=float, default=180.0, help="cap on part (a) [180]")
    p.add_argument("--wheelhouse", help="folder of wheels for tox -e vllm (offline: PIP_NO_INDEX, PIP_FIND_LINKS)")
    p.add_argument("--python", help="interpreter for the transformers backend [.tox/vllm's, else this one]")
    p.add_argument("--vllm-python", help="interpreter with the vllm extra [.tox/vllm's, else this one]")
    p.add_argument("--train-python", help="interpreter with the train-vllm extra, for GRPO [this one]")
    a = p.parse_args(argv)
    a.cases = a.cases or (2 if a.dry_run else 64)
    a.max_new_tokens = a.max_new_tokens or (8 if a.dry_run else 128)
    a.warmup_cases = a.warmup_cases if a.warmup_cases is not None else (1 if a.dry_run else 2)
    if a.dry_run and a.bootstrap == 1000:
        a.bootstrap = 50

    budget = Budget(a.budget_s)
    work = a.work or Path(tempfile.mkdtemp(prefix="gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    probes: dict[str, dict[str, Any]] = {}

    def probe(python: str) -> dict[str, Any]:
        if python not in probes:
            result = run_worker(python, "probe", {}, work, timeout=120)
            if "python" not in result:
                result = {"python": python, "torch": None, "transformers": None, "vllm": None, "trl": None,
                          "tox": None, "project_installed": False, "cuda": False, "gpu": None,
                          "error": result["status"]}
            probes[python] = result
        return probes[python]

    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    say(("dry run (CPU plumbing check)" if a.dry_run else "GPU check") + f", budget {a.budget_s:.0f} s, work {work}")
    host = probe(sys.executable)
    if not a.dry_run and not host["cuda"]:
        say("no CUDA GPU here: every GPU part is recorded as 'not run: no CUDA GPU' (use --dry-run on CPU)")
    try:
        report: dict[str, Any] = {"schema": SCHEMA, "mode": "dry-run" if a.dry_run else "gpu", "started": started}
        report["vllm_tests"] = part_vllm_tests(a, probe, work, budget)
        report["throughput"] = part_throughput(a, probe, work, budget)
        report["grpo_vllm"] = part_grpo(a, probe, work, budget)
        report["goals"] = goals(report["throughput"])
        report["machine"] = {"host": platform.node(), "cpus": os.cpu_count(), "gpu": host["gpu"],
                             "environments": probes}
        report["budget_s"] = a.budget_s
        report["wall_s"] = round(budget.seconds - budget.left(), 1)
        report["logs"] = None
        statuses = [report["vllm_tests"]["status"], report["grpo_vllm"]["status"],
                    *(str(report["throughput"][k].get("status", "ok")) for k in ("model", "vllm", "transformers")),
                    *(str(e.get("error", "")) for e in probes.values())]
        if any("failed" in status for status in statuses):  # keep the logs of a failed part beside the JSON
            logs = a.out.parent / f"{a.out.stem}_logs"
            logs.mkdir(parents=True, exist_ok=True)
            for log in work.glob("*.log"):
                shutil.copy(log, logs / log.name)
            report["logs"] = str(logs)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(report, a.out)
    return 0


def print_summary(report: Mapping[str, Any], out: Path) -> None:
    def fmt(value: Any, spec: str = ".3g") -> str:
        return format(value, spec) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)

    tests, tp, grpo = report["vllm_tests"], report["throughput"], report["grpo_vllm"]
    lines = [f"gpu_check ({report['mode']}), {report['wall_s']} s of {report['budget_s']:.0f}:",
             f"  (a) vLLM tests: {tests['status']}" + ("" if str(tests["passed"]).startswith("not run") else
                                                      f" ({tests['passed']} passed, {tests['failed']} failed, "
                                                      f"{tests['skipped']} skipped)"),
             "  (b) model: " + (f"{tp['model']['config']}, {tp['model']['parameters']:,} parameters, built in "
                                f"{tp['model']['build_s']} s" if "config" in tp["model"] else tp["model"]["status"])]
    for name in ("vllm", "transformers"):
        m = tp[name]
        lines.append(f"      {name:<12} " + (m["status"] if not m["status"].startswith("ok") else
                     f"{fmt(m['cases_per_s'])} cases/s ({m['cases']} cases, {m['requests']} requests, "
                     f"{fmt(m['total_s'])} s; overhead {m['overhead']:.1%}, without scoring "
                     f"{m['overhead_without_scoring']:.1%}, with rendering {m['overhead_with_render']:.1%})"))
    lines.append(f"      vLLM / transformers: {fmt(tp['vllm_speedup'])}")
    lines.append(f"  (c) GRPO, use_vllm colocate: " + (grpo["status"] if not grpo["status"].startswith("ok") else
                 f"{grpo['steps']} steps in {fmt(grpo['train_s'])} s ({fmt(grpo['s_per_step'])} s/step)"))
    lines.append(f"  (d) every figure: {out}" + (f"; logs of failed parts: {report['logs']}" if report["logs"] else ""))
    print("\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
