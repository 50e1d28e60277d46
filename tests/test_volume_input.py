"""Volume input in the model contract: the VolumeInput record, lazy volumes on ct_tumor's requests, MONAI
resampling, the zoo's volume layout, and M3D-LaMed's input path on a tiny offline replica of its architecture."""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines.tiny_lamed import build_tiny_lamed
from baselines.zoo.adapter import PromptAdapter
from baselines.zoo.backend import ZooBackend
from baselines.zoo.cards import Prompt, load_cards
from harness.errors import HarnessError
from harness.models.base import fill_image_parts
from harness.models.hf import TransformersBackend
from harness.models.lamed import IMAGE_TOKEN, ORIENTATION, LamedFamily, decoder
from harness.models.volume import resample
from harness.registry import VOLUME_MODELS
from harness.runner import prediction_key
from harness.schema import Case, Prediction, Request, Sampling, VolumeInput
from tasks.ct_tumor.task import CTTumorTask

GREEDY = Sampling(max_new_tokens=4)


class SmallCT(CTTumorTask):
    """ct_tumor on 2 cases."""

    name = "volume_ct_small"

    def __init__(self, overrides=None):
        super().__init__({"splits": {"test": {"n_cases": 2, "seed": 1000}}, **(overrides or {})})

CASE = Case(case_id="c1", task="ct_tumor", image_path=None, label_path=None, reference_report="", findings=())


def _volume(seed: int = 0, shape=(1, 12, 20, 16)) -> VolumeInput:
    rng = np.random.default_rng(seed)
    return VolumeInput(rng.random(shape, dtype=np.float32), (4.0, 3.0, 3.0), "SAR")


def _volume_request(question: str, volume: VolumeInput, calls: list | None = None) -> Request:
    def load():
        if calls is not None:
            calls.append(1)
        return volume

    content = [{"type": "volume"}, {"type": "text", "text": question}]
    return Request(case=CASE, kind="report", messages=({"role": "user", "content": content},), load_volume=load)


# -- the record ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"array": np.zeros((4, 4, 4))}, "channels x depth x height x width"),
    ({"spacing": (1.0, 0.0, 1.0)}, "three positive sizes"),
    ({"orientation": "SAA"}, "one of each of L/R, P/A and I/S"),
    ({"orientation": "SA"}, "three axis codes"),
])
def test_a_volume_input_refuses_what_is_not_a_channels_first_oriented_volume(kwargs, message):
    good = {"array": np.zeros((1, 4, 4, 4)), "spacing": (1.0, 1.0, 1.0), "orientation": "SAR"}
    with pytest.raises(ValueError, match=message):
        VolumeInput(**{**good, **kwargs})
    assert VolumeInput(**{**good, "orientation": "ipl"}).orientation == "IPL"


def test_resampling_reorients_by_anatomy_scales_to_0_1_and_resizes_with_monai():
    array = np.full((1, 8, 6, 4), -100.0, dtype=np.float32)  # "SAR": depth I->S, rows P->A, columns L->R
    array[0, 7, 5, 3] = 300.0  # the most superior, anterior and right voxel
    array[0, 0, 0, 0] = 100.0  # the most inferior, posterior and left one
    out = resample(VolumeInput(array, (4.0, 3.0, 2.0), "SAR"), "IPL", (8, 6, 4), mode="nearest")
    assert out.shape == (1, 8, 6, 4) and out.dtype == np.float32
    assert out[0, 0, 0, 0] == 1.0 and out[0, 7, 5, 3] == pytest.approx(0.5)  # IPL: superior, anterior, right first
    assert out.min() == 0.0
    grid = resample(_volume(), ORIENTATION, (32, 256, 256), crop_foreground=True)
    assert grid.shape == (1, 32, 256, 256) and 0.0 <= grid.min() and grid.max() <= 1.0


# -- ct_tumor's requests carry their volume, lazily ----------------------------------------------------------
@pytest.fixture(scope="module")
def small_ct(harness_cache):
    task = SmallCT()
    return task, next(c for c in task.load("test").cases if c.lesions)


def test_ct_requests_carry_the_windowed_volume_lazily_and_the_key_ignores_it(small_ct, monkeypatch):
    ct_task, case = small_ct
    loads: list[int] = []
    original = ct_task.volume_input
    monkeypatch.setattr(ct_task, "volume_input", lambda c: loads.append(1) or original(c))
    (report,) = ct_task.requests(case, "report", {})
    assert loads == [] and report.load_volume is not None  # building a request reads no voxels
    volume = report.load_volume()
    assert loads == [1]
    x, y, z = case.meta["shape"]
    assert volume.shape == (1, z, y, x) and volume.orientation == "SAR"
    sx, sy, sz = case.meta["spacing_mm"]
    assert volume.spacing == pytest.approx((sz, sy, sx))
    axial = ct_task._volume(case).image[:, :, 5]
    assert np.array_equal(volume.array[0, 5], axial.T)  # depth index = the task's z
    assert 0.0 <= float(volume.array.min()) and float(volume.array.max()) <= 1.0  # windowed, as the views
    assert report.count_parts("image") == 34 and report.count_parts("volume") == 0  # beside the images, unused
    key = prediction_key(ct_task, report, "m", GREEDY)
    assert prediction_key(ct_task, Request(case=case, kind="report", messages=report.messages), "m", GREEDY) == key


