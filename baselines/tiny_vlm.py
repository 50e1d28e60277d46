"""A tiny random-weight Qwen-VL checkpoint, built offline, for tests and smoke runs of the real model path.

Tests must exercise the same code a hub model goes through (Auto classes, the processor, the model's own chat
template, batched ``generate``) without downloading anything. So we build a checkpoint of the real
architecture, about 0.2M parameters and 1 MB on disk, whose tokenizer is a byte-level BPE trained here on
radiology text: any string encodes (no unknown token) and report words and the protocol tags
(``<report>``, ``<key_slice>``) are short token sequences, as in a real tokenizer. The output is random text;
what matters is that every shape, id and template is the one a real Qwen-VL checkpoint has.

    >>> build_tiny_vlm("runs/tiny")            # doctest: +SKIP
    PosixPath('runs/tiny')

Determinism: the same ``family`` and ``seed`` write byte-identical files, so the harness's model id (a hash
of the files) is the same on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from harness.errors import HarnessError

# Qwen's special tokens, in Qwen's order; trained first so that they get ids 0..7.
SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>",
    "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>",
)
PAD, EOS = "<|endoftext|>", "<|im_end|>"
VOCAB_SIZE = 1024

# Text the tokenizer learns its merges from: report language of both tasks, the protocol's tags, the words of
# the prompts and chat template. Kept here rather than read from the task's data files so that editing a
# phrasing lexicon does not change the tiny model (and with it every cached prediction's model id).
CORPUS = (
    "<report>Hypodense lesion in the right hepatic lobe, segment VII, measuring 23 mm.</report>"
    "<key_slice>37</key_slice>",
    "<report>No focal lesion. The liver, spleen, pancreas and both kidneys are normal.</report>"
    "<key_slice>none</key_slice>",
    "<report>Enhancing mass in the upper pole of the left kidney measuring 41 mm, concerning for renal cell "
    "carcinoma.</report><key_slice>12</key_slice>",
    "<report>Two hypoattenuating lesions in the pancreatic head and tail, the larger 18 mm.</report>"
    "<key_slice>5</key_slice>",
    "Spiculated nodule in the right upper lobe of the lung measuring 14 mm. No pleural effusion.",
    "Splenic lesion, 9 mm, likely cyst. The adrenal glands are unremarkable. Spine: no lytic lesion.",
    "Findings: tumor, mass, nodule, cyst, metastasis, hemangioma, carcinoma, lymphadenopathy.",
    "Anatomy: liver, spleen, pancreas, kidney, kidneys, lung, lungs, spine, vertebra, aorta, gallbladder.",
    "Location: left, right, bilateral, anterior, posterior, medial, lateral, upper, lower, head, body, tail, "
    "dome, hilum, cortex, segment, lobe, pole.",
    "No acute cardiopulmonary abnormality. Heart size is normal. Lungs are clear. No pneumothorax.",
    "There is a small left pleural effusion with adjacent atelectasis. Mild cardiomegaly.",
    "Right lower lobe consolidation, concerning for pneumonia. Endotracheal tube and central line in place.",
    "Impression: no evidence of metastatic disease in the chest, abdomen or pelvis.",
    "Size 3 mm 7 mm 1.5 cm 2.3 cm; density HU -1000 40 60 120; count one two three multiple.",
    "You are a radiologist. The images above are 16 axial slices of one abdominal and chest CT, numbered 1 "
    "to 16 from inferior (feet) to superior (head), followed by a coronal and a sagittal reformat.",
    "Write the findings of a radiology report about tumors: state the organ, its part, the side and the size "
    "in mm; state normal organs as normal. Give the number of the axial slice that best shows the main finding.",
    "What does this slice show? Is there a lesion in the liver? Answer yes or no. Correct the draft report.",
    "system user assistant You are a helpful assistant. Picture Video 0123456789 .,:;()%-/<>",
)
CORPUS_REPEATS = 20  # enough counts for BPE to merge whole report words, well under a second of training


@dataclass(frozen=True)
class Family:
    """What differs between the Qwen-VL generations: class names, patch size, template, config extras."""

    config: str
    model: str
    processor: str
    video_processor: str
    template: str  # a file name in TRL's chat_templates/
    patch_size: int
    text_extra: dict[str, Any] = field(default_factory=dict)
    vision: dict[str, Any] = field(default_factory=dict)


# head_dim = hidden 64 / 4 heads = 16, so every mrope_section sums to head_dim / 2 = 8.
_MROPE = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}
FAMILIES = {
    "qwen2_vl": Family(
        "Qwen2VLConfig", "Qwen2VLForConditionalGeneration", "Qwen2VLProcessor", "Qwen2VLVideoProcessor",
        "qwen2_5_vl.jinja", 14,  # Qwen2-VL and Qwen2.5-VL share one chat template
        text_extra={"rope_parameters": _MROPE},
        vision={"depth": 2, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 2}),
    "qwen2_5_vl": Family(
        "Qwen2_5_VLConfig", "Qwen2_5_VLForConditionalGeneration", "Qwen2_5_VLProcessor",
        "Qwen2VLVideoProcessor", "qwen2_5_vl.jinja", 14,
        text_extra={"rope_parameters": _MROPE},
        vision={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                "fullatt_block_indexes": [1], "window_size": 112}),
    "qwen3_vl": Family(
        "Qwen3VLConfig", "Qwen3VLForConditionalGeneration", "Qwen3VLProcessor", "Qwen3VLVideoProcessor",
        "qwen3_vl.jinja", 16,
        text_extra={"head_dim": 16, "rope_parameters": {**_MROPE, "mrope_interleaved": True}},
        vision={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                "num_position_embeddings": 64, "deepstack_visual_indexes": [1]}),
}


@dataclass(frozen=True)
class Size:
    """How big the model is and how it cuts images into tokens; ``tiny`` is the test checkpoint, ``mini`` the
    smallest one that can learn to read ct_tumor's 64-128 px slices on a CPU (the mini-experiment's model)."""

    text: dict[str, Any]  # text-model config entries (hidden size, layers, heads...)
    vision: dict[str, Any] | None = None  # replaces the family's vision entries; None keeps them
    patch_size: int | None = None  # None: the family's
    max_tokens_per_image: int = 16  # merged image tokens: the processor's longest_edge is this many merged patches
    rope_section: tuple[int, ...] = (2, 3, 3)  # mrope_section: sums to head_dim / 2
    vocab_size: int = VOCAB_SIZE
    task_corpus: bool = False  # also learn BPE merges from ct_tumor's prompts and generated reports


SIZES = {
    "tiny": Size(text=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                           num_key_value_heads=2)),
    # 1.7M parameters. 16 px patches and 2x2 merging: a 128 px slice (ct_tumor's default, 3 mm a pixel) is 8x8
    # patches and 4x4 = 16 image tokens; a 64 px slice is 4x4 patches and 2x2 tokens. Larger images are capped
    # at 128x128 px (max_tokens_per_image), so a 256 px verification view costs the same as a slice. Full
    # attention in both vision blocks (window = the whole image).
    "mini": Size(text=dict(hidden_size=128, intermediate_size=384, num_hidden_layers=4, num_attention_heads=4,
                           num_key_value_heads=4),
                 vision={"depth": 2, "hidden_size": 96, "intermediate_size": 192, "num_heads": 4,
                         "out_hidden_size": 128, "fullatt_block_indexes": [0, 1], "window_size": 128},
                 patch_size=16, max_tokens_per_image=16, rope_section=(4, 6, 6), vocab_size=2048,
                 task_corpus=True),
}


def build_tiny_vlm(out_dir: str | Path, family: str = "qwen2_5_vl", seed: int = 0, size: str = "tiny") -> Path:
    """Write a small random-weight checkpoint of ``family`` to ``out_dir`` and return the directory.

    ``seed`` picks the weights; the tokenizer and processor do not depend on it. ``size`` is a key of
    ``SIZES`` (``mini``: Qwen2.5-VL only).
    """
    if family not in FAMILIES:
        raise HarnessError(f"unknown tiny VLM family '{family}'; known: {', '.join(FAMILIES)}")
    if size not in SIZES:
        raise HarnessError(f"unknown model size '{size}'; known: {', '.join(SIZES)}")
    if size != "tiny" and family != "qwen2_5_vl":
        raise HarnessError(f"size '{size}' is defined for qwen2_5_vl only, not '{family}'")
    transformers = import_transformers()
    out = Path(out_dir)
    spec = SIZES[size]
    tokenizer = build_tokenizer(spec.vocab_size, task_corpus() if spec.task_corpus else ())
    processor = _build_processor(transformers, family, tokenizer, spec)
    model = _build_model(transformers, family, tokenizer, seed, SIZES[size])
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def build_tokenizer(vocab_size: int = VOCAB_SIZE, extra: Sequence[str] = ()) -> Any:
    """A byte-level BPE trained on ``CORPUS`` (and ``extra``); pads on the left, as batched generation and GRPO
    need."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: nothing is out of vocabulary
        show_progress=False,
    )
    bpe.train_from_iterator(list(CORPUS) * CORPUS_REPEATS + list(extra), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=EOS, pad_token=PAD, padding_side="left")


