"""Mini-experiment: do E-MRL rewards reduce hallucination where SFT and a text-only reward do not?

On the synthetic ct_tumor training split, a small random-init Qwen2.5-VL (1.7M parameters, 16 px patches, rebuilt
here from its seed: ``python -m baselines.tiny_vlm OUT --size mini``) is trained with

1. SFT as a curriculum: first the vision tower alone, with a tumor site / kind / size target per image token (the
   ``vision`` stage; the tower is then frozen), then single axial slices, each with the tumors it cuts in the report
   writer's words (the ``slice`` stage), then the oracle's report alone (which organ, which
   tumor, which slice), then every stage of the protocol (report, verification of the named slice, probes);
2. from that one SFT checkpoint, GRPO with (a) the text-only reward (format + BLEU-4/ROUGE-L) and (b) the E-MRL
   rewards (format + clinical + localization + cross-view + rejection), each arm with the same steps, prompts and
   completions, once per training seed;

and every checkpoint is evaluated on the same held-out test cases with ``harness.evaluate.evaluate`` (the code of
``harness run``), beside the template baseline, the oracle, and the SFT model with every image blanked (a uniform
grey image of the same size: what the model gets from the text alone). Per arm, each metric is the mean over the
training seeds with a 95% t-interval over seeds; the arms are compared by a paired approximate-randomization
test on the same (seed, case) pairs, re-aggregating the metric (``harness.metrics.compare``).

One command from a fresh clone (after ``pip install -e '.[train,test]'``); rerunning it resumes (finished phases
and cached predictions are kept)::

    python examples/mini_experiment.py                     # the table, on 2 CPU cores
    python examples/mini_experiment.py --publish           # and write examples/results/ + the README table
    python examples/mini_experiment.py --render-readme     # README table from examples/results/ only
    python examples/mini_experiment.py --help              # every knob

CPU time is measured per phase (``resource.getrusage``: this process, all its threads) and written with the
table; a resumed phase keeps the CPU time of the run that finished it. Set ``OMP_NUM_THREADS`` to bound the cores
it takes. Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a clone without an install

RESULTS_FILE = ROOT / "examples" / "results" / "mini_experiment.json"
CURVES_FILE = ROOT / "examples" / "results" / "mini_experiment_rewards.png"
README = ROOT / "README.md"
README_START, README_END = "<!-- mini-experiment table: start -->", "<!-- mini-experiment table: end -->"

ARMS = {
    "grpo_text": {"format": 1.0, "text": 1.0, "clinical": 0.0, "localization": 0.0, "cross_view": 0.0,
                  "rejection": 0.0},
    "grpo_emrl": {"format": 1.0, "clinical": 1.0, "localization": 1.0, "cross_view": 1.0, "rejection": 1.0,
                  "text": 0.0},
}
ARM_LABELS = {"grpo_text": "SFT + GRPO text-only", "grpo_emrl": "SFT + GRPO E-MRL"}
EVAL_METRICS = ("finding_f1", "hallucination", "format", "localization", "cross_view", "probes", "bleu")
COLUMNS = (  # (header, metric output, lower is better)
    ("finding F1 (macro)", "finding_f1_macro", False),
    ("finding F1 (per report)", "finding_f1", False),
    ("hallucination rate ↓", "hallucination_rate", True),
    ("key-slice hit", "key_slice_hit", False),
    ("cross-view consistency", "local_vs_truth", False),
    ("rejection bal. acc.", "balanced_accuracy", False),
    ("format ok", "format_ok", False),
    ("BLEU-4", "bleu4", False),
)
# issue 16's bar for the SFT model: what "it reads the scans" means here
THRESHOLDS = {"finding_f1_macro_over_template": 0.15, "key_slice_hit": 0.6, "hallucination_rate": 0.3}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/mini_experiment", help="working directory (checkpoints, runs)")
    p.add_argument("--model-size", default="mini", help="baselines.tiny_vlm.SIZES key")
    p.add_argument("--model-seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--sft-seed", type=int, default=0)
    p.add_argument("--seeds", default="0,1,2", help="GRPO training seeds, one run per arm each")
    p.add_argument("--train-cases", type=int, default=800)
    p.add_argument("--test-cases", type=int, default=100)
    p.add_argument("--n-axial", type=int, default=12, help="axial slices in the global view")
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--window", default="70,200", help="CT window CENTER,WIDTH in HU of every view (the task's "
                   "default is 40,400)")
    p.add_argument("--curriculum", default="vision:2000,slice:800,report:800,all:100",
                   help="SFT phases STAGES:STEPS, comma-separated; STAGES 'all' or stages joined by '+' (the task's "
                   "stages; 'slice': one axial slice -> the tumors it cuts, see slice_rows; 'scan': the global view -> "
                   "which slices show which tumors, see scan_rows; 'vision', alone in its phase: the vision tower with "
                   "per-token tumor targets, see run_vision_stage)")
    p.add_argument("--sft-batch", type=int, default=4)
    p.add_argument("--slice-batch", type=int, default=8, help="examples per step of the 'slice' stage")
    p.add_argument("--sft-lr", type=float, default=3e-4)
    p.add_argument("--focus-weight", type=float, default=1.0,
                   help="loss weight of the report tokens the scan decides (see FocusWeights); 1: plain SFT loss")
    p.add_argument("--size-weight", type=float, default=None,
                   help="loss weight of the tokens of a stated size's number (the digits before 'mm') in the report "
                        "stages, in place of --focus-weight for them (see FocusWeights); default: --focus-weight")
    p.add_argument("--vision-cache", action=argparse.BooleanOptionalAction, default=True,
                   help="with the tower frozen, keep each training row's collated tokens and image embeddings after "
                        "its first use (CachedVisionCollator): the report stages then cost the language model alone")
    p.add_argument("--key-attend-weight", type=float, default=0.0,
                   help="creport stage: weight of a second attention target, head 1 of every layer looking, from the "
                        "positions that predict the key slice's number, at the key slice's image tokens that show "
                        "the main tumor (label maps at training time only; 0: off)")
    p.add_argument("--attend-weight", type=float, default=0.0,
                   help="weight of the attention target in the 'creport' stage (see attention_loss): one head per "
                   "language-model layer is trained to look, from every answer token, at the image tokens that show "
                   "a tumor; 0: none")
    p.add_argument("--vision-lr", type=float, default=4e-3, help="learning rate of the 'vision' stage")
    p.add_argument("--vision-batch", type=int, default=32, help="slices per step of the 'vision' stage")
    p.add_argument("--freeze-vision", action=argparse.BooleanOptionalAction, default=None,
                   help="keep the vision tower fixed in the SFT phases (default: when the curriculum has a 'vision' "
                   "phase)")
    p.add_argument("--grpo-steps", type=int, default=6)
    p.add_argument("--grpo-prompts", type=int, default=2, help="prompts per GRPO step")
    p.add_argument("--generations", type=int, default=4, help="completions per prompt")
    p.add_argument("--grpo-lr", type=float, default=5e-5)
    p.add_argument("--max-completion", type=int, default=128, help="tokens per completion (GRPO and evaluation)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--resamples", type=int, default=2000, help="paired test resamples")
    p.add_argument("--skip-grpo", action="store_true", help="SFT, blanked SFT and the baselines only")
    p.add_argument("--publish", action="store_true",
                   help=f"write {RESULTS_FILE.relative_to(ROOT)}, the reward-curve PNG and the README table")
    p.add_argument("--render-readme", action="store_true", help="only regenerate the README table from the "
                   "committed results file")
    args = p.parse_args(argv)
    if args.freeze_vision is None:
        args.freeze_vision = any(stages is not None and "vision" in stages for stages, _ in curriculum(args.curriculum))
    return args


def seeds_of(args) -> list[int]:
    return [int(s) for s in str(args.seeds).split(",") if s.strip()]


def task_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"splits": {"train": {"n_cases": args.train_cases, "seed": 2000}},
            "views": {"n_axial": args.n_axial, "image_size": args.image_size, "reformats": False,
                      "window": dict(zip(("center", "width"), map(float, str(args.window).split(","))))}}


def cpu_trl() -> dict[str, Any]:
    return {"use_cpu": True, "bf16": False, "gradient_checkpointing": False, "save_strategy": "no",
            "dataloader_num_workers": 0}


def curriculum(spec: str) -> list[tuple[tuple[str, ...] | None, int]]:
    phases = []
    for part in spec.split(","):
        stages, steps = part.rsplit(":", 1)
        phases.append((None if stages == "all" else tuple(stages.split("+")), int(steps)))
    return phases


class Ledger:
    """CPU seconds per phase, kept on disk so that a resumed run still counts what earlier runs spent."""

    def __init__(self, path: Path):
        self.path = path
        self.data: dict[str, dict[str, float]] = json.loads(path.read_text()) if path.exists() else {}

    def run(self, name: str, fn):
        if name in self.data:
            return fn()  # finished before: fn only reads the result back
        c0, w0 = cpu_seconds(), time.perf_counter()
        result = fn()
        self.data[name] = {"cpu_s": round(cpu_seconds() - c0, 1), "wall_s": round(time.perf_counter() - w0, 1)}
        self.path.write_text(json.dumps(self.data, indent=2))
        return result

    def total(self, key: str = "cpu_s") -> float:
        return sum(v[key] for v in self.data.values())


def cpu_seconds() -> float:
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def finished(out: Path):
    """A training phase that a previous run of this script finished."""
    from baselines.trainer.logs import LOG_FILE, read_log
    from baselines.trainer.run import SUMMARY, TrainResult

    summary = out / SUMMARY
    if not summary.exists() or not (out / "final" / "config.json").exists():
        return None
    return TrainResult(output_dir=out, checkpoint=out / "final", log=read_log(out / LOG_FILE),
                       summary=json.loads(summary.read_text()))


def run_sft(args, start: Path, out: Path, stages, steps: int):
    from baselines.trainer.sft import train_sft

    if stages is not None and "vision" in stages:
        if len(stages) > 1:
            raise SystemExit("the 'vision' stage trains the vision tower alone: give it a phase of its own")
        return run_vision_stage(args, start, out, steps)
    if (stages is not None and set(stages) & set(OWN_STAGES)) or args.freeze_vision:
        return run_slice_sft(args, start, out, stages, steps)
    if (done := finished(out)) is not None:
        return done
    return train_sft(sft_config(args, start, out, stages, steps))


def sft_config(args, start: Path, out: Path, stages, steps: int, batch: int | None = None):
    from baselines.trainer.config import from_mapping

    return from_mapping("sft", {
        "model": str(start), "output_dir": str(out), "seed": args.sft_seed, "task_options": task_options(args),
        "sft_stages": list(stages) if stages else None, "plot": False,
        "trl": {**cpu_trl(), "max_steps": steps, "per_device_train_batch_size": batch or args.sft_batch,
                "learning_rate": args.sft_lr, "lr_scheduler_type": "cosine", "warmup_steps": min(20, steps // 10),
                "logging_steps": 10}})


SLICE_PROMPT = ("The image is one axial CT slice. State which tumors it shows (organ, part, side, size in mm), or that it "
                "shows no tumor.")
SLICE_MIN_AREA = 4  # pixels of a tumor's cut for a slice to count as showing it; thinner cuts are left out


def slice_rows(split, seed: int = 0) -> list[dict[str, Any]]:
    """The ``slice`` curriculum stage, a dense per-slice target that the report does not give: one axial slice of the
    global view and the tumors it cuts, in the report writer's words (``tasks.ct_tumor.evidence.plane_text``: the
    sentence of each tumor, or "No tumor is seen."). Every slice that cuts a tumor by at least ``SLICE_MIN_AREA``
    pixels, and as many tumor-free slices drawn at random from the same cases; slices with a thinner cut are left
    out. Deterministic in ``seed``."""
    import numpy as np

    from tasks.ct_tumor import evidence

    task, rng = split.task, np.random.default_rng(seed)
    pos, neg = [], []
    for case in split.cases:
        images, zs = task.global_view(case), task.slices_of(case)
        areas = {l.label: dict(map(tuple, case.meta.get("lesion_area_by_z", {}).get(str(l.label), [])))
                 for l in case.lesions}
        for k, (image, z) in enumerate(zip(images, zs)):
            cut = [l for l in case.lesions if areas[l.label].get(z, 0) > 0]
            shown = sorted((l for l in cut if areas[l.label][z] >= SLICE_MIN_AREA), key=lambda l: -areas[l.label][z])
            if cut and len(shown) < len(cut):
                continue
            answer = evidence.plane_text([l.finding for l in shown], rng)
            row = {"prompt": [{"role": "user", "content": [{"type": "text", "text": f"Slice {k + 1}:"},
                                                           {"type": "image", "text": None},
                                                           {"type": "text", "text": SLICE_PROMPT}]}],
                   "images": [image], "case_id": case.case_id, "kind": "slice",
                   "completion": [{"role": "assistant", "content": answer}]}
            (pos if shown else neg).append(row)
    keep = rng.permutation(len(neg))[:max(len(pos), 1)]
    rows = pos + [neg[i] for i in sorted(keep)]
    return [rows[i] for i in rng.permutation(len(rows))]


SCAN_PROMPT = ("Which of these slices show a tumor? For each one, give its number and the tumors it shows (organ, part, "
               "side, size in mm), or say that no slice shows a tumor.")
SCAN_NONE = "No slice shows a tumor."


def scan_rows(split, seed: int = 0) -> list[dict[str, Any]]:
    """The ``scan`` curriculum stage, between one slice and the report: the whole global view, as the report sees it,
    and the question which of its slices show a tumor; the answer names each such slice and the tumors it cuts (at
    least ``SLICE_MIN_AREA`` pixels) in the report writer's words, e.g. "Slice 4: <sentence>. Slice 9: <sentence>",
    or ``SCAN_NONE``. It ties what a slice shows to its number, the bridge from seeing to the key slice.
    Deterministic in ``seed``."""
    import numpy as np

    from baselines.trainer.data import example
    from tasks.ct_tumor import evidence

    task, rng = split.task, np.random.default_rng(seed)
    rows = []
    for case in split.cases:
        request = task._report_request(case)
        areas = {l.label: dict(map(tuple, case.meta.get("lesion_area_by_z", {}).get(str(l.label), [])))
                 for l in case.lesions}
        parts = []
        for k, z in enumerate(task.slices_of(case)):
            shown = sorted((l for l in case.lesions if areas[l.label].get(z, 0) >= SLICE_MIN_AREA),
                           key=lambda l: -areas[l.label][z])
            if shown:
                parts.append(f"Slice {k + 1}: {evidence.plane_text([l.finding for l in shown], rng)}")
        row = example(request, completion=[{"role": "assistant", "content": " ".join(parts) or SCAN_NONE}])
        row["prompt"][0]["content"][-1] = {"type": "text", "text": SCAN_PROMPT}
        row["kind"] = "scan"
        rows.append(row)
    return rows


def canonical_report(case) -> str:
    """The case's truth as a report in one fixed wording, the target of the ``creport`` stage: the organs in the
    order of ``NORMAL_ORGANS``, each either "No focal lesion in the <organ>." or one sentence per tumor in it
    (largest first) in the report writer's first template, "There is a <size> mm <attribute> <observation> in
    the <part> of the <organ>."; then the impression. The oracle's report says the same things with a phrasing
    drawn at random per sentence, so most of its tokens are wording a model cannot predict from the scan; here the
    only tokens that differ between cases are the ones the scan decides (which organ has a tumor, what, where,
    how large). Written with the harness's own phrase lists, so the task's reader extracts exactly the truth."""
    from harness.phantoms.ct import NORMAL_ORGANS
    from harness.reports_ct import COUNT_WORDS, location_phrase, organ_phrase, phrasing
    from harness.schema import Presence

    p = phrasing()
    first = _FirstChoice()
    sentences, n = [], 0
    for anatomy, side in NORMAL_ORGANS:
        found = sorted((f for f in case.findings if f.presence is not Presence.ABSENT and f.anatomy == anatomy
                        and f.laterality == side), key=lambda f: -(f.size_mm or 0))
        if not found:
            sentences.append(f"No focal lesion in the {organ_phrase(anatomy, side)}.")
        for f in found:
            attrs = sorted(f.attributes)
            attr = p["attribute_names"][attrs[0]][0] if attrs and attrs[0] in p["attribute_names"] else ""
            obs = p["observation_names"].get(f.observation, [f.observation])[0]
            size = f"{f.size_mm:.0f} mm" if f.size_mm else "unmeasured"
            sentences.append(" ".join(f"There is a {size} {attr} {obs} in the {location_phrase(f, first)}."
                                      .split()))
            n += 1
    impression = (f"{COUNT_WORDS.get(n, str(n))} {'lesion' if n == 1 else 'lesions'} as described above." if n
                  else p["no_tumor_impressions"][0])
    return "FINDINGS: " + " ".join(sentences) + " IMPRESSION: " + impression


class _FirstChoice:
    """An rng stand-in for the report writer's phrase functions that always takes the first form."""

    def integers(self, *args, **kwargs) -> int:
        return 0