# -- the zoo's volume layout ---------------------------------------------------------------------------------
def _views_request(volume: VolumeInput | None) -> Request:
    content = []
    for i in range(8):
        content += [{"type": "text", "text": f"Slice {i + 1}:"}, {"type": "image"}]
    content += [{"type": "text", "text": "Coronal:"}, {"type": "image"},
                {"type": "text", "text": "Write <report>...</report><key_slice>N</key_slice>."}]
    return Request(case=CASE, kind="report", messages=({"role": "user", "content": content},),
                   load_images=lambda: pytest.fail("a volume layout must not render the views"),
                   load_volume=None if volume is None else (lambda: volume))


def test_the_volume_layout_puts_the_volume_where_the_views_were_and_renders_nothing():
    adapter = PromptAdapter(Prompt(layout="volume", system="Be brief."), "t")
    volume = _volume()
    adapted = adapter.adapt(_views_request(volume))
    (system, user) = adapted.messages
    assert system["content"] == [{"type": "text", "text": "Be brief."}]
    parts = user["content"]
    assert parts[0] == {"type": "volume"} and adapted.count_parts("image") == 0
    assert parts[1]["text"] == ("The scan is given as one 3D volume in place of the 9 images named here "
                                "(Slice 1-8, Coronal).")
    assert parts[2]["text"].startswith("Write <report>")
    assert adapted.load_images() == [] and adapted.load_volume() is volume
    with pytest.raises(HarnessError, match=r"^zoo card 't' shows the model one volume, but request c1/report "
                                           r"carries none"):
        adapter.adapt(_views_request(None))
    # cards without a volume layout keep their adapter fingerprint (and so their cached predictions)
    assert PromptAdapter(Prompt(), "t").fingerprint() != adapter.fingerprint()
    assert PromptAdapter(Prompt(), "t").fingerprint() == PromptAdapter(
        Prompt(volume_note="Other {n} {labels}."), "t").fingerprint()


def test_image_engines_refuse_a_volume_in_one_line():
    messages = _volume_request("Q?", _volume()).messages
    with pytest.raises(HarnessError, match="^a volume cannot be sent to vLLM: volume models"):
        fill_image_parts(messages, [], lambda im: {}, "vLLM")


def test_the_m3d_card_is_served_by_the_transformers_backend_only():
    card = load_cards()["m3d_lamed_phi3_4b"]
    assert card.status == "supported" and card.family == "lamed" and card.prompt.layout == "volume"
    assert card.backend_options("transformers") == {"trust_remote_code": True}
    with pytest.raises(HarnessError, match=r"^zoo card 'm3d_lamed_phi3_4b' shows the model a volume, which only "):
        card.backend_options("vllm")
    assert set(VOLUME_MODELS.names()) >= {"lamed_phi3", "lamed_llama"}


# -- M3D-LaMed on the tiny replica ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_lamed_dir(tmp_path_factory):
    return build_tiny_lamed(tmp_path_factory.mktemp("tiny-lamed") / "tiny_lamed", seed=0)


@pytest.fixture(scope="module")
def lamed(tiny_lamed_dir):
    backend = TransformersBackend.from_spec(str(tiny_lamed_dir), {"device": "cpu", "trust_remote_code": "true",
                                                                   "batch_size": 8})
    yield backend
    backend.close()


def test_the_replica_is_a_remote_code_checkpoint_of_m3ds_layout(tiny_lamed_dir):
    config = json.loads((tiny_lamed_dir / "config.json").read_text())
    assert config["model_type"] == "lamed_phi3" and config["auto_map"]["AutoModelForCausalLM"].startswith("modeling_")
    assert (tiny_lamed_dir / "modeling_lamed.py").is_file()
    assert config["image_size"] == [32, 256, 256] and config["patch_size"] == [4, 16, 16]
    family = LamedFamily(tiny_lamed_dir, config)
    assert family.image_tokens == 256  # (32/4 x 256/16 x 256/16) patches pooled 2 x 2 x 2