def task_corpus(n_reports: int = 400, seed: int = 0) -> list[str]:
    """ct_tumor's prompts and oracle-style answers, for the ``mini`` tokenizer: the report prompt at every slice
    count, the verification and probe instructions, and ``n_reports`` reports written by the task's own report
    writer about random findings at the phantom's tumor sites (no volume is built). Short token sequences for
    what the model reads and writes make every training step cheaper. Deterministic in ``seed``."""
    import numpy as np

    from harness.phantoms.ct import NORMAL_ORGANS, anatomy
    from harness.reports_ct import write_report
    from harness.schema import Finding, Presence
    from tasks.ct_tumor import evidence
    from tasks.ct_tumor.prompts import report_prompt

    anat = anatomy()
    sites = anat["tumor_sites"]
    names = sorted(sites)
    rng = np.random.default_rng(seed)
    texts = [report_prompt(n, r) for n in (4, 8, 12, 16, 24, 32) for r in (False, True)] * 20
    texts += [evidence.VERIFY_INSTRUCTION.format(k=k) for k in range(1, 33)]
    for _ in range(n_reports):
        lesions = []
        for site in rng.choice(names, size=int(rng.integers(0, 4)), replace=False):
            organ = anat["organs"][site]
            parts = list(organ.get("segments", {})) or [p[0] for p in (organ.get("split") or {}).get("parts", [])]
            kind = sites[site]["kinds"][int(rng.integers(len(sites[site]["kinds"])))]
            size = float(rng.integers(15, 50))
            obs = {"nodule": "mass" if size >= 30 else "nodule", "cyst": "cyst"}.get(kind, "mass")
            attrs = set() if kind == "nodule" else {"hypodense" if kind == "cyst" or rng.random() < 0.7
                                                      else "hyperdense"}
            lesions.append(Finding(observation=obs, anatomy=organ["anatomy"], laterality=organ.get("laterality"),
                                   sub_location=parts[int(rng.integers(len(parts)))] if parts else None,
                                   presence=Presence.PRESENT, size_mm=size, count=1, attributes=frozenset(attrs)))
        involved = {(f.anatomy, f.laterality) for f in lesions}
        normals = [Finding(observation="lesion", anatomy=a, laterality=side, presence=Presence.ABSENT)
                   for a, side in NORMAL_ORGANS if (a, side) not in involved]
        key = f"{int(rng.integers(1, 33))}" if lesions else "none"
        texts.append(f"<report>{write_report(lesions + normals, rng)}</report><key_slice>{key}</key_slice>")
        texts.append("".join(f"<{p}>{evidence.plane_text(lesions[:1] if p != 'axial' else lesions[:2], rng)}</{p}>"
                             for p in evidence.PLANES))
    texts += ["Question: is there a mass in the liver? Answer yes or no. Yes. No.",
              "Clinical history: known mass in the pancreas, for follow-up.",
              "A colleague wrote this draft report: <draft></draft> Check every statement against the images, remove "
              "or correct any that the images do not support, and return the corrected report as <report>...</report>."
              ] * 20
    return texts