def creport_rows(split, seed: int = 0) -> list[dict[str, Any]]:
    """The ``creport`` curriculum stage: the task's report request of every case (byte for byte the prompt
    ``harness run`` sends) answered with ``canonical_report`` and the oracle's key slice, in the task's answer
    form."""
    from baselines.trainer.data import example
    from tasks.ct_tumor.task import oracle_key_slice

    task, rows = split.task, []
    for case in split.cases:
        answer = task.format_answer(canonical_report(case), oracle_key_slice(case, task.slices_of(case)))
        rows.append(example(task._report_request(case), completion=[{"role": "assistant", "content": answer}]))
    return rows


OWN_STAGES = {"slice": slice_rows, "scan": scan_rows, "creport": creport_rows}  # this script's stages


def run_slice_sft(args, start: Path, out: Path, stages: Sequence[str] | None, steps: int):
    """SFT on the rows of this script's own stages in ``stages`` (``slice_rows``, ``scan_rows``), mixed with the
    oracle's answers of the task's stages in it (``stages`` None: every task stage): TRL's SFTTrainer with the same
    settings as ``harness train sft``; with ``--freeze-vision`` the vision tower (patch embedding, blocks, merger) is
    not trained, so what the ``vision`` stage taught it stays."""
    from transformers import AutoModelForImageTextToText
    from trl import SFTTrainer

    from baselines.trainer import checkpoint, logs
    from baselines.trainer.data import sft_rows, to_dataset
    from baselines.trainer.run import load_training_split, prepare_output, train_and_save

    if (done := finished(out)) is not None:
        return done
    own = [s for s in stages if s in OWN_STAGES] if stages is not None else []
    task_stages = None if stages is None else [s for s in stages if s not in OWN_STAGES]
    cfg = sft_config(args, start, out, None, steps, batch=args.slice_batch if list(stages or ()) == ["slice"] else None)
    t0 = time.perf_counter()
    split = load_training_split(cfg)
    rows = [row for name in own for row in OWN_STAGES[name](split, args.sft_seed)] + (
        sft_rows(split, task_stages) if task_stages is None or task_stages else [])
    attend = (args.attend_weight > 0 or args.key_attend_weight > 0) and "creport" in own
    if attend:  # the image tokens that show a tumor (and the key slice's main tumor), per creport row
        proc = checkpoint.load_processor(cfg.model)
        masks = tumor_tokens(split.task, split.cases, proc) if args.attend_weight > 0 else {}
        keys = key_tokens(split.task, split.cases, proc) if args.key_attend_weight > 0 else {}
        mine = lambda row: row["kind"] == "report" and "images" in row  # noqa: E731
        rows = [{**row, "attend": masks.get(row["case_id"], []) if mine(row) else [],
                 "attend_key": keys.get(row["case_id"], []) if mine(row) else []} for row in rows]
    focus = args.focus_weight != 1.0 and any(s in ("report", "creport") for s in (stages or ("report",)))
    # the frozen tower's output kept per row (CachedVisionCollator), in the phases that use the focus trainer
    cached = bool(args.freeze_vision and args.vision_cache and (focus or attend))
    if cached:
        rows = [{**row, "row_id": i} for i, row in enumerate(rows)]
    dataset = to_dataset(rows)
    t_data = time.perf_counter() - t0
    processor = checkpoint.load_processor(cfg.model)
    prepare_output(cfg)
    # eager attention where the attention target needs the attention weights (the same numbers as sdpa)
    model = AutoModelForImageTextToText.from_pretrained(cfg.model, **({"attn_implementation": "eager"} if attend
                                                                      else {}))
    if args.freeze_vision:
        for param in model.model.visual.parameters():
            param.requires_grad_(False)
    trainer_cls = focus_trainer(SFTTrainer) if focus or attend else SFTTrainer
    if attend:
        trainer_cls.attend_weight = args.attend_weight
        trainer_cls.key_attend_weight = args.key_attend_weight
    if cached:  # (only then is trainer_cls focus_trainer's own subclass, not TRL's SFTTrainer itself)
        trainer_cls.cached_vision = True
    trainer = trainer_cls(model=model, args=cfg.trl_args(), train_dataset=dataset, processing_class=processor,
                          callbacks=[logs.make_callback(out, "SFT stage", False)])
    if focus:
        trainer.focus = FocusWeights.for_task(processor.tokenizer, split.task, args.focus_weight,
                                              size_weight=args.size_weight)
    if cached:
        trainer.data_collator = CachedVisionCollator(trainer.data_collator, tower_encoder(model),
                                                     processor.tokenizer.pad_token_id)
    if attend:
        trainer.data_collator = AttendCollator(trainer.data_collator)
        trainer.image_token_id = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        trainer.tokenizer_for_queries = processor.tokenizer
    return train_and_save(trainer, processor, cfg, split, len(dataset), t_data,
                          extra=lambda: {"stages": sorted(set(dataset["kind"])),
                                         "focus_weight": args.focus_weight if focus else 1.0,
                                         "attend_weight": args.attend_weight if attend else 0.0,
                                         "key_attend_weight": args.key_attend_weight if attend else 0.0,
                                         "size_weight": args.size_weight if focus else None,
                                         "vision_cache": cached})


