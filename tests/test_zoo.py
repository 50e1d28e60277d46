"""The baseline zoo: every card parses and its engine arguments are accepted by the real backends' option
parsers; card errors are one line naming the file and the field; weights are found in the layouts users have
(or every place looked is reported); the prompt adapter subsamples and tiles views lazily, keeping the slice
numbers; every card whose architecture transformers can build from a config runs its prompt adapter through
the transformers backend on a tiny local model of that architecture (so no card ships a prompt its model's
chat template rejects); and ``harness zoo run`` evaluates a local checkpoint substituted for a card's hub
id end to end and puts it on the leaderboard. Everything runs on CPU, offline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from baselines.zoo.adapter import PromptAdapter
from baselines.zoo.backend import ZooBackend
from baselines.zoo.cards import CARDS_DIR, FAMILIES, Card, Prompt, find_weights, load_card, load_cards
from baselines.zoo.cli import app
from baselines.zoo.tiny_families import build_tiny_family, tiny_families, trl_template
from harness.errors import HarnessError
from harness.registry import TASKS
from harness.schema import Case, Prediction, Request, Sampling
from tasks.ct_tumor.task import CTTumorTask

#: families transformers can build but whose real chat template is not available offline, so no tiny model
#: checks their cards' prompts here (they are checked on a GPU run); a new family must be added to one side
UNCHECKED_FAMILIES = {"internvl": "InternVL-hf's template is not shipped offline (TRL has none)",
                      "mllama": "TRL's llama3_2.jinja is the text-only Llama 3.2 template"}
SMALL = "zoo_ct_small"
GREEDY = Sampling(max_new_tokens=6)


class SmallCT(CTTumorTask):
    """ct_tumor on 2 cases: the whole protocol, quickly."""

    name = SMALL

    def __init__(self, overrides=None):
        super().__init__({"splits": {"test": {"n_cases": 2, "seed": 1000}}, **(overrides or {})})


# -- cards ------------------------------------------------------------------------------------------------------
def test_every_card_parses_and_its_engine_arguments_are_accepted_by_the_backends():
    from harness.models.hf import HFOptions
    from harness.models.vllm_backend import VLLMOptions, engine_kwargs, mm_limits

    cards = load_cards()
    assert {c.group for c in cards.values()} == {"general", "medical", "ct_native"}
    expected = {"qwen2_5_vl_3b", "qwen2_5_vl_7b", "qwen2_5_vl_72b", "qwen3_vl_8b", "internvl3_8b", "gemma3_4b",
                "llama3_2_11b_vision", "medgemma_4b", "lingshu_7b", "huatuogpt_vision_7b", "llava_med_7b",
                "m3d_lamed_phi3_4b", "radfm"}
    assert expected <= set(cards)
    for card in cards.values():
        assert card.hub_id.count("/") == 1 and card.licence and card.url.endswith(card.hub_id)
        if card.status == "unsupported":
            assert card.family == "custom" and len(card.notes) > 80  # says why, not just that
            continue
        HFOptions.parse({**card.backend_options("transformers"), "device": "cpu"})
        assert card.family in tiny_families() or card.family in UNCHECKED_FAMILIES, card.name
        if card.prompt.layout == "volume":  # only the transformers backend feeds a volume
            with pytest.raises(HarnessError, match="only the transformers backend feeds"):
                card.backend_options("vllm")
            continue
        vllm_options = VLLMOptions.parse(card.backend_options("vllm"))
        kwargs = engine_kwargs(card.hub_id, vllm_options, mm_limits(vllm_options, []))
        assert kwargs["tensor_parallel_size"] == card.engine.tensor_parallel_size
        if card.images_per_prompt is not None:
            assert kwargs["limit_mm_per_prompt"] == {"image": card.images_per_prompt}


@pytest.mark.parametrize("text, field", [
    ("display_name: x\nhub_id: a/b\norganisation: o\nlicence: l\ngroup: general\nfamily: qwen2_5_vl\n"
     "engine: {tensor_paralel_size: 2}\n", "engine.tensor_paralel_size"),
    ("display_name: x\nhub_id: not-a-hub-id\norganisation: o\nlicence: l\ngroup: general\nfamily: qwen2_5_vl\n",
     "hub_id"),
    ("display_name: x\nhub_id: a/b\norganisation: o\nlicence: l\ngroup: general\nfamily: qwen9\n", "family"),
    ("display_name: x\nhub_id: a/b\norganisation: o\nlicence: l\ngroup: general\nfamily: qwen2_5_vl\n"
     "prompt: {series_label: '(unclosed'}\n", "prompt.series_label"),
    ("display_name: x\nhub_id: a/b\norganisation: o\nlicence: l\ngroup: general\nfamily: qwen2_5_vl\n"
     "prompt: {subsample_note: 'only {shwn}'}\n", "prompt.subsample_note"),
    ("display_name: x\nhub_id: a/b\norganisation: o\nlicence: l\ngroup: general\nfamily: custom\n"
     "status: unsupported\n", "(card)"),
    ("name: x\ndisplay_name: x\n", "name"),
    ("display_name: [unclosed\n", "not valid YAML at line"),
])
def test_card_errors_are_one_line_naming_the_file_and_the_field(tmp_path, text, field):
    path = tmp_path / "bad_card.yaml"
    path.write_text(text)
    with pytest.raises(HarnessError) as err:
        load_card(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and field in message


def test_cards_from_another_folder_add_to_the_zoo_and_may_not_shadow_one(tmp_path):
    own = tmp_path / "mine"
    own.mkdir()
    body = (CARDS_DIR / "qwen2_5_vl_7b.yaml").read_text()
    (own / "my_qwen.yaml").write_text(body)
    assert "my_qwen" in load_cards([own])
    (own / "qwen2_5_vl_7b.yaml").write_text(body)
    with pytest.raises(HarnessError, match="already defined"):
        load_cards([own])


# -- weights discovery -----------------------------------------------------------------------------------------
def _checkpoint(path: Path, model_type: str = "qwen2_5_vl") -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"model_type": model_type}))
    (path / "model.safetensors").write_bytes(b"\0")
    return path


def test_weights_are_found_in_the_layouts_users_have_or_every_place_looked_is_reported(tmp_path):
    card = load_cards()["qwen2_5_vl_7b"]
    org, repo = card.hub_id.split("/")
    hub = tmp_path / "hub"
    missing = find_weights(card, [tmp_path / "w1"], hub)
    assert not missing.found
    assert missing.looked == (str(tmp_path / "w1" / org / repo), str(tmp_path / "w1" / repo),
                              str(tmp_path / "w1" / f"models--{org}--{repo}"), str(hub / f"models--{org}--{repo}"))
    assert missing.describe().startswith("not found: looked in ") and str(hub) in missing.describe()

    cache_repo = hub / f"models--{org}--{repo}"
    old = _checkpoint(cache_repo / "snapshots" / "aaa")
    main = _checkpoint(cache_repo / "snapshots" / "bbb")
    (cache_repo / "refs").mkdir()
    (cache_repo / "refs" / "main").write_text("bbb\n")
    assert find_weights(card, [], hub).path == main.resolve()
    (cache_repo / "refs" / "main").write_text("aaa")
    assert find_weights(card, [], hub).path == old.resolve()

    by_name = _checkpoint(tmp_path / "w2" / repo)
    found = find_weights(card, [tmp_path / "w2"], hub)
    assert found.found and found.path == by_name.resolve() and found.describe() == f"weights found at {by_name}"
    by_org = _checkpoint(tmp_path / "w3" / org / repo)
    assert find_weights(card, [tmp_path / "w3"], hub).path == by_org.resolve()
    (tmp_path / "w4" / repo).mkdir(parents=True)  # a folder without weights is not a checkpoint
    assert find_weights(card, [tmp_path / "w4"], hub).path == old.resolve()


def test_a_checkpoint_of_another_architecture_is_reported_not_served(tmp_path):
    card = load_cards()["llava_med_7b"]
    org, repo = card.hub_id.split("/")
    _checkpoint(tmp_path / "hub" / f"models--{org}--{repo}" / "snapshots" / "r1", model_type="llava_mistral")
    weights = find_weights(card, [], tmp_path / "hub")
    assert not weights.found and "model_type is 'llava_mistral'" in weights.describe()
    assert "convert" in weights.describe()
    converted = _checkpoint(tmp_path / "converted", model_type="llava")
    assert find_weights(card, [], tmp_path / "hub", override=converted).found
    not_a_checkpoint = tmp_path / "empty"
    not_a_checkpoint.mkdir()
    assert "not a checkpoint directory" in find_weights(card, [], None, override=not_a_checkpoint).describe()


# -- the prompt adapter ----------------------------------------------------------------------------------------
def _series_request(n: int = 8, reformats: bool = True) -> tuple[Request, list[Image.Image], list[int]]:
    images = [Image.new("L", (40 + i, 30), color=i) for i in range(n + 2 * reformats)]
    content = []
    for i in range(n):
        content += [{"type": "text", "text": f"Slice {i + 1}:"}, {"type": "image"}]
    if reformats:
        content += [{"type": "text", "text": "Coronal:"}, {"type": "image"},
                    {"type": "text", "text": "Sagittal:"}, {"type": "image"}]
    content.append({"type": "text", "text": "Write <report>...</report><key_slice>N</key_slice>."})
    calls: list[int] = []

    def load():
        calls.append(1)
        return images

    case = Case(case_id="c1", task="ct_tumor", image_path=None, label_path=None, reference_report="", findings=())
    return Request(case=case, kind="report", messages=({"role": "user", "content": content},),
                   load_images=load), images, calls


def _texts(request: Request) -> list[str]:
    return [p["text"] for m in request.messages if not isinstance(m["content"], str)
            for p in m["content"] if p["type"] == "text"]


def test_subsampling_keeps_the_original_slice_numbers_and_the_reformats_and_stays_lazy():
    request, images, calls = _series_request(8)
    adapter = PromptAdapter(Prompt(system="Be a radiologist.", max_images=6, answer_hint="Tags only."), "t")
    adapted = adapter.adapt(request)
    assert calls == []  # nothing rendered until the backend asks
    texts = _texts(adapted)
    assert texts[0] == "Be a radiologist." and adapted.messages[0]["role"] == "system"
    assert [t for t in texts if t.startswith("Slice")] == ["Slice 2:", "Slice 4:", "Slice 6:", "Slice 8:"]  # bin centres
    assert "Coronal:" in texts and "Sagittal:" in texts
    assert "Only 4 of the 8 numbered axial slices are shown" in texts[-3] and texts[-1] == "Tags only."
    loaded = adapted.load_images()
    assert calls == [1] and loaded == [images[1], images[3], images[5], images[7], images[8], images[9]]
    placeholders = sum(p["type"] == "image" for m in adapted.messages[1:] for p in m["content"])
    assert placeholders == len(loaded) == 6
    assert request.messages[0]["content"][0]["text"] == "Slice 1:"  # the task's request is untouched
    assert adapter.fingerprint() != PromptAdapter(Prompt(max_images=6), "t").fingerprint()
    assert adapter.adapt(request).messages == adapted.messages  # deterministic


def test_montage_tiles_every_view_into_one_captioned_image():
    request, images, _ = _series_request(8)
    adapted = PromptAdapter(Prompt(layout="montage", max_images=6, montage={"tile_size": 64}), "t").adapt(request)
    content = adapted.messages[0]["content"]
    assert [p["type"] for p in content].count("image") == 1
    assert not any(p.get("text", "").startswith("Slice") for p in content)  # the labels became captions
    note = next(p["text"] for p in content if p["type"] == "text" and "tiled" in p["text"])
    assert "The 6 views" in note and "Slice 2, Slice 4, Slice 6, Slice 8, Coronal, Sagittal" in note
    (tiles,) = adapted.load_images()
    assert tiles.mode == "RGB" and tiles.size == (3 * 64, 2 * 64)


def test_a_request_the_card_cannot_fit_is_refused_in_one_line():
    request, _, _ = _series_request(2, reformats=True)
    with pytest.raises(HarnessError, match=r"^zoo card 't': request c1/report has 4 images, the card allows 2 "):
        PromptAdapter(Prompt(max_images=2), "t").adapt(request)


def test_a_system_message_the_task_wrote_is_kept_after_the_cards():
    request, _, _ = _series_request(1, reformats=False)
    request = Request(case=request.case, kind="report", load_images=request.load_images,
                      messages=({"role": "system", "content": "Task rules."},) + request.messages)
    adapted = PromptAdapter(Prompt(system="Card rules."), "t").adapt(request)
    assert [p["text"] for p in adapted.messages[0]["content"]] == ["Card rules.", "Task rules."]


# -- every card through a tiny model of its architecture --------------------------------------------------------
@pytest.fixture(scope="module")
def ct_requests(harness_cache):
    """A global-view report request (34 labelled views) and a verification request (3 unlabelled views)."""
    ct_task = SmallCT()
    case = next(c for c in ct_task.load("test").cases if c.lesions)
    (report,) = ct_task.requests(case, "report", {})
    oracle = Prediction("k", case.case_id, "report", "oracle", ct_task.reference_answer(report), 0.0)
    (verify,) = ct_task.requests(case, "verify", {"report": oracle})
    return [report, verify]


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory, tiny_vlm_dir):
    built = {"qwen2_5_vl": tiny_vlm_dir}

    def get(family: str, template: str | None = None) -> Path:
        key = family if template is None else f"{family}+{template}"
        if key not in built:
            built[key] = build_tiny_family(tmp_path_factory.mktemp(key.replace("+", "_")) / "ckpt", family,
                                           chat_template=None if template is None else trl_template(template))
        return built[key]

    return get


def _checked_groups() -> dict[str, list[str]]:
    """Cards the tiny models check, grouped when they would show a model exactly the same thing (same family,
    prompt adapter and transformers options): one run checks the whole group."""
    groups: dict[tuple, list[str]] = {}
    for name, card in load_cards().items():
        if card.status == "unsupported" or card.family in UNCHECKED_FAMILIES:
            continue
        key = (card.family, PromptAdapter(card.prompt, name).fingerprint(),
               json.dumps(card.backend_options("transformers"), sort_keys=True), name == "llava_med_7b")
        groups.setdefault(key, []).append(name)
    return {"+".join(names): names for names in groups.values()}


CHECKED = _checked_groups()


@pytest.mark.parametrize("group", sorted(CHECKED))
def test_every_card_prompt_runs_through_a_tiny_model_of_its_architecture(group, tiny_models, ct_requests):
    name = CHECKED[group][0]
    card = load_cards()[name]
    templates = [None] + (["llava_next.jinja"] if name == "llava_med_7b" else [])  # the template its notes name
    for template in templates:
        path = tiny_models(card.family, template)
        backend = ZooBackend.from_spec(name, {"path": str(path), "backend": "transformers",
                                              "options": {"device": "cpu", "batch_size": 2}})
        try:
            texts = backend.generate(ct_requests, GREEDY)
            assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
            adapted = backend.adapter.adapt(ct_requests[0])
            if card.prompt.layout == "volume":  # a volume family builds its own prompt, without a chat template
                prompt = backend.inner.family.prompt(adapted)
                assert adapted.count_parts("volume") == 1 and adapted.load_volume is not None
            else:
                prompt = backend.inner.processor.apply_chat_template(
                    [dict(m) for m in adapted.messages], tokenize=False, add_generation_prompt=True)
            assert "<key_slice>" in prompt
            if card.prompt.system:
                assert card.prompt.system in prompt
            images = adapted.load_images()
            expected = card.images_per_prompt
            assert len(images) == (len(ct_requests[0].load_images()) if expected is None else expected)
            info = backend.info()
            assert info["model_id"] == backend.model_id and info["zoo"]["hub_id"] == card.hub_id
            assert info["chat_template_sha256"] and backend.model_id.startswith(f"zoo:{name}@")
        finally:
            backend.close()


def test_every_servable_card_is_checked_by_a_tiny_model_or_says_why_not():
    checked = {name for names in CHECKED.values() for name in names}
    for name, card in load_cards().items():
        if card.status == "unsupported":
            continue
        assert name in checked or (card.family in UNCHECKED_FAMILIES and "No tiny" in card.notes), name


def test_the_zoo_backend_refuses_unsupported_cards_and_missing_weights_in_one_line(tmp_path):
    with pytest.raises(HarnessError, match=r"^zoo card 'radfm' is unsupported: CT-native"):
        ZooBackend.from_spec("radfm", {})
    with pytest.raises(HarnessError, match=r"^zoo card 'gemma3_4b': not found: looked in .*models--google--"):
        ZooBackend.from_spec("gemma3_4b", {"hub_cache": str(tmp_path)})
    with pytest.raises(HarnessError, match="unknown zoo backend option"):
        ZooBackend.from_spec("gemma3_4b", {"device": "cpu"})
    with pytest.raises(HarnessError, match="did you mean 'gemma3_4b'"):
        ZooBackend.from_spec("gemma3_4", {})


# -- the CLI -----------------------------------------------------------------------------------------------------
@pytest.fixture()
def small_task(harness_cache):
    TASKS.register(SMALL, SmallCT)
    yield SMALL
    TASKS.unregister(SMALL)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables one row per line, so a test can read a card's row."""
    from rich.console import Console

    import baselines.zoo.cli as cli

    monkeypatch.setattr(cli, "console", Console(width=1000))
    monkeypatch.setattr(cli, "err_console", Console(width=1000, stderr=True))


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_list_shows_every_card_with_its_weights_status(tiny_vlm_dir, tmp_path):
    result = _invoke("list", "--model-path", f"qwen2_5_vl_3b={tiny_vlm_dir}", "--hub-cache", str(tmp_path))
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 5}
    assert set(load_cards()) <= set(lines)
    assert f"weights found at {Path(tiny_vlm_dir).resolve()}" in lines["qwen2_5_vl_3b"]
    assert "not found: looked in" in lines["gemma3_4b"] and str(tmp_path) in lines["gemma3_4b"]
    assert "unsupported" in lines["radfm"] and "needs conversion" in lines["llava_med_7b"]