def chat_template(family: str) -> str:
    """The original Qwen chat template of ``family``, as TRL ships it (the harness hashes what it applies)."""
    try:
        import trl
    except ImportError as exc:
        raise HarnessError("building a tiny VLM needs TRL's chat templates: pip install 'emrl-harness[train]'"
                           ) from exc
    return (Path(trl.__file__).parent / "chat_templates" / FAMILIES[family].template).read_text()


def _build_processor(transformers: Any, family: str, tokenizer: Any, size: Size = SIZES["tiny"]) -> Any:
    """Image and video processors sized for the model: at most ``size.max_tokens_per_image`` merged patches per
    image (16 = 4x4 for ``tiny``).

    The patch size must equal the vision tower's or the image token count will not match the features.
    """
    spec = FAMILIES[family]
    patch = size.patch_size or spec.patch_size
    factor = patch * 2  # patch_size * merge_size: the side of one merged image token
    common = dict(
        patch_size=patch, temporal_patch_size=2, merge_size=2,
        size={"shortest_edge": factor * factor, "longest_edge": factor * factor * size.max_tokens_per_image},
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    )
    image_processor = transformers.Qwen2VLImageProcessor(**common)
    video_processor = getattr(transformers, spec.video_processor)(**common)
    processor_cls = getattr(transformers, spec.processor)
    return processor_cls(image_processor=image_processor, video_processor=video_processor, tokenizer=tokenizer,
                         chat_template=chat_template(family))


