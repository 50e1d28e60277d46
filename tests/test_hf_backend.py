"""The transformers backend on the tiny offline Qwen2.5-VL: batching, decoding, provenance and errors."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from baselines.tiny_vlm import build_tiny_vlm
from harness.errors import HarnessError
from harness.models.hf import HFOptions, TransformersBackend
from harness.models.resolve import load_model
from harness.schema import Case, Request, Sampling

GREEDY = Sampling(max_new_tokens=12)
PROMPT = "Describe the liver lesion and name the key slice."
# image sizes per request: different counts and sizes give different prompt lengths, so batches need padding
IMAGE_SIZES = [[(64, 64), (96, 80)], [(128, 128), (40, 200), (70, 70)], [(56, 56)], [(100, 60), (64, 64)],
               [(112, 112)] * 3]


def _request(i: int, sizes) -> Request:
    rng = np.random.default_rng(i)
    images = [Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)) for h, w in sizes]
    case = Case(case_id=f"case{i}", task="ct_tumor", image_path=None, label_path=None, reference_report="",
                findings=())
    content = [{"type": "image"} for _ in sizes] + [{"type": "text", "text": PROMPT + " Slice?" * i}]
    return Request(case=case, kind="report", messages=({"role": "user", "content": content},),
                   load_images=lambda: images)


@pytest.fixture(scope="module")
def requests_():
    return [_request(i, sizes) for i, sizes in enumerate(IMAGE_SIZES)]


@pytest.fixture(scope="module")
def backend(tiny_vlm_dir):
    model = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "batch_size": 1})
    yield model
    model.close()


@pytest.fixture(scope="module")
def reference(backend, requests_):
    """Greedy outputs one request at a time: what every batch size must reproduce."""
    return backend.generate(requests_, GREEDY)


@pytest.mark.parametrize("batch_size", [2, 3])
def test_greedy_outputs_do_not_depend_on_batch_size(tiny_vlm_dir, requests_, reference, batch_size):
    model = load_model(str(tiny_vlm_dir), options={"device": "cpu", "batch_size": batch_size})
    assert isinstance(model, TransformersBackend)
    assert model.generate(requests_, GREEDY) == reference
    assert len(set(reference)) > 1  # the requests really differ, so equality is not trivial


def test_only_new_tokens_are_decoded(backend, requests_, reference):
    short = backend.generate(requests_, Sampling(max_new_tokens=4))
    for head, full in zip(short, reference):
        # greedy: a shorter budget gives a prefix of the longer answer (up to a UTF-8 character cut in half)
        assert full.startswith(head.rstrip("\ufffd"))
        assert PROMPT not in full and "<|im_start|>" not in full


def test_sampling_is_seeded(backend, requests_):
    sampled = Sampling(max_new_tokens=8, temperature=1.0, top_p=0.9, seed=7)
    first = backend.generate(requests_[:2], sampled)
    assert backend.generate(requests_[:2], sampled) == first
    assert backend.generate(requests_[:2], Sampling(max_new_tokens=8, temperature=1.0, top_p=0.9, seed=8)) != first


def test_auto_batch_halves_on_out_of_memory(tiny_vlm_dir, requests_, reference, monkeypatch):
    import torch

    model = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "batch_size": "auto"})
    real = model._generate_batch
    sizes = []

    def tight_memory(m, batch, generation):
        sizes.append(len(batch))
        if len(batch) > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(m, batch, generation)

    monkeypatch.setattr(model, "_generate_batch", tight_memory)
    assert model.generate(requests_, GREEDY) == reference
    assert sizes[0] == len(requests_) and sizes[-1] <= 2  # 5 fails, 2 fits and is kept for the rest
    assert model._batch_size == 2


def test_fixed_batch_size_reports_out_of_memory_in_one_line(tiny_vlm_dir, requests_, monkeypatch):
    model = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "batch_size": 4})

    def no_memory(*_):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(model, "_generate_batch", no_memory)
    with pytest.raises(HarnessError, match="out of memory .* batch size 4; lower batch_size or use batch_size=auto"):
        model.generate(requests_, GREEDY)


def test_info_records_the_chat_template_hash(backend, tiny_vlm_dir):
    info = backend.info()
    template = (tiny_vlm_dir / "chat_template.jinja").read_text()
    assert info["chat_template_sha256"] == hashlib.sha256(template.encode()).hexdigest()[:16]
    assert info["backend"] == "transformers" and info["model_id"] == backend.model_id
    assert (info["device"], info["dtype"], info["path"]) == ("cpu", "float32", str(tiny_vlm_dir.resolve()))


def test_model_id_follows_the_weights_not_the_location(backend, tiny_vlm_dir, tmp_path):
    name, _, digest = backend.model_id.partition("@")
    assert name == f"hf:{tiny_vlm_dir.name}" and len(digest) == 12
    copy = shutil.copytree(tiny_vlm_dir, tmp_path / tiny_vlm_dir.name)
    assert TransformersBackend(copy).model_id == backend.model_id
    retrained = build_tiny_vlm(tmp_path / "retrained" / tiny_vlm_dir.name, seed=1)
    assert TransformersBackend(retrained).model_id != backend.model_id


def test_model_id_changes_with_the_options_that_change_outputs(tiny_vlm_dir):
    plain = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu"})
    capped = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "max_pixels": 3136})
    half = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "dtype": "bfloat16"})
    batched = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "batch_size": 3})
    assert len({plain.model_id, capped.model_id, half.model_id}) == 3
    assert batched.model_id == plain.model_id


def test_max_pixels_caps_the_image_tokens(tiny_vlm_dir, requests_):
    small = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "max_pixels": "784"})
    assert small.info()["max_pixels"] == 784
    assert len(small.generate(requests_[:2], Sampling(max_new_tokens=2))) == 2
    inputs = small.processor(text=["<|vision_start|><|image_pad|><|vision_end|>"],
                             images=requests_[1].load_images()[:1], return_tensors="pt")
    assert inputs["image_grid_thw"].prod().item() <= 784 // 14**2  # 4 patches = one merged image token


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: (p / "file.txt").write_text("x") and p / "file.txt", "is not a directory"),
    (lambda p: p, "has no config.json"),
    (lambda p: (p / "config.json").write_text("{oops") and p, "is not valid JSON"),
    (lambda p: (p / "config.json").write_text('{"model_type": "qwen2_5_vl"}') and p, "no weights"),
])
def test_not_a_checkpoint_is_a_one_line_harness_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(HarnessError, match=message) as err:
        TransformersBackend.from_spec(str(path), {})
    assert str(path.resolve()) in str(err.value) and "\n" not in str(err.value)


def test_corrupt_weights_are_a_harness_error(tiny_vlm_dir, tmp_path, requests_):
    broken = shutil.copytree(tiny_vlm_dir, tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    model = TransformersBackend.from_spec(str(broken), {"device": "cpu"})
    with pytest.raises(HarnessError, match="could not load the model in checkpoint") as err:
        model.generate(requests_[:1], GREEDY)
    assert str(broken) in str(err.value) and "\n" not in str(err.value)


def test_placeholder_image_mismatch_is_a_harness_error(backend, requests_):
    one_short = Request(case=requests_[0].case, kind="report", messages=requests_[0].messages,
                        load_images=lambda: requests_[0].load_images()[:1])
    with pytest.raises(HarnessError, match="2 image placeholder"):
        backend.generate([one_short], GREEDY)


@pytest.mark.parametrize("options, message", [
    ({"dtype": "float8"}, "dtype must be one of"),
    ({"device": "tpu"}, "device must be one of"),
    ({"batch_size": "0"}, "batch_size must be a positive integer or auto"),
    ({"trust_remote_code": "maybe"}, "trust_remote_code must be true or false"),
    ({"batchsize": 2}, "unknown transformers backend option"),
])
def test_bad_options_are_harness_errors(options, message):
    with pytest.raises(HarnessError, match=message):
        HFOptions.parse(options)


def test_options_from_the_command_line_are_parsed():
    opts = HFOptions.parse({"batch_size": "4", "trust_remote_code": "true", "max_pixels": "50176"})
    assert (opts.batch_size, opts.trust_remote_code, opts.max_pixels) == (4, True, 50176)
    assert HFOptions.parse({"batch_size": "auto"}).batch_size == "auto"


def test_importing_the_backend_does_not_import_torch():
    code = "import sys, harness.models.hf; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


def test_blank_images_feeds_uniform_grey_images_of_the_same_size(tiny_vlm_dir, requests_, monkeypatch):
    """The image ablation of the mini-experiment: same prompts, same image-token count, no image content; its
    predictions are cached apart from the model's own (the option is part of the model id)."""
    plain = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu"})
    blank = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "blank_images": "true"})
    assert blank.model_id == plain.model_id + "+blank_images" and blank.info()["blank_images"] is True
    seen = []
    original = blank.processor.__class__.__call__

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("images"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(blank.processor.__class__, "__call__", spy)
    blank.generate(requests_[:2], GREEDY)
    images = [im for batch in seen for ims in batch for im in ims]
    originals = [im for r in requests_[:2] for im in r.load_images()]
    assert [im.size for im in images] == [im.size for im in originals]
    assert all(len(set(np.asarray(im).ravel().tolist())) == 1 for im in images)
    with pytest.raises(HarnessError, match="blank_images"):
        HFOptions.parse({"blank_images": "maybe"})