def test_run_evaluates_a_local_checkpoint_end_to_end_and_submits_it(small_task, tiny_vlm_dir, tmp_path):
    from leaderboard.schema import load_submission

    subs = tmp_path / "submissions"
    args = ["run", "--zoo", "qwen2_5_vl_3b,gemma3_4b", "--zoo", "radfm", "--task", small_task, "--submit",
            "--model-path", f"qwen2_5_vl_3b={tiny_vlm_dir}", "--hub-cache", str(tmp_path / "hub"),
            "--backend", "transformers", "--model-option", "device=cpu", "--max-new-tokens", "8",
            "--bootstrap", "10", "--out", str(tmp_path / "runs"), "--submissions", str(subs)]
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") == 4}
    assert "submitted" in rows["qwen2_5_vl_3b"] and "skipped" in rows["gemma3_4b"]
    assert "models--google--gemma-3-4b-it" in rows["gemma3_4b"] and "unsupported" in rows["radfm"]
    run_dir = tmp_path / "runs" / small_task / "zoo-qwen2_5_vl_3b"
    results = json.loads((run_dir / "results.json").read_text())
    assert results["model"]["backend"] == "transformers" and results["model"]["zoo"]["card"] == "qwen2_5_vl_3b"
    assert results["sampling"]["max_new_tokens"] == 8 and results["requests"]["generated"] >= 4
    sub = load_submission(subs / small_task / "qwen2.5-vl-3b-instruct.json")
    assert sub.model.name == "Qwen2.5-VL-3B-Instruct" and sub.model.model_id == results["model"]["model_id"]
    assert sub.model.url == "https://huggingface.co/Qwen/Qwen2.5-VL-3B-Instruct" and sub.n_cases == 2

    again = _invoke(*args)  # resumes from the cache; the same name is refused without --replace
    assert again.exit_code == 1 and "already exists" in again.output and "0 generated" in again.output
    replaced = _invoke(*args, "--replace")
    assert replaced.exit_code == 0 and "submitted" in replaced.output