def _build_model(transformers: Any, family: str, tokenizer: Any, seed: int, size: Size = SIZES["tiny"]) -> Any:
    """Random weights from ``seed``, without touching the caller's global RNG state.

    Special-token ids go inside ``text_config``: the language model reads bos/eos/pad from there, not from
    the top-level config.
    """
    import torch

    spec = FAMILIES[family]
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    extra = dict(spec.text_extra)
    if size.rope_section != (2, 3, 3):
        extra["rope_parameters"] = {**extra["rope_parameters"], "mrope_section": list(size.rope_section)}
    text = dict(
        vocab_size=len(tokenizer), **size.text, max_position_embeddings=4096,
        bos_token_id=ids[PAD], eos_token_id=ids[EOS], pad_token_id=ids[PAD], **extra,
    )
    vision = dict(size.vision if size.vision is not None else spec.vision,
                  patch_size=size.patch_size or spec.patch_size, spatial_merge_size=2, temporal_patch_size=2)
    config = getattr(transformers, spec.config)(
        text_config=text, vision_config=vision,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = getattr(transformers, spec.model)(config)
    model.generation_config.pad_token_id = ids[PAD]
    model.generation_config.eos_token_id = ids[EOS]
    return model


def import_transformers() -> Any:
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as exc:
        raise HarnessError(f"building a tiny VLM needs the 'hf' extra ({exc}): pip install 'emrl-harness[hf]'"
                           ) from exc
    return transformers


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m baselines.tiny_vlm OUT --size mini --seed 0``: the same as ``harness model make-tiny``, with the
    size (the mini-experiment's model is ``--size mini``)."""
    import argparse

    p = argparse.ArgumentParser(description="Build a small random-weight Qwen-VL checkpoint offline.")
    p.add_argument("out")
    p.add_argument("--family", default="qwen2_5_vl", choices=sorted(FAMILIES))
    p.add_argument("--size", default="tiny", choices=sorted(SIZES))
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    print(f"wrote a {a.size} {a.family} checkpoint to {build_tiny_vlm(a.out, a.family, a.seed, a.size)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
