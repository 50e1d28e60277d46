"""vLLM's image limit comes from the task's largest request over all stages, not from the first batch: a run
killed after its reports resumes with the 3-image verification first, and the 34-image probes after it must
still fit the engine. The engine is a stub ``vllm`` module (no GPU); the backend, runner and task are real."""

from __future__ import annotations

import sys
import types

import pytest

from harness.models.vllm_backend import VLLMBackend, VLLMOptions, mm_limits
from harness.runner import PREDICTIONS, PredictionLog, predict
from harness.schema import Case, Request, Sampling
from tasks.ct_tumor.task import CTTumorTask

SAMPLING = Sampling(max_new_tokens=16)


class Killed(RuntimeError):
    """The stub's stand-in for a run killed mid-way."""


def _stub_vllm(engines: list[dict], kill_at_images: int | None) -> types.ModuleType:
    """A ``vllm`` module whose LLM records its engine arguments, refuses prompts over its image limit as vLLM does,
    and answers every report with a key slice (so that verification requests follow)."""
    module = types.ModuleType("vllm")

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    class LLM:
        def __init__(self, **kwargs):
            self.limit = kwargs["limit_mm_per_prompt"]["image"]
            engines.append(kwargs)

        def chat(self, conversations, params, **kwargs):
            outputs = []
            for conversation in conversations:
                n = sum(p["type"] == "image_pil" for m in conversation for p in m["content"])
                if n > self.limit:
                    raise ValueError(f"At most {self.limit} image(s) may be provided in one prompt")
                if n == kill_at_images:
                    raise Killed("killed")
                text = "<report>No focal lesion.</report><key_slice>16</key_slice>" if n > 3 else "No lesion."
                outputs.append(types.SimpleNamespace(outputs=[types.SimpleNamespace(text=text)]))
            return outputs

    module.LLM, module.SamplingParams = LLM, SamplingParams
    return module


def test_ct_tumor_declares_its_largest_request_over_all_stages():
    assert CTTumorTask().max_images_per_request() == 34  # 32 slices + 2 reformats (report, probes)
    assert CTTumorTask({"evidence": {"verify_context": "conversation"}}).max_images_per_request() == 37
    assert CTTumorTask({"views": {"reformats": False}}).max_images_per_request() == 32


def test_resume_after_the_reports_keeps_the_probes_within_the_engine_limit(tiny_vlm_dir, ct_test_set, tmp_path,
                                                                          monkeypatch):
    task = CTTumorTask()
    cases = ct_test_set.cases[:3]
    engines: list[dict] = []

    # first run: the reports are answered and logged, then the run dies at the first verification
    monkeypatch.setitem(sys.modules, "vllm", _stub_vllm(engines, kill_at_images=3))
    first = VLLMBackend(str(tiny_vlm_dir))
    with pytest.raises(Killed):
        predict(task, cases, first, SAMPLING, tmp_path, batch_size=8)
    logged = PredictionLog(tmp_path / PREDICTIONS).by_key.values()
    assert {p.kind for p in logged} == {"report"} and len(logged) == 3

    # the resumed run's first batch is the 3-image verification; the engine is still sized for 34 images
    monkeypatch.setitem(sys.modules, "vllm", _stub_vllm(engines, kill_at_images=None))
    second = VLLMBackend(str(tiny_vlm_dir))
    per_case, stats = predict(task, cases, second, SAMPLING, tmp_path, batch_size=8)
    assert engines[-1]["limit_mm_per_prompt"] == {"image": 34}
    assert second.info()["limit_mm_per_prompt"] == {"image": 34}
    assert stats.cached == 3 and stats.by_stage == {"verify": 3, "probe": 3}
    assert all(set(kinds) == {"report", "verify", "probe"} for kinds in per_case.values())


def test_the_first_batch_alone_would_have_sized_the_engine_too_small(tiny_vlm_dir):
    task = CTTumorTask()
    # what the engine was sized by before: the first batch (on resume, the verification's three planes)
    case = Case(case_id="c", task="ct_tumor", image_path=None, label_path=None, reference_report="", findings=())
    three = Request(case=case, kind="verify", messages=({"role": "user", "content": [{"type": "image"}] * 3},))
    assert mm_limits(VLLMOptions(), [three]) == {"image": 3}
    assert mm_limits(VLLMOptions(), [three], task.max_images_per_request()) == {"image": 34}
    assert mm_limits(VLLMOptions(limit_mm_per_prompt=40), [three], 34) == {"image": 40}  # the option still wins
    backend = VLLMBackend(str(tiny_vlm_dir))
    backend.bind(task)
    assert backend.task_images == 34