def test_the_prompt_is_256_image_tokens_after_bos_then_the_text(lamed):
    family, tokenizer = lamed.family, lamed.processor
    request = _volume_request("Describe the liver.", _volume())
    prompt = family.prompt(request)
    assert prompt == IMAGE_TOKEN * 256 + "Describe the liver."
    ids = tokenizer(prompt)["input_ids"]
    image_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    assert ids[0] == tokenizer.bos_token_id and ids[1:257] == [image_id] * 256 and image_id not in ids[257:]
    with pytest.raises(HarnessError, match="takes one volume and no images; request c1/report has 9 image"):
        family.prompt(_views_request(_volume()))
    no_volume = Request(case=CASE, kind="report", messages=({"role": "user", "content": "Q?"},))
    with pytest.raises(HarnessError, match="exactly one volume per request; request c1/report has 0"):
        family.prompt(no_volume)


def test_the_backend_feeds_the_preprocessed_volume_and_batches_equal_length_prompts(lamed):
    import torch

    volumes = [_volume(seed) for seed in range(3)]
    calls: list[int] = []
    requests = [_volume_request("Describe the liver.", volumes[0], calls),
                _volume_request("Is there a lesion in the liver?", volumes[1], calls),
                _volume_request("Describe the spleen.", volumes[2], calls)]
    seen: list[torch.Tensor] = []
    model = lamed._load_model()
    hook = model.model.vision_tower.register_forward_hook(lambda module, args, out: seen.append(args[0].clone()))
    try:
        texts = lamed.generate(requests, GREEDY)
    finally:
        hook.remove()
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert calls == [1, 1, 1]  # each volume read once, when its batch ran
    assert sorted(batch.shape[0] for batch in seen) == [1, 2]  # equal prompt lengths share a batch, none padded
    fed = torch.cat(seen)
    expected = [lamed.family.preprocess(v) for v in volumes]
    for row in fed:
        assert any(np.allclose(row.numpy(), e) for e in expected)
    one_by_one = [lamed.generate([r], GREEDY)[0] for r in requests]
    assert texts == one_by_one
    # the same tokens as the model's own generate(images, inputs), M3D's calling convention
    ids = lamed.processor(lamed.family.prompt(requests[0]), return_tensors="pt")["input_ids"]
    images = torch.from_numpy(lamed.family.preprocess(volumes[0]))[None]
    own = model.generate(images, ids, attention_mask=torch.ones_like(ids), max_new_tokens=GREEDY.max_new_tokens,
                         do_sample=False)
    assert lamed.processor.batch_decode(own, skip_special_tokens=True) == texts[:1]
    assert not any(p.is_meta for p in decoder(model).parameters())
    # the projected volume features reach the language model: another volume, other next-token logits
    ids = lamed.processor(lamed.family.prompt(requests[0]), return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = [model(images=torch.from_numpy(lamed.family.preprocess(v))[None], input_ids=ids).logits[0, -1]
                  for v in volumes[:2]]
    assert not torch.allclose(logits[0], logits[1])
    assert lamed.model_id.endswith("+m3d-lamed-input/1")
    info = lamed.info()
    assert info["volume_family"] == "m3d_lamed" and info["chat_template_sha256"]


def test_the_image_backend_refuses_a_volume_and_lamed_needs_trust_remote_code(tiny_vlm_dir, tiny_lamed_dir):
    qwen = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu"})
    with pytest.raises(HarnessError, match=r"request c1/report has a volume placeholder, but checkpoint .* takes "
                                           r"images only; volume models are those of model_type lamed_llama"):
        qwen.generate([_volume_request("Q?", _volume())], GREEDY)
    backend = TransformersBackend.from_spec(str(tiny_lamed_dir), {"device": "cpu"})
    with pytest.raises(HarnessError, match="runs its own model code: pass trust_remote_code=true"):
        backend.generate([_volume_request("Q?", _volume())], GREEDY)
    with pytest.raises(HarnessError, match="max_pixels caps images"):
        TransformersBackend.from_spec(str(tiny_lamed_dir), {"device": "cpu", "max_pixels": 1000})


def test_the_m3d_card_runs_ct_tumor_through_the_replica(tiny_lamed_dir, small_ct):
    task, case = small_ct
    (report,) = task.requests(case, "report", {})
    oracle = Prediction("k", case.case_id, "report", "oracle", task.reference_answer(report), 0.0)
    (verify,) = task.requests(case, "verify", {"report": oracle})
    backend = ZooBackend.from_spec("m3d_lamed_phi3_4b", {"path": str(tiny_lamed_dir),
                                                         "options": {"device": "cpu", "batch_size": 2}})
    try:
        texts = backend.generate([report, verify], GREEDY)
        assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
        prompt = backend.inner.family.prompt(backend.adapter.adapt(report))
        assert prompt.startswith(IMAGE_TOKEN * 256 + "The scan is given as one 3D volume in place of the 34 images "
                                 "named here (Slice 1-32, Coronal, Sagittal).")
        assert "<key_slice>" in prompt
        assert backend.model_id.startswith("zoo:m3d_lamed_phi3_4b@") and backend.info()["zoo"]["card"] == \
            "m3d_lamed_phi3_4b"
    finally:
        backend.close()
