"""The tiny offline VLM: real Qwen-VL classes, reloadable with the Auto classes, deterministic, generating."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from baselines.tiny_vlm import build_tiny_vlm, build_tokenizer
from harness.errors import HarnessError


def _images(*sizes):
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)) for h, w in sizes]


def _generate(path, images, max_new_tokens=8):
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    processor = AutoProcessor.from_pretrained(path)
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": "Any liver lesion?"}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                         add_generation_prompt=True)
    inputs = processor(text=[text], images=images, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return model, processor, inputs, out


def _file_hashes(path):
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(path.iterdir())}


def test_reloads_with_auto_classes_and_generates(tiny_vlm_dir):
    model, processor, inputs, out = _generate(tiny_vlm_dir, _images((64, 64), (96, 80), (128, 128)))
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(processor).__name__ == "Qwen2_5_VLProcessor"
    assert type(processor.video_processor).__name__ == "Qwen2VLVideoProcessor"
    assert processor.image_processor.patch_size == model.config.vision_config.patch_size == 14
    assert processor.tokenizer.padding_side == "left"
    assert "<|im_start|>assistant" in processor.chat_template
    assert inputs["image_grid_thw"].shape[0] == 3
    assert 0 < out.shape[1] - inputs["input_ids"].shape[1] <= 8
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_tokenizer_covers_reports_and_tags():
    tokenizer = build_tokenizer()
    tagged = "<report>Hypodense lesion in the right hepatic lobe, 23 mm.</report><key_slice>37</key_slice>"
    for text in (tagged, "Ünïcode: 肝 lesion ≥ 2 cm"):  # byte-level: anything round-trips, nothing is unknown
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    # trained on report language: common words are single tokens, so reports are short sequences
    assert len(tokenizer(tagged)["input_ids"]) < len(tagged) / 3
    assert tokenizer.convert_tokens_to_ids("<|image_pad|>") == 6


def test_same_seed_writes_identical_files_and_seed_changes_weights(tmp_path, tiny_vlm_dir):
    again = build_tiny_vlm(tmp_path / "again", seed=0)
    other = build_tiny_vlm(tmp_path / "other", seed=1)
    assert _file_hashes(again) == _file_hashes(tiny_vlm_dir)
    differing = {name for name, digest in _file_hashes(other).items() if _file_hashes(again)[name] != digest}
    assert differing == {"model.safetensors"}


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen3_vl"])
def test_other_families_build_and_generate(tmp_path, family):
    path = build_tiny_vlm(tmp_path / family, family=family)
    model, _, inputs, out = _generate(path, _images((64, 64), (96, 96)), max_new_tokens=4)
    assert model.config.model_type == family
    assert out.shape[1] > inputs["input_ids"].shape[1]


def test_unknown_family_is_a_harness_error(tmp_path):
    with pytest.raises(HarnessError, match="unknown tiny VLM family 'llava'"):
        build_tiny_vlm(tmp_path / "x", family="llava")


def test_mini_size_cuts_a_128_px_slice_into_16_image_tokens(tmp_path):
    """The mini-experiment's model: the same architecture, 16 px patches, about 1.7M parameters, a tokenizer that
    also knows ct_tumor's prompts and report language; larger images are capped at 128 px."""
    path = build_tiny_vlm(tmp_path / "mini", size="mini", seed=0)
    model, processor, inputs, out = _generate(path, _images((128, 128), (64, 64), (256, 256)))
    assert processor.image_processor.patch_size == model.config.vision_config.patch_size == 16
    merged = [int(t * h * w) // 4 for t, h, w in inputs["image_grid_thw"].tolist()]
    assert merged == [16, 4, 16]
    assert 1_000_000 < sum(p.numel() for p in model.parameters()) < 3_000_000
    report = ("<report>FINDINGS: Hypodense mass in the pancreatic body, measuring 21 mm. The liver is normal. "
              "IMPRESSION: One lesion as described above.</report><key_slice>7</key_slice>")
    assert len(processor.tokenizer(report)["input_ids"]) < len(build_tokenizer()(report)["input_ids"])
    assert _file_hashes(path) == _file_hashes(build_tiny_vlm(tmp_path / "again", size="mini", seed=0))


def test_mini_size_is_qwen2_5_vl_only(tmp_path):
    with pytest.raises(HarnessError, match="qwen2_5_vl only"):
        build_tiny_vlm(tmp_path / "x", family="qwen2_vl", size="mini")
    with pytest.raises(HarnessError, match="unknown model size"):
        build_tiny_vlm(tmp_path / "x", size="huge")