def tumor_tokens(task, cases, processor) -> dict[str, list[int]]:
    """Per case, one 0/1 per merged image token of its global view (slice after slice, each slice's tokens in the
    order the language model reads them): 1 where the token shows a tumor (``vision_targets``' site target; a cut
    thinner than ``SLICE_MIN_AREA`` pixels counts as none)."""
    ip = processor.image_processor
    token_px = ip.patch_size * ip.merge_size
    if task.views.image_size % token_px:
        raise SystemExit(f"the attention target needs an image size that is a multiple of {token_px} px")
    masks = {}
    for case in cases:
        _, labels, owners, lesions = vision_slices(task, [case], 0, 0)
        site = vision_targets(labels, owners, lesions, token_px)[0]
        masks[case.case_id] = (site > 0).astype(int).ravel().tolist()
    return masks


def key_tokens(task, cases, processor) -> dict[str, list[int]]:
    """Per case, one 0/1 per merged image token of its global view (as ``tumor_tokens``): 1 on the tokens of the
    oracle's key slice that show the main tumor -- the evidence the key-slice answer names. All 0 for a case
    without a key slice."""
    import numpy as np

    from tasks.ct_tumor.task import main_lesion_label, oracle_key_slice

    ip = processor.image_processor
    token_px = ip.patch_size * ip.merge_size
    masks = {}
    for case in cases:
        _, labels, _, _ = vision_slices(task, [case], 0, 0)
        n, h, w = labels.shape
        mask = np.zeros((n, (h // token_px) * (w // token_px)), np.int64)
        key, main = oracle_key_slice(case, task.slices_of(case)), main_lesion_label(case)
        if key is not None and main is not None:
            blocks = labels[key - 1].reshape(h // token_px, token_px, w // token_px, token_px).transpose(0, 2, 1, 3)
            mask[key - 1] = (blocks.reshape(-1, token_px * token_px) == main).any(-1)
        masks[case.case_id] = mask.ravel().tolist()
    return masks


def key_slice_queries(tokenizer, labels_row) -> list[int]:
    """The positions (in ``attention_loss``'s shifted frame: position q predicts token q + 1) that predict the
    tokens of the answer's key-slice value, the text between ``<key_slice>`` and ``</key_slice>``. Found by
    decoding, since the tiny BPE may merge a tag's characters with the number's."""
    answer = (labels_row != -100).nonzero()[:, 0].tolist()
    ids = labels_row[answer].tolist()
    spans, text = [], ""
    for i in range(len(ids)):
        nxt = tokenizer.decode(ids[:i + 1])
        spans.append((len(text), len(nxt)))
        text = nxt
    start = text.rfind("<key_slice>")
    end = text.find("</key_slice>", max(start, 0))
    if start < 0 or end < 0:
        return []
    start += len("<key_slice>")
    return [answer[i] - 1 for i, (a, b) in enumerate(spans) if a < end and b > start and answer[i] > 0]


class AttendCollator:
    """TRL's collator, plus the rows' ``attend`` masks as one zero-padded (batch, image tokens) tensor."""

    def __init__(self, base):
        self.base = base

    def __call__(self, examples):
        import torch

        masks = {key: [list(ex.pop(key, None) or []) for ex in examples] for key in ("attend", "attend_key")}
        batch = self.base(examples)
        for key, rows in masks.items():
            width = max(1, max(len(m) for m in rows))
            batch[key] = torch.tensor([m + [0] * (width - len(m)) for m in rows], dtype=torch.long)
        return batch


class CachedVisionCollator:
    """TRL's prompt-completion collator for a frozen vision tower, computed once per row: the first time a row
    (``row_id``) is seen, it is collated alone by ``base`` and its images are run through ``encode`` (the tower and
    merger: the merged image tokens the language model reads); both are kept. A batch is then the kept rows, padded
    as ``base`` pads them (right: the pad token, attention 0, label -100, mm token type 0), with the image embeddings
    in ``image_embeds`` in place of ``pixel_values`` -- what ``focus_trainer`` hands the model as its
    ``mm_encoder_outputs``. The same batch as ``base`` gives, without rendering, processing or the tower again:
    with the tower frozen (and no dropout in it), every later step costs the language model alone."""

    def __init__(self, base, encode, pad_id: int):
        self.base, self.encode, self.pad_id = base, encode, int(pad_id)
        self.rows: dict[Any, dict[str, Any]] = {}

    def _row(self, example) -> dict[str, Any]:
        import torch

        key = example["row_id"]
        if key not in self.rows:
            one = self.base([{k: v for k, v in example.items() if k != "row_id"}])
            row = {k: v[0] for k, v in one.items() if k not in ("pixel_values", "image_grid_thw")}
            row["image_grid_thw"] = one["image_grid_thw"]
            with torch.no_grad():
                row["image_embeds"] = self.encode(one["pixel_values"], one["image_grid_thw"]).detach()
            self.rows[key] = row
        return self.rows[key]

    def __call__(self, examples):
        import torch

        rows = [self._row(ex) for ex in examples]
        width = max(len(r["input_ids"]) for r in rows)
        fill = {"input_ids": self.pad_id, "attention_mask": 0, "labels": -100, "mm_token_type_ids": 0,
                "token_type_ids": 0}
        batch = {}
        for key in rows[0]:
            if key in ("image_grid_thw", "image_embeds"):
                batch[key] = torch.cat([r[key] for r in rows])
                continue
            pad = fill[key]
            batch[key] = torch.stack([torch.cat([r[key], r[key].new_full((width - len(r[key]),), pad)])
                                      for r in rows])
        return batch


def tower_encoder(model):
    """``encode`` of ``CachedVisionCollator``: the model's own image features (vision tower and merger), the image
    tokens of every image laid end to end."""
    import torch

    def encode(pixel_values, image_grid_thw):
        out = model.model.get_image_features(pixel_values, image_grid_thw, return_dict=True)
        return torch.cat(list(out.pooler_output), dim=0)

    return encode


def attention_loss(attentions, input_ids, labels, attend, image_token_id: int, head: int = 0,
                   queries: Sequence[Sequence[int]] | None = None):
    """The attention target of ``--attend-weight``: in head ``head`` of every layer, minus the log of the attention
    mass that each position predicting an answer token puts on the image tokens marked in ``attend`` (rows without
    a marked token are left out), averaged over positions, layers and rows. It teaches the language model where among
    the global view's image tokens (12 x 16 here) a tumor is: without it the attention over the image tokens stays
    close to uniform, so the one or two tokens that show a tumor are read at about 1/192 of the image attention. The
    marks come from the label maps, as the ``vision`` stage's targets do: training only. 0 when no row has a mark.
    ``queries`` (per row) replaces the answer positions by the given ones (the key-slice target); a row with none
    is left out."""
    import torch

    terms = []
    for b in range(input_ids.shape[0]):
        if not attend[b].any():
            continue
        where = (input_ids[b] == image_token_id).nonzero()[:, 0]
        if len(where) > attend.shape[1] or attend[b, len(where):].any():
            raise ValueError(f"row {b}: {len(where)} image tokens, but marks for {attend.shape[1]}")
        target = where[attend[b, :len(where)].bool()]
        query = (labels[b, 1:] != -100).nonzero()[:, 0] if queries is None else torch.as_tensor(
            list(queries[b]), dtype=torch.long)
        if not len(query):
            continue
        for layer in attentions:
            mass = layer[b, head][query][:, target].sum(-1)
            terms.append(-torch.log(mass + 1e-6).mean())
    if not terms:
        return attentions[0].new_zeros(())
    return torch.stack(terms).mean()


class FocusWeights:
    """Per-token loss weights for the report stages (``--focus-weight W``): the tokens a case's scan decides get
    weight W, the rest 1. A decided token is one that the all-normal answer (``canonical_report`` of a case without
    tumors, key slice none) does not contain -- tumor sentences, sizes, key-slice numbers -- or one that starts a
    sentence or a tag's content (the token after one ending in '.', ':' or '>': where "No focal lesion in the
    liver" and "There is a 27 mm ..." part ways, and the key slice). The all-normal report leaves most tokens of
    every report right, so with plain token averaging it is a deep minimum; W makes the few tokens that differ
    between cases count. ``size_weight`` (``--size-weight``), when given, replaces W on the tokens of a stated
    size's number: digit tokens whose run of digits is followed by "mm" (the finding F1 credits a size only within
    max(2 mm, 10%), so these few tokens decide much of the score)."""

    def __init__(self, weight: float, normal_ids: Sequence[int], start_ids: Sequence[int],
                 size_weight: float | None = None, digit_ids: Sequence[int] = (), mm_ids: Sequence[int] = ()):
        import torch

        self.weight = float(weight)
        self.normal_ids = torch.as_tensor(sorted(set(normal_ids)), dtype=torch.long)
        self.start_ids = torch.as_tensor(sorted(set(start_ids)), dtype=torch.long)
        self.size_weight = None if size_weight is None else float(size_weight)
        self.digit_ids = torch.as_tensor(sorted(set(digit_ids)), dtype=torch.long)
        self.mm_ids = torch.as_tensor(sorted(set(mm_ids)), dtype=torch.long)

    @classmethod
    def for_task(cls, tokenizer, task, weight: float, size_weight: float | None = None) -> "FocusWeights":
        from types import SimpleNamespace

        normal = task.format_answer(canonical_report(SimpleNamespace(findings=())), None)
        normal_ids = tokenizer(normal + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        words = [tokenizer.decode([i]) for i in range(len(tokenizer))]
        starts = [i for i, w in enumerate(words) if w.rstrip().endswith((".", ":", ">"))]
        digits = [i for i, w in enumerate(words) if w.strip().isdigit()]
        mm = [i for i, w in enumerate(words) if w.strip() == "mm"]
        return cls(weight, normal_ids, starts, size_weight, digits, mm)

    def size_tokens(self, target):
        """(batch, length) bool: the digit tokens of a number followed by "mm"."""
        import torch

        digit, mm = torch.isin(target, self.digit_ids), torch.isin(target, self.mm_ids)
        size = torch.zeros_like(digit)
        ahead = torch.zeros_like(digit[:, 0])  # the run of digits from here on ends in "mm"
        for t in range(target.shape[1] - 1, -1, -1):
            size[:, t] = digit[:, t] & ahead
            ahead = torch.where(digit[:, t], ahead, mm[:, t])
        return size

    def __call__(self, labels):
        """labels (batch, length), -100 where ignored -> weights (batch, length - 1) of the shifted targets."""
        import torch

        target, prev = labels[:, 1:], labels[:, :-1]
        decided = ~torch.isin(target, self.normal_ids) | torch.isin(prev, self.start_ids)
        weights = torch.where(decided, self.weight, 1.0)
        if self.size_weight is not None:
            weights = torch.where(self.size_tokens(target), self.size_weight, weights)
        return weights * (target != -100)


def focus_trainer(base):
    """``base`` (TRL's SFTTrainer) with its loss replaced by the ``FocusWeights``-weighted token cross-entropy (plain
    without ``focus``), averaged over the completion tokens (as the plain loss is), plus ``attend_weight`` x
    ``attention_loss`` where the batch has ``attend`` masks."""
    import torch.nn.functional as F

    class FocusSFTTrainer(base):
        focus: FocusWeights | None = None
        attend_weight: float = 0.0  # the attention target (attention_loss); the batch then has an ``attend`` mask
        key_attend_weight: float = 0.0  # the key-slice target (head 1; ``attend_key`` mask)
        image_token_id: int | None = None
        tokenizer_for_queries = None
        cached_vision: bool = False  # the batches come from CachedVisionCollator (``row_id``, ``image_embeds``)

        def _set_signature_columns_if_needed(self):
            super()._set_signature_columns_if_needed()
            for key, on in (("attend", self.attend_weight), ("attend_key", self.key_attend_weight),
                            ("row_id", self.cached_vision)):
                if on and key not in self._signature_columns:
                    self._signature_columns = [*self._signature_columns, key]

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            if "image_embeds" in inputs:  # the frozen tower's output, kept by CachedVisionCollator
                from transformers.modeling_outputs import BaseModelOutputWithPooling

                inputs["mm_encoder_outputs"] = {
                    "image": BaseModelOutputWithPooling(pooler_output=(inputs.pop("image_embeds"),))}
            attend = inputs.pop("attend", None)
            attend_key = inputs.pop("attend_key", None)
            extra = {"output_attentions": True} if ((attend is not None and self.attend_weight) or (
                attend_key is not None and self.key_attend_weight)) else {}
            outputs = model(**inputs, use_cache=False, **extra)
            logits = outputs.logits[:, :-1].float()
            target = labels[:, 1:]
            ce = F.cross_entropy(logits.transpose(1, 2), target.clamp(min=0), reduction="none")
            w = self.focus(labels.cpu()).to(ce.device) if self.focus is not None else (target != -100).float()
            loss = (ce * w).sum() / (target != -100).sum().clamp(min=1)
            if extra and attend is not None and self.attend_weight:
                loss = loss + self.attend_weight * attention_loss(outputs.attentions, inputs["input_ids"], labels,
                                                                  attend, self.image_token_id)
            if extra and attend_key is not None and self.key_attend_weight:
                queries = [key_slice_queries(self.tokenizer_for_queries, labels[b].cpu())
                           for b in range(labels.shape[0])]
                loss = loss + self.key_attend_weight * attention_loss(
                    outputs.attentions, inputs["input_ids"], labels, attend_key, self.image_token_id, head=1,
                    queries=queries)
            return (loss, outputs) if return_outputs else loss

    return FocusSFTTrainer


VISION_HOLDOUT = 50  # training cases left out of the vision stage, to measure its detection on unseen slices


def vision_sites() -> list[tuple[str, str | None, str | None]]:
    """(organ, side, part) of every place the phantom grows tumors: the classes of the vision stage's site target."""
    from harness.phantoms.ct import anatomy

    anat, sites = anatomy(), []
    for name in anat["tumor_sites"]:
        organ = anat["organs"][name]
        parts = list(organ.get("segments", {})) or [p[0] for p in (organ.get("split") or {}).get("parts", [])] or [None]
        sites += [(organ["anatomy"], organ.get("laterality"), part) for part in parts]
    return sites


VISION_KINDS = ("cyst", "hypodense mass", "hyperdense mass", "lung nodule", "lung mass")


def vision_kind(finding) -> int:
    if finding.anatomy == "lung":
        return 3 if finding.observation == "nodule" else 4
    if finding.observation == "cyst":
        return 0
    return 1 if "hypodense" in finding.attributes else 2


def vision_slices(task, cases, extra_per_case: int, seed: int):
    """Every global-view axial slice of ``cases`` (and ``extra_per_case`` other axial slices of each volume, drawn
    at random) as uint8 pixels exactly as the task renders them, with the tumor label map of the same slice and, per
    case, {label: (site class, kind class, size mm)}."""
    import numpy as np
    from PIL import Image

    from harness.imaging import axial, to_pil

    sites, rng = vision_sites(), np.random.default_rng(seed)
    images, labels, owners, lesions = [], [], [], []
    size = task.views.image_size
    for i, case in enumerate(cases):
        vol = task._volumes.load(case.image_path, case.label_path, task.views.window, mmap=True)
        zs = list(task.slices_of(case))
        others = [z for z in range(vol.image.shape[2]) if z not in zs]
        zs += [int(z) for z in rng.choice(others, min(extra_per_case, len(others)), replace=False)]
        for z in zs:
            images.append(np.asarray(to_pil(axial(vol.image, z), size).convert("L")))
            lab = Image.fromarray(axial(vol.labels, z).astype(np.uint8))
            labels.append(np.asarray(lab.resize(images[-1].shape[::-1], Image.NEAREST)))
            owners.append(i)
        lesions.append({l.label: (sites.index((l.finding.anatomy, l.finding.laterality, l.finding.sub_location)),
                                  vision_kind(l.finding), float(l.finding.size_mm or 0)) for l in case.lesions})
    return np.stack(images), np.stack(labels), np.array(owners), lesions


def vision_targets(labels, owners, lesions, token_px: int, min_px: int = SLICE_MIN_AREA):
    """Per merged image token (a ``token_px`` square, raster order): the site class + 1 of the tumor with the most
    pixels in it (0: none; -100, ignored: a tumor cut of fewer than ``min_px`` pixels), its kind + 1 and size."""
    import numpy as np

    from harness.phantoms.ct import TUMOR_LABEL_BASE

    n, h, w = labels.shape
    gy, gx = h // token_px, w // token_px
    blocks = labels.reshape(n, gy, token_px, gx, token_px).transpose(0, 1, 3, 2, 4).reshape(n, gy * gx, -1)
    site = np.zeros((n, gy * gx), np.int64)
    kind, size = site.copy(), np.zeros((n, gy * gx), np.float32)
    for b, t in zip(*np.nonzero((blocks >= TUMOR_LABEL_BASE).any(-1))):
        v = blocks[b, t][blocks[b, t] >= TUMOR_LABEL_BASE]
        u, cnt = np.unique(v, return_counts=True)
        j = int(cnt.argmax())
        if cnt[j] < min_px:
            site[b, t] = kind[b, t] = -100
            continue
        s, k, mm = lesions[owners[b]][int(u[j])]
        site[b, t], kind[b, t], size[b, t] = s + 1, k + 1, mm
    return site, kind, size


def pixel_patches(images, patch: int, merge: int, temporal: int = 2):
    """uint8 (n, h, w) grey slices -> the processor's ``pixel_values`` (n * patches, 3 * temporal * patch^2): RGB
    copies of the grey level, normalised by mean 0.5 / std 0.5, patches grouped by merge unit (checked against the
    processor in ``run_vision_stage``)."""
    import torch

    x = torch.as_tensor(images).float() / 255.0
    x = (x - 0.5) / 0.5
    n, h, w = x.shape
    gh, gw = h // patch, w // patch
    x = x[:, None, None].expand(n, temporal, 3, h, w)
    x = x.reshape(n, temporal, 3, gh // merge, merge, patch, gw // merge, merge, patch)
    return x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(n * gh * gw, 3 * temporal * patch * patch)


def vision_geometry(vis, gh: int, gw: int):
    """The window order and rotary (cos, sin) of one gh x gw patch grid, as the tower's own forward makes them."""
    import torch
    from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as qwen

    thw, seen = torch.tensor([[1, gh, gw]]), {}

    def grab(module, args, kwargs):
        seen["pe"] = kwargs["position_embeddings"]
        raise StopIteration

    hook = vis.blocks[0].register_forward_pre_hook(grab, with_kwargs=True)
    try:
        vis(torch.zeros(gh * gw, vis.patch_embed.proj.weight[0].numel()), grid_thw=thw)
    except StopIteration:
        pass
    finally:
        hook.remove()
    order, _ = qwen.get_vision_window_index(thw, spatial_merge_size=vis.spatial_merge_size,
                                            window_size=vis.window_size, patch_size=vis.patch_size, kwargs={})
    return order, tuple(t.detach() for t in seen["pe"])


def vision_forward(vis, pixel_values, n: int, geometry):
    """The Qwen2.5-VL vision tower's forward for ``n`` images of one size, batched (the same numbers as
    ``vis(pixel_values, grid_thw)``, which loops over images): (merged tokens (n, tokens, out), patch states
    (n, patches, hidden)), both in raster order (patches grouped by merge unit)."""
    import torch
    import torch.nn.functional as F
    from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as qwen

    order, (cos, sin) = geometry
    unit = vis.spatial_merge_unit
    x = vis.patch_embed(pixel_values)
    p = x.shape[0] // n
    x = x.reshape(n, p // unit, unit, -1)[:, order].reshape(n, p, -1)
    for blk in vis.blocks:
        attn = blk.attn
        q, k, v = attn.qkv(blk.norm1(x)).reshape(n, p, 3, attn.num_heads, -1).permute(2, 0, 1, 3, 4).unbind(0)
        q, k = qwen.apply_rotary_pos_emb_vision(q, k, cos, sin)
        o = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), scale=attn.scaling)
        x = x + attn.proj(o.transpose(1, 2).reshape(n, p, -1))
        x = x + blk.mlp(blk.norm2(x))
    back = torch.argsort(order)
    merged = vis.merger(x.reshape(n * p, -1)).reshape(n, p // unit, -1)[:, back]
    return merged, x.reshape(n, p // unit, unit, -1)[:, back].reshape(n, p, -1)


def run_vision_stage(args, start: Path, out: Path, steps: int):
    """The ``vision`` curriculum stage: the vision tower alone, trained with a dense target the language model's loss
    does not give. On every axial slice of the global view (and as many other slices of each training volume), each
    merged image token (what the language model reads) is asked, by linear heads on the merger's output, which
    tumor site it shows (organ, side and part; or none), what kind (cyst, hypo-/hyperdense mass, lung nodule or
    mass) and how large; each patch state, by a linear head, whether it holds a tumor. Half of every batch are slices
    that cut a tumor, and one in 16 is the uniform grey image of ``blank_images`` (no tumor anywhere). The heads are
    thrown away; the checkpoint is the same Qwen2.5-VL model with a trained vision tower. Detection on the
    ``VISION_HOLDOUT`` training cases it did not see is written to the summary."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from baselines.trainer.data import load_split, make_task
    from baselines.trainer.logs import LOG_FILE
    from baselines.trainer.run import SUMMARY

    if (done := finished(out)) is not None:
        return done
    t0 = time.perf_counter()
    torch.manual_seed(args.sft_seed)
    rng = np.random.default_rng(args.sft_seed)
    task = make_task("ct_tumor", task_options(args))
    split = load_split(task, "train")
    processor = AutoProcessor.from_pretrained(start)
    model = AutoModelForImageTextToText.from_pretrained(start)
    vis = model.model.visual
    patch, merge = vis.patch_size, vis.spatial_merge_size
    token_px = patch * merge
    if args.image_size % token_px:
        raise SystemExit(f"the vision stage needs an image size that is a multiple of {token_px} px")
    held = min(VISION_HOLDOUT, len(split.cases) // 5)
    train_cases, test_cases = split.cases[:len(split.cases) - held], split.cases[len(split.cases) - held:]
    x_tr, l_tr, o_tr, les_tr = vision_slices(task, train_cases, args.n_axial, args.sft_seed)
    x_te, l_te, o_te, les_te = vision_slices(task, test_cases, 0, args.sft_seed)
    # the patches fed here are the processor's, byte for byte
    from PIL import Image

    ref = processor.image_processor(images=[Image.fromarray(x_tr[0]).convert("RGB")], return_tensors="pt")
    assert torch.allclose(ref["pixel_values"], pixel_patches(x_tr[:1], patch, merge), atol=1e-5), "patch layout"
    t_tr, t_te = vision_targets(l_tr, o_tr, les_tr, token_px), vision_targets(l_te, o_te, les_te, token_px)
    positive = np.nonzero((t_tr[0] > 0).any(1))[0]
    n_sites, n_kinds = len(vision_sites()) + 1, len(VISION_KINDS) + 1
    out_dim, hidden = vis.merger.mlp[-1].out_features, vis.config.hidden_size
    heads = torch.nn.ModuleDict({"site": torch.nn.Linear(out_dim, n_sites), "kind": torch.nn.Linear(out_dim, n_kinds),
                                 "size": torch.nn.Linear(out_dim, 1), "patch": torch.nn.Linear(hidden, 1)})
    params = list(vis.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=args.vision_lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.vision_lr, total_steps=steps, pct_start=0.05)
    weight = torch.ones(n_sites)
    weight[0] = 0.3  # about 1% of tokens show a tumor
    side = args.image_size // patch
    geometry = vision_geometry(vis, side, side)
    blank = np.full((1, args.image_size, args.image_size), 128, np.uint8)
    out.mkdir(parents=True, exist_ok=True)
    log = (out / LOG_FILE).open("w")
    batch = args.vision_batch
    t1 = time.perf_counter()
    for step in range(1, steps + 1):
        idx = np.concatenate([rng.choice(positive, batch // 2), rng.integers(0, len(x_tr), batch - batch // 2)])
        x, labels = x_tr[idx], l_tr[idx]
        site, kind, size = (torch.as_tensor(t[idx]) for t in t_tr)
        n_blank = batch // 16
        if n_blank:  # the grey image of blank_images: no tumor anywhere
            x[:n_blank], labels[:n_blank] = blank, 0
            site[:n_blank], kind[:n_blank], size[:n_blank] = 0, 0, 0
        merged, patches = vision_forward(vis, pixel_patches(x, patch, merge), len(idx), geometry)
        loss = F.cross_entropy(heads["site"](merged).flatten(0, 1), site.flatten(), weight=weight, ignore_index=-100)
        k = kind.flatten()
        if (k > 0).any():
            loss = loss + F.cross_entropy(heads["kind"](merged).flatten(0, 1)[k > 0], k[k > 0])
            loss = loss + F.smooth_l1_loss(heads["size"](merged)[..., 0][site > 0] * 50, size[site > 0]) / 10
        g = side // merge
        cut = (labels >= 20).reshape(len(idx), g, merge, patch, g, merge, patch).transpose(0, 1, 4, 2, 5, 3, 6)
        cut = torch.as_tensor(cut.reshape(len(idx), side * side, -1).sum(-1))
        target, keep = (cut >= SLICE_MIN_AREA).float(), ((cut == 0) | (cut >= SLICE_MIN_AREA)).float()
        loss = loss + F.binary_cross_entropy_with_logits(heads["patch"](patches)[..., 0], target,
                                                         weight=keep * (1 + 10 * target), reduction="sum") / keep.sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps:
            log.write(json.dumps({"step": step, "loss": round(loss.item(), 4), "learning_rate": sched.get_last_lr()[0]})
                      + "\n")
            log.flush()
    log.close()
    t_train = time.perf_counter() - t1
    with torch.no_grad():
        pred = torch.cat([heads["site"](vision_forward(vis, pixel_patches(x_te[i:i + 128], patch, merge),
                                                        len(x_te[i:i + 128]), geometry)[0]).argmax(-1)
                          for i in range(0, len(x_te), 128)]).numpy()
    site = t_te[0]
    shows, says = (site > 0).any(1), (pred > 0).any(1)
    right = [pred[b, t] == site[b, t] for b, t in zip(*np.nonzero(site > 0))]
    held_out = {"slices": int(len(site)), "slices_with_tumor": int(shows.sum()),
                "slice_detection": round(float((says & shows).sum() / max(shows.sum(), 1)), 3),
                "slice_false_positive": round(float((says & ~shows).sum() / max((~shows).sum(), 1)), 3),
                "token_site_accuracy": round(float(np.mean(right)) if right else 0.0, 3)}
    final = out / "final"
    model.save_pretrained(final)
    processor.save_pretrained(final)
    summary = {"mode": "vision", "model": str(start), "steps": steps, "batch": batch, "learning_rate": args.vision_lr,
               "n_cases": len(train_cases), "n_slices": int(len(x_tr)), "held_out_cases": len(test_cases),
               "held_out": held_out, "timings": {"data_s": round(t1 - t0, 2), "train_s": round(t_train, 2)},
               "checkpoint": str(final)}
    (out / SUMMARY).write_text(json.dumps(summary, indent=2))
    print("vision stage:", json.dumps(held_out))
    return finished(out)


def run_grpo(args, start: Path, out: Path, weights: dict[str, float], seed: int):
    from baselines.trainer.config import from_mapping
    from baselines.trainer.grpo import train_emrl

    if (done := finished(out)) is not None:
        return done
    cfg = from_mapping("emrl", {
        "model": str(start), "output_dir": str(out), "seed": seed, "task_options": task_options(args),
        "rewards": weights, "plot": False,
        "trl": {**cpu_trl(), "max_steps": args.grpo_steps, "num_generations": args.generations,
                "per_device_train_batch_size": args.grpo_prompts * args.generations,
                "max_completion_length": args.max_completion, "learning_rate": args.grpo_lr,
                "temperature": 1.0, "logging_steps": 1}})
    return train_emrl(cfg)


def evaluate_model(args, model: str, out: Path, model_options: dict[str, Any] | None = None):
    """One model on the test cases; the result and each metric's per-case rows (for the paired tests)."""
    from harness.evaluate import RunSpec, evaluate
    from harness.schema import Sampling

    spec = RunSpec(model=model, task="ct_tumor", split="test", limit=args.test_cases, seed=0,
                   batch_size=8, sampling=Sampling(max_new_tokens=args.max_completion, temperature=0.0),
                   metrics=EVAL_METRICS, task_options=task_options(args), n_boot=args.n_boot,
                   model_options=model_options or {})
    return evaluate(spec, out)


def case_rows(args, model: str, run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Each metric's per-case rows of a finished run, re-scored from its cached predictions."""
    from harness.evaluate import RunSpec, cached_predictions, load_cases, make_task
    from harness.runner import PredictionLog
    from harness.scoring import score

    spec = RunSpec.from_dict(json.loads((run_dir / "run.json").read_text()))
    task = make_task(spec)
    ds = load_cases(task, spec)
    log = PredictionLog(run_dir / "predictions.jsonl")
    model_id = json.loads((run_dir / "results.json").read_text())["model"]["model_id"]
    preds, _ = cached_predictions(task, ds, log, model_id, spec.sampling)
    return dict(score(task, ds.cases, preds, EVAL_METRICS, n_boot=0, keep_rows=True).rows)


def image_use(args, checkpoint: Path, out: Path) -> dict[str, Any]:
    """Does the model read its images? Its mean teacher-forced loss (nats per token) on the oracle's test reports,
    given the case's own slices, another case's slices (the next test case's), or blank grey slices. A model that
    uses what is in the scans has a lower loss with its own; one that only learned image statistics has the same
    loss with another case's. The same on the reports in ``canonical_report``'s one wording (``canonical``), where
    only what the scan decides differs between cases. Cached in ``out``."""
    if out.exists():
        return json.loads(out.read_text())
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from baselines.trainer.data import load_split, make_task, sft_rows

    processor = AutoProcessor.from_pretrained(checkpoint)
    model = AutoModelForImageTextToText.from_pretrained(checkpoint).eval()
    task = make_task("ct_tumor", task_options(args))
    split = load_split(task, "test", limit=args.test_cases)
    result = _teacher_forced(model, processor, sft_rows(split, ("report",)))
    # the same reports in the one wording of the ``creport`` stage: only what the scan decides differs between cases
    result["canonical"] = _teacher_forced(model, processor, creport_rows(split))
    out.write_text(json.dumps(result, indent=2))
    return result


def _teacher_forced(model, processor, rows) -> dict[str, Any]:
    import torch
    from PIL import Image

    plain = lambda msgs: [{"role": m["role"], "content": m["content"] if isinstance(m["content"], str) else  # noqa
                           [{k: v for k, v in part.items() if v is not None} for part in m["content"]]}
                          for m in msgs]
    totals = {"own": 0.0, "other_case": 0.0, "blank": 0.0}
    for i, row in enumerate(rows):
        prompt = processor.apply_chat_template(plain(row["prompt"]), tokenize=False, add_generation_prompt=True)
        text = prompt + row["completion"][0]["content"] + "<|im_end|>"
        n_prompt = len(processor(text=[prompt], images=[row["images"]], add_special_tokens=False)["input_ids"][0])
        views = {"own": row["images"], "other_case": rows[(i + 1) % len(rows)]["images"],
                 "blank": [Image.new(im.mode, im.size, (128,) * len(im.getbands())) for im in row["images"]]}
        for name, images in views.items():
            inputs = processor(text=[text], images=[images], return_tensors="pt", add_special_tokens=False)
            labels = inputs["input_ids"].clone()
            labels[:, :n_prompt] = -100
            with torch.no_grad():
                totals[name] += float(model(**inputs, labels=labels).loss)
    return {k: round(v / len(rows), 4) for k, v in totals.items()} | {"n_reports": len(rows)}


def metric_view(results: dict[str, Any]) -> dict[str, Any]:
    keep = ("value", "ci_low", "ci_high", "n", "status")
    return {o: {k: m.get(k) for k in keep} for o, m in results["metrics"].items()
            if o in {c[1] for c in COLUMNS} | {"finding_f1_micro", "local_vs_gold", "key_slice_missing"}}


def t_interval(values: Sequence[float]) -> tuple[float, float | None, float | None]:
    """Mean and 95% t-interval over seeds, clipped to [0, 1]."""
    from scipy import stats

    vals = [v for v in values if v is not None]
    if not vals:
        return (float("nan"), None, None)
    mean = sum(vals) / len(vals)
    if len(vals) < 2:
        return (mean, None, None)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))
    half = float(stats.t.ppf(0.975, len(vals) - 1)) * sd / math.sqrt(len(vals))
    return (mean, max(0.0, mean - half), min(1.0, mean + half))  # every column is a rate in [0, 1]


def paired_tests(args, rows_a: list[dict[str, list]], rows_b: list[dict[str, list]]) -> dict[str, Any]:
    """E-MRL vs text-only: per metric output, rows of every seed laid end to end (seed s of one arm paired with
    seed s of the other, case by case), approximate randomization re-aggregating the metric."""
    from harness.metrics.compare import paired_test
    from harness.registry import METRICS

    tests = {}
    for name in EVAL_METRICS:
        metric = METRICS.get(name)()
        if any(name not in r for r in rows_a + rows_b):
            continue
        a = [row for r in rows_a for row in r[name]]
        b = [row for r in rows_b for row in r[name]]
        for o in metric.outputs:
            if o in {c[1] for c in COLUMNS}:
                tests[o] = paired_test(metric, a, b, o, "randomization", args.resamples, seed=0)
    return tests


def plot_curves(logs: dict[str, dict[int, list[dict[str, Any]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(logs), figsize=(6 * len(logs), 4), squeeze=False)
    for ax, (arm, by_seed) in zip(axes[0], logs.items()):
        names = sorted({k for log in by_seed.values() for r in log for k in r
                        if k.startswith("rewards/") and k.endswith("/mean")})
        for i, key in enumerate(["reward"] + names):
            for seed, log in by_seed.items():
                pts = [(r["step"], r[key]) for r in log if isinstance(r.get(key), (int, float))]
                if pts:
                    ax.plot(*zip(*pts), color=f"C{i}", alpha=0.8 if key == "reward" else 0.5, marker=".",
                            lw=2 if key == "reward" else 1,
                            label=(key if key == "reward" else key.split("/")[1]) if seed == min(by_seed) else None)
        ax.set_title(f"{ARM_LABELS[arm]} ({len(by_seed)} seeds)")
        ax.set_xlabel("GRPO step")
        ax.set_ylabel("mean reward of the step's completions")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_readme:
        update_readme(json.loads(RESULTS_FILE.read_text()))
        return 0
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from baselines.tiny_vlm import build_tiny_vlm

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(out / "cpu_ledger.json")
    base = out / "base"
    if not (base / "config.json").exists():
        ledger.data.pop("build_model", None)
        ledger.run("build_model", lambda: build_tiny_vlm(base, family="qwen2_5_vl", seed=args.model_seed,
                                                         size=args.model_size))

    # SFT curriculum: each phase starts from the previous one's checkpoint
    start, sft_logs = base, []
    for i, (stages, steps) in enumerate(curriculum(args.curriculum)):
        name = f"sft{i + 1}_{'all' if stages is None else '+'.join(stages)}"
        res = ledger.run(name, lambda s=start, n=name, st=stages, k=steps: run_sft(args, s, out / n, st, k))
        sft_logs.append(res.log)
        start = res.checkpoint
    sft = start

    grpo: dict[str, dict[int, Any]] = {arm: {} for arm in ARMS}
    if not args.skip_grpo:
        for seed in seeds_of(args):
            for arm, weights in ARMS.items():
                name = f"{arm}_seed{seed}"
                grpo[arm][seed] = ledger.run(name, lambda n=name, w=weights, s=seed: run_grpo(args, sft, out / n, w,
                                                                                             s))

    runs: dict[str, tuple[str, dict[str, Any]]] = {  # label -> (model spec, backend options)
        "template (baseline)": ("baseline:template", {}),
        "oracle (reference)": ("baseline:oracle", {}),
        "SFT": (str(sft), {}),
        "SFT, blanked images": (str(sft), {"blank_images": True}),
    }
    for arm, by_seed in grpo.items():
        for seed, res in by_seed.items():
            runs[f"{ARM_LABELS[arm]} (seed {seed})"] = (str(res.checkpoint), {})
    rows: dict[str, dict[str, Any]] = {}
    per_case: dict[str, dict[str, list]] = {}
    for label, (model, opts) in runs.items():
        run_dir = out / "eval" / re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")
        result = ledger.run(f"eval {label}", lambda m=model, d=run_dir, o=opts: evaluate_model(args, m, d, o))
        rows[label] = {"model": model, "model_options": opts, "metrics": metric_view(result.results),
                       "n_cases": result.results["n_cases"], "cases_hash": result.results["cases_hash"]}
        if "GRPO" in label:
            per_case[label] = case_rows(args, model, run_dir)

    uses = {"SFT": ledger.run("image use SFT", lambda: image_use(args, sft, out / "image_use_sft.json"))}

    arms: dict[str, Any] = {}
    for arm, by_seed in grpo.items():
        if not by_seed:
            continue
        labels = [f"{ARM_LABELS[arm]} (seed {s})" for s in by_seed]
        arms[ARM_LABELS[arm]] = {"seeds": list(by_seed), "metrics": {}}
        for _, o, _ in COLUMNS:
            vals = [rows[lab]["metrics"].get(o, {}).get("value") for lab in labels]
            mean, lo, hi = t_interval(vals)
            arms[ARM_LABELS[arm]]["metrics"][o] = {"mean": None if math.isnan(mean) else mean, "ci_low": lo,
                                                   "ci_high": hi, "per_seed": vals,
                                                   "n": [rows[lab]["metrics"].get(o, {}).get("n") for lab in labels]}
    paired = {}
    if all(grpo.values()):
        common = sorted(set(grpo["grpo_text"]) & set(grpo["grpo_emrl"]))
        paired = paired_tests(args, [per_case[f"{ARM_LABELS['grpo_emrl']} (seed {s})"] for s in common],
                              [per_case[f"{ARM_LABELS['grpo_text']} (seed {s})"] for s in common])

    sft_m, blank_m, tmpl_m = (rows[k]["metrics"] for k in ("SFT", "SFT, blanked images", "template (baseline)"))
    value = lambda m, o: (m.get(o) or {}).get("value")  # noqa: E731
    checks = {
        "sft_finding_f1_macro_minus_template": _sub(value(sft_m, "finding_f1_macro"),
                                                   value(tmpl_m, "finding_f1_macro")),
        "blank_finding_f1_macro_minus_template": _sub(value(blank_m, "finding_f1_macro"),
                                                     value(tmpl_m, "finding_f1_macro")),
        "sft_key_slice_hit": value(sft_m, "key_slice_hit"),
        "sft_hallucination_rate": value(sft_m, "hallucination_rate"),
    }
    checks["meets_issue_16_bar"] = bool(
        (checks["sft_finding_f1_macro_minus_template"] or -1) >= THRESHOLDS["finding_f1_macro_over_template"]
        and (checks["sft_key_slice_hit"] or 0) >= THRESHOLDS["key_slice_hit"]
        and (checks["sft_hallucination_rate"] if checks["sft_hallucination_rate"] is not None else 1)
        <= THRESHOLDS["hallucination_rate"])

    import transformers
    import trl

    model_params = _param_count(sft)
    data = {
        "command": "python examples/mini_experiment.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "args": {k: v for k, v in vars(args).items() if k not in ("publish", "render_readme")},
        "model": {"size": args.model_size, "parameters": model_params, "seed": args.model_seed},
        "task_options": task_options(args),
        "rows": rows, "arms": arms,
        "paired_emrl_vs_text": {"method": "approximate randomization over (seed, case) pairs, re-aggregating the "
                                "metric; two-sided", "resamples": args.resamples, "tests": paired},
        "grpo_runs": {f"{arm}_seed{seed}": {k: res.summary.get(k) for k in ("steps", "verification_questions",
                                                                            "rewards", "reward_weights")}
                      for arm, by_seed in grpo.items() for seed, res in by_seed.items()},
        "thresholds": THRESHOLDS, "checks": checks,
        "image_use": {"what": "mean teacher-forced loss (nats/token) of the oracle's test reports given the case's "
                      "own slices, the next test case's slices, or blank grey slices", **uses},
        "cpu": {"phases": ledger.data, "total_cpu_s": round(ledger.total(), 1),
                "total_wall_s": round(ledger.total("wall_s"), 1)},
        "sft_loss": [[r.get("step"), r.get("loss")] for log in sft_logs for r in log if "loss" in r],
        "environment": {"machine": platform.machine(), "cpus": os.cpu_count(),
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "torch": torch.__version__,
                        "transformers": transformers.__version__, "trl": trl.__version__},
    }
    (out / "results.json").write_text(json.dumps(data, indent=2, default=str))
    curves = {arm: {s: r.log for s, r in by_seed.items()} for arm, by_seed in grpo.items() if by_seed}
    md = render(data)
    (out / "results.md").write_text(md)
    if curves:
        plot_curves(curves, out / "rewards.png")
    if args.publish:
        RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_FILE.write_text(json.dumps(data, indent=2, default=str) + "\n")
        if curves:
            plot_curves(curves, CURVES_FILE)
        update_readme(data)
    print(md)
    return 0


def _sub(a, b):
    return None if a is None or b is None else a - b


def _param_count(path: Path) -> int | None:
    from safetensors import safe_open

    files = sorted(path.glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for file in files:
        with safe_open(str(file), "pt") as f:
            total += sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    return int(total)


def _cell(m: dict[str, Any] | None) -> str:
    if not m or m.get("status") not in (None, "ok") or m.get("value") is None:
        return "n/a" if not m or not m.get("n") else "not run"
    ci = f" [{m['ci_low']:.2f}, {m['ci_high']:.2f}]" if m.get("ci_low") is not None else ""
    return f"{m['value']:.3f}{ci}"


def _arm_cell(m: dict[str, Any]) -> str:
    if m.get("mean") is None:
        return "n/a"
    ci = f" [{m['ci_low']:.2f}, {m['ci_high']:.2f}]" if m.get("ci_low") is not None else ""
    return f"**{m['mean']:.3f}**{ci}"


def render(data: dict[str, Any]) -> str:
    """The README table and its notes, from the results file alone."""
    a = data["args"]
    head = "| model | " + " | ".join(h for h, _, _ in COLUMNS) + " |"
    lines = [head, "|---" * (len(COLUMNS) + 1) + "|"]
    for label, row in data["rows"].items():
        if "seed" in label:
            continue
        lines.append(f"| {label} | " + " | ".join(_cell(row["metrics"].get(o)) for _, o, _ in COLUMNS) + " |")
    for label, arm in data["arms"].items():
        lines.append(f"| {label}, mean of {len(arm['seeds'])} seeds | "
                     + " | ".join(_arm_cell(arm["metrics"].get(o, {})) for _, o, _ in COLUMNS) + " |")
    tests = data["paired_emrl_vs_text"]["tests"]
    if tests:
        cells = []
        for _, o, _ in COLUMNS:
            t = tests.get(o)
            cells.append(f"{t['difference']:+.3f} (p={t['p_value']:.3f})" if t and t.get("status") == "ok" else "-")
        lines.append("| E-MRL − text-only, paired test | " + " | ".join(cells) + " |")
    c, cpu = data["checks"], data["cpu"]
    n_test = next(iter(data["rows"].values()))["n_cases"]
    f = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    notes = [
        "",
        f"{n_test} held-out test cases (seed 1000), greedy decoding; single-model rows: value [95% bootstrap CI "
        "over cases]; arm rows: mean over training seeds [95% t-interval over seeds, clipped to 0..1]; the paired "
        "row: difference of the arms and the two-sided p of a paired approximate-randomization test on the same "
        f"(seed, case) pairs ({data['paired_emrl_vs_text']['resamples']} resamples). Model: Qwen2.5-VL architecture, "
        f"{data['model']['parameters'] or '?'} parameters ({data['model']['size']}, weights seed "
        f"{data['model']['seed']}); {a['n_axial']} axial slices of {a['image_size']} px, no reformats, CT window "
        f"{a.get('window', '40,400')} (center,width HU); "
        f"{a['train_cases']} training cases (seed 2000); SFT curriculum {a['curriculum']} (steps of "
        f"{a['sft_batch']} examples, lr {a['sft_lr']}); GRPO {a['grpo_steps']} steps x {a['grpo_prompts']} prompts "
        f"x {a['generations']} completions per arm and seed (lr {a['grpo_lr']}, {a['max_completion']} tokens).",
        f"Issue 16's bar for the SFT model: macro finding F1 − template {f(c['sft_finding_f1_macro_minus_template'])}"
        f" (needs ≥ {data['thresholds']['finding_f1_macro_over_template']}), key-slice hit "
        f"{f(c['sft_key_slice_hit'])} (≥ {data['thresholds']['key_slice_hit']}), hallucination rate "
        f"{f(c['sft_hallucination_rate'])} (≤ {data['thresholds']['hallucination_rate']}); blanked images: macro "
        f"finding F1 − template {f(c['blank_finding_f1_macro_minus_template'])}. "
        f"**{'Met' if c['meets_issue_16_bar'] else 'Not met'}.**" + "".join(
            f" Does {name} read the scans? Its loss on the oracle's test reports (nats/token) is {u['own']:.4f} with "
            f"each case's own slices, {u['other_case']:.4f} with another case's, {u['blank']:.4f} with blank ones."
            for name, u in data.get("image_use", {}).items() if isinstance(u, dict)),
        f"CPU: {cpu['total_cpu_s'] / 60:.1f} CPU-minutes ({cpu['total_wall_s'] / 60:.1f} wall minutes; "
        f"OMP_NUM_THREADS={data['environment']['omp_num_threads']}, {data['environment']['cpus']} cores, torch "
        f"{data['environment']['torch']}, transformers {data['environment']['transformers']}, trl "
        f"{data['environment']['trl']}). Command: `{data['command'].strip()}`.",
    ]
    return "\n".join(lines + notes) + "\n"


def update_readme(data: dict[str, Any]) -> None:
    text = README.read_text()
    if README_START not in text or README_END not in text:
        raise SystemExit(f"README.md has no {README_START} ... {README_END} section")
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    README.write_text(text[:start] + "\n" + render(data) + text[end:])


if __name__ == "__main__":
    raise SystemExit(main())