def test_run_refuses_bad_requests_before_running_anything(tiny_vlm_dir):
    assert "drop --limit" in _invoke("run", "--zoo", "qwen2_5_vl_3b", "--submit", "--limit", "2").output
    assert "unknown zoo card 'qwen'" in _invoke("run", "--zoo", "qwen").output
    assert "unknown card 'nope'" in _invoke("run", "--zoo", "radfm", "--model-path", f"nope={tiny_vlm_dir}").output
    assert "--backend must be one of" in _invoke("run", "--zoo", "radfm", "--backend", "sglang").output


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_the_default_vllm_backend_without_vllm_fails_the_card_in_one_line(small_task, tiny_vlm_dir, tmp_path):
    result = _invoke("run", "--zoo", "qwen2_5_vl_3b", "--task", small_task, "--model-path",
                     f"qwen2_5_vl_3b={tiny_vlm_dir}", "--limit", "1", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "failed" in result.output and "vLLM is not installed" in result.output


def test_family_table_matches_the_tiny_builders():
    assert set(tiny_families()) - {"qwen2_vl"} <= set(FAMILIES)
    assert not set(UNCHECKED_FAMILIES) & set(tiny_families())
    assert isinstance(load_cards()["qwen2_5_vl_7b"], Card)


# -- the vLLM path (tox -e vllm, on a CUDA GPU) -------------------------------------------------------------------
def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


@pytest.mark.vllm
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None or not _cuda(), reason="needs vLLM and a CUDA GPU")
def test_the_qwen2_5_vl_card_runs_on_vllm(small_task, tiny_vlm_dir, tmp_path):
    """The card's own path (vLLM, its engine arguments and adapter) on a local checkpoint of its architecture;
    results.json's timings give the throughput."""
    gpu = {"dtype": "float32", "gpu_memory_utilization": 0.3, "enforce_eager": "true", "max_model_len": 8192}
    options = [arg for key, value in gpu.items() for arg in ("--model-option", f"{key}={value}")]
    result = _invoke("run", "--zoo", "qwen2_5_vl_7b", "--task", small_task, "--model-path",
                     f"qwen2_5_vl_7b={tiny_vlm_dir}", "--max-new-tokens", "16", "--bootstrap", "10",
                     "--out", str(tmp_path), *options)
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / small_task / "zoo-qwen2_5_vl_7b" / "results.json").read_text())
    assert results["model"]["backend"] == "vllm" and results["model"]["zoo"]["card"] == "qwen2_5_vl_7b"
    assert results["requests"]["generated"] >= 4 and results["timings"]["model_s"] > 0


def test_the_readme_table_is_the_cards():
    from baselines.zoo.cards import markdown_table

    readme = (CARDS_DIR / "README.md").read_text()
    start = readme.index("<!-- zoo-table")
    table = readme[readme.index("\n", start) + 1:readme.index("<!-- /zoo-table -->")].strip()
    assert table == markdown_table(load_cards()), "regenerate it: harness zoo list --markdown"
    result = _invoke("list", "--markdown")
    assert result.output.strip() == table
