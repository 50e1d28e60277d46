"""The whole E-MRL protocol (global report, verification views, probes of all three styles) through the
transformers backend on the tiny locally built Qwen2.5-VL, on CPU."""

from harness.evaluate import RunSpec, evaluate
from harness.models.hf import TransformersBackend
from harness.schema import Prediction, Sampling
from harness.scoring import score

SAMPLING = Sampling(max_new_tokens=8)


def test_every_protocol_step_runs_through_the_transformers_backend(tiny_vlm_dir, ct_task, ct_test_set):
    backend = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu", "batch_size": 4})
    tumor_cases = [c for c in ct_test_set.cases if c.lesions]
    case = tumor_cases[0]
    (report_req,) = ct_task.requests(case, "report", {})
    # The verification step needs a named key slice: take the oracle's, so the step runs whatever the model says.
    oracle_report = Prediction("k", case.case_id, "report", "oracle", ct_task.reference_answer(report_req), 0.0)
    (verify_req,) = ct_task.requests(case, "verify", {"report": oracle_report})
    assert len(verify_req.load_images()) == 3
    probe_reqs, styles = [], set()
    for c in ct_test_set.cases:
        (req,) = ct_task.requests(c, "probe", {})
        if req.info["probe"].style not in styles:
            styles.add(req.info["probe"].style)
            probe_reqs.append(req)
        if len(styles) == 3:
            break
    requests = [report_req, verify_req, *probe_reqs]
    texts = backend.generate(requests, SAMPLING)
    assert len(texts) == 5 and all(isinstance(t, str) for t in texts)
    assert backend.info()["chat_template_sha256"]

    preds = {case.case_id: {"report": Prediction("r", case.case_id, "report", backend.model_id, texts[0], 0.0),
                            "verify": Prediction("v", case.case_id, "verify", backend.model_id, texts[1], 0.0)}}
    for req, text in zip(probe_reqs, texts[2:]):
        preds.setdefault(req.case.case_id, {})["probe"] = Prediction("p", req.case.case_id, "probe",
                                                                     backend.model_id, text, 0.0)
    cases = [case] + [r.case for r in probe_reqs if r.case.case_id != case.case_id]
    scores = score(ct_task, cases, preds, ct_task.default_metrics, n_boot=10)
    statuses = {m.name: m.status for m in scores.metrics}
    assert statuses["bleu4"] == "ok" and statuses["key_slice_missing"] == "ok"
    assert all(isinstance(s["answer"]["problems"], list) for s in scores.samples)


def test_harness_run_with_the_tiny_checkpoint_end_to_end(tiny_vlm_dir, tmp_path):
    spec = RunSpec(model=str(tiny_vlm_dir), task="ct_tumor", limit=2, n_boot=10, sampling=SAMPLING,
                   model_options={"device": "cpu"})
    first = evaluate(spec, tmp_path / "run")
    assert first.results["model"]["backend"] == "transformers"
    assert first.results["requests"]["generated"] >= 4  # 2 reports + 2 probes (+ verifications if it named slices)
    again = evaluate(spec, tmp_path / "run")
    assert again.results["requests"]["generated"] == 0
    assert again.results["metrics"]["bleu4"]["value"] == first.results["metrics"]["bleu4"]["value"]


def test_verification_as_a_second_turn_of_the_report_conversation(tiny_vlm_dir, ct_test_set):
    """evidence.verify_context=conversation: the model's own report is in context, images of both turns in order."""
    from tasks.ct_tumor.task import CTTumorTask

    task = CTTumorTask({"evidence": {"verify_context": "conversation"}})
    case = next(c for c in ct_test_set.cases if c.lesions)
    (report_req,) = task.requests(case, "report", {})
    report = Prediction("k", case.case_id, "report", "oracle", task.reference_answer(report_req), 0.0)
    (req,) = task.requests(case, "verify", {"report": report})
    assert [m["role"] for m in req.messages] == ["user", "assistant", "user"]
    placeholders = sum(1 for m in req.messages if isinstance(m["content"], list)
                       for p in m["content"] if p["type"] == "image")
    assert placeholders == len(req.load_images()) == 34 + 3
    backend = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu"})
    (text,) = backend.generate([req], SAMPLING)
    assert isinstance(text, str)
    assert task.version != CTTumorTask().version
