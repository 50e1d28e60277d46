"""The mini-experiment's own pieces: its view options, its curriculum and the per-slice ``slice`` stage."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mx():
    spec = importlib.util.spec_from_file_location("mini_experiment", ROOT / "examples" / "mini_experiment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_window_and_curriculum_options(mx):
    args = mx.parse_args(["--window", "70,200", "--n-axial", "8", "--image-size", "64"])
    views = mx.task_options(args)["views"]
    assert views == {"n_axial": 8, "image_size": 64, "reformats": False, "window": {"center": 70.0, "width": 200.0}}
    assert mx.curriculum("slice:30,slice+report:20,all:5") == [(("slice",), 30), (("slice", "report"), 20),
                                                               (None, 5)]


def test_slice_rows_are_balanced_and_name_what_the_slice_cuts(mx, harness_cache):
    from baselines.trainer.data import load_split, make_task
    from tasks.ct_tumor.evidence import NO_TUMOR

    args = mx.parse_args(["--train-cases", "6", "--n-axial", "8", "--image-size", "64"])
    task = make_task("ct_tumor", mx.task_options(args))
    split = load_split(task, "train")
    rows = mx.slice_rows(split, seed=0)
    assert rows == mx.slice_rows(split, seed=0)  # deterministic
    positives = [r for r in rows if r["completion"][0]["content"] != NO_TUMOR]
    assert positives and len(rows) - len(positives) <= len(positives)
    cases = {c.case_id: c for c in split.cases}
    for row in rows:
        assert row["kind"] == "slice" and len(row["images"]) == 1 and row["images"][0].size == (64, 64)
        content = row["prompt"][0]["content"]
        assert [p["type"] for p in content] == ["text", "image", "text"]
        k = int(content[0]["text"].removeprefix("Slice ").rstrip(":"))
        case = cases[row["case_id"]]
        z = task.slices_of(case)[k - 1]
        cut = [l for l in case.lesions if dict(map(tuple, case.meta["lesion_area_by_z"][str(l.label)])).get(z, 0)]
        answer = row["completion"][0]["content"]
        if answer == NO_TUMOR:
            assert not cut
        else:  # every tumor it cuts, each cut by at least SLICE_MIN_AREA pixels
            assert cut and all(dict(map(tuple, case.meta["lesion_area_by_z"][str(l.label)]))[z] >= mx.SLICE_MIN_AREA
                               for l in cut)


def test_vision_stage_pieces_match_the_model_and_the_truth(mx, harness_cache, tmp_path):
    """The ``vision`` stage feeds the processor's own patches, runs the tower's own numbers (batched), and its token
    targets name the tumor sites the label map shows."""
    import numpy as np
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from baselines.tiny_vlm import build_tiny_vlm
    from baselines.trainer.data import load_split, make_task

    args = mx.parse_args(["--train-cases", "4", "--n-axial", "8", "--image-size", "128"])
    task = make_task("ct_tumor", mx.task_options(args))
    split = load_split(task, "train")
    images, labels, owners, lesions = mx.vision_slices(task, split.cases, 2, seed=0)
    assert images.shape == labels.shape == (4 * 10, 128, 128) and images.dtype == np.uint8
    rendered = np.asarray(task.global_view(split.cases[0])[3].convert("L"))
    assert (images[3] == rendered).all()  # the pixels the model sees in the report
    site, kind, size = mx.vision_targets(labels, owners, lesions, 32)
    sites = mx.vision_sites()
    for b, t in zip(*np.nonzero(site > 0)):
        block = labels[b].reshape(4, 32, 4, 32).transpose(0, 2, 1, 3).reshape(16, -1)[t]
        finding = next(l.finding for l in split.cases[owners[b]].lesions if l.label in set(block.tolist()))
        assert sites[site[b, t] - 1][0] == finding.anatomy and size[b, t] > 0 and kind[b, t] > 0
    assert ((site == 0) | (site == -100) | (site > 0)).all() and (site > 0).any()

    ckpt = build_tiny_vlm(tmp_path / "mini", size="mini")
    processor = AutoProcessor.from_pretrained(ckpt)
    vis = AutoModelForImageTextToText.from_pretrained(ckpt).model.visual
    ref = processor.image_processor(images=[Image.fromarray(im).convert("RGB") for im in images[:3]],
                                    return_tensors="pt")
    patches = mx.pixel_patches(images[:3], vis.patch_size, vis.spatial_merge_size)
    assert torch.allclose(ref["pixel_values"], patches, atol=1e-5)
    with torch.no_grad():
        merged, _ = mx.vision_forward(vis, patches, 3, mx.vision_geometry(vis, 8, 8))
        direct = vis(patches, grid_thw=ref["image_grid_thw"]).pooler_output
    assert torch.allclose(merged.reshape(direct.shape), direct, atol=1e-5)


def test_scan_rows_name_the_slices_that_show_a_tumor(mx, harness_cache):
    from baselines.trainer.data import load_split, make_task

    args = mx.parse_args(["--train-cases", "6", "--n-axial", "8", "--image-size", "64"])
    task = make_task("ct_tumor", mx.task_options(args))
    split = load_split(task, "train")
    rows = mx.scan_rows(split, seed=0)
    assert rows == mx.scan_rows(split, seed=0) and len(rows) == len(split.cases)
    for row, case in zip(rows, split.cases):
        assert row["kind"] == "scan" and len(row["images"]) == 8
        assert row["prompt"][0]["content"][-1] == {"type": "text", "text": mx.SCAN_PROMPT}
        answer = row["completion"][0]["content"]
        shows = [k + 1 for k, z in enumerate(task.slices_of(case))
                 if any(dict(map(tuple, case.meta["lesion_area_by_z"][str(l.label)])).get(z, 0) >= mx.SLICE_MIN_AREA
                        for l in case.lesions)]
        assert answer == mx.SCAN_NONE if not shows else [int(n) for n in
                                                          __import__("re").findall(r"Slice (\d+):", answer)] == shows


def test_canonical_report_states_the_truth_in_one_wording(mx, harness_cache):
    """The ``creport`` stage's answers are read back by the task's reader as exactly the case's findings, in the
    task's answer form with the oracle's key slice; an all-normal case gets the one all-normal wording."""
    from baselines.trainer.data import load_split, make_task
    from harness.schema import Prediction
    from harness.scoring import score
    from tasks.ct_tumor.task import oracle_key_slice, parse_answer

    args = mx.parse_args(["--train-cases", "6", "--n-axial", "8", "--image-size", "64"])
    task = make_task("ct_tumor", mx.task_options(args))
    split = load_split(task, "train")
    rows = mx.creport_rows(split)
    assert [r["case_id"] for r in rows] == [c.case_id for c in split.cases] and all(r["kind"] == "report" for r in rows)
    preds = {}
    for row, case in zip(rows, split.cases):
        answer = row["completion"][0]["content"]
        parsed = parse_answer(answer, task.slices_of(case))
        assert not parsed.problems and parsed.fields["key_slice"] == oracle_key_slice(case, task.slices_of(case))
        assert answer.count("There is a") == len(case.lesions)
        assert parsed.report == mx.canonical_report(case)
        assert parsed.report.endswith("No evidence of tumor.") == (not case.lesions)
        preds[case.case_id] = {"report": Prediction(key=f"{case.case_id}/report", case_id=case.case_id,
                                                    kind="report", model_id="canonical", text=answer, latency_s=0.0)}
    values = {m.name: m.value for m in score(task, split.cases, preds, ("finding_f1", "hallucination"), n_boot=0).metrics}
    assert values["finding_f1"] == 1.0 and values["hallucination_rate"] == 0.0


def test_focus_weights_mark_what_the_scan_decides(mx, harness_cache, tmp_path):
    """``--focus-weight``: tumor sentences, sentence starts and the key slice get the weight, the all-normal
    wording does not; with weight 1 the focused loss is TRL's plain mean token cross-entropy."""
    import torch
    from transformers import AutoProcessor

    from baselines.tiny_vlm import build_tiny_vlm
    from baselines.trainer.data import make_task
    from harness.schema import Finding, Presence

    task = make_task("ct_tumor", mx.task_options(mx.parse_args([])))
    tok = AutoProcessor.from_pretrained(build_tiny_vlm(tmp_path / "tiny")).tokenizer
    fw = mx.FocusWeights.for_task(tok, task, 4.0)
    tumor = Finding(observation="mass", anatomy="liver", sub_location="right lobe", presence=Presence.PRESENT,
                    size_mm=27.0, attributes=frozenset({"hypodense"}))
    case = type("C", (), {"findings": (tumor,)})()
    answer = task.format_answer(mx.canonical_report(case), 7) + tok.eos_token
    ids = tok(answer, add_special_tokens=False)["input_ids"]
    w = fw(torch.tensor([[-100] + ids]))[0]
    heavy = "".join(tok.decode([i]) for i, x in zip(ids, w.tolist()) if x > 1)
    light = "".join(tok.decode([i]) for i, x in zip(ids, w.tolist()) if x == 1)
    assert "27" in heavy and "hypodense" in heavy and "7" in heavy and "focal lesion in the spleen" in light
    assert heavy.count("No") == 6  # the six normal organs' sentence starts
    normal = task.format_answer(mx.canonical_report(type("C", (), {"findings": ()})()), None) + tok.eos_token
    nw = fw(torch.tensor([[-100] + tok(normal, add_special_tokens=False)["input_ids"]]))[0]
    assert set(nw.tolist()) == {1.0, 4.0} and (nw == 1).sum() > (nw == 4).sum()

    # the trainer's loss with weight 1 is the mean token cross-entropy over the completion
    trainer = mx.focus_trainer(object)()
    trainer.focus = mx.FocusWeights(1.0, fw.normal_ids.tolist(), fw.start_ids.tolist())
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 11)
    labels = torch.tensor([[-100, -100, 3, 4, 5, 1], [-100, 2, 2, 7, -100, -100]])
    model = lambda **kw: type("O", (), {"logits": logits})()  # noqa: E731
    loss = trainer.compute_loss(model, {"labels": labels})
    ref = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 11), labels[:, 1:].reshape(-1))
    assert torch.allclose(loss, ref)


def test_attention_target_rewards_looking_at_the_tumor_tokens(mx):
    """``--attend-weight``: the attention loss is -log of the mass head 0 puts, from the positions that predict
    answer tokens, on the marked image tokens; rows without a mark are left out; the collator pads the masks."""
    import math

    import torch

    image = 9
    ids = torch.tensor([[1, image, image, image, image, 2, 3, 4], [1, image, image, image, image, 2, 3, 4]])
    labels = torch.tensor([[-100] * 5 + [-100, 3, 4], [-100] * 5 + [-100, 3, 4]])
    attend = torch.tensor([[0, 1, 0, 0], [0, 0, 0, 0]])
    uniform = torch.full((2, 2, 8, 8), 1 / 8)
    assert math.isclose(float(mx.attention_loss([uniform, uniform], ids, labels, attend, image)), -math.log(1 / 8),
                        rel_tol=1e-4)
    looking = uniform.clone()
    looking[0, 0, :, :] = 0
    looking[0, 0, :, 2] = 1  # head 0 of row 0 looks at its second image token, the marked one
    assert float(mx.attention_loss([looking], ids, labels, attend, image)) < 1e-5
    elsewhere = uniform.clone()
    elsewhere[0, 0, 5:7] = 0
    elsewhere[0, 0, 5:7, 3] = 1  # the answer positions look at an unmarked image token
    assert float(mx.attention_loss([elsewhere], ids, labels, attend, image)) > 10
    assert float(mx.attention_loss([uniform], ids, labels, torch.zeros_like(attend), image)) == 0.0

    collate = mx.AttendCollator(lambda examples: {"n": len(examples)})
    batch = collate([{"attend": [0, 1, 1]}, {"attend": []}, {"x": 1}])
    assert batch["n"] == 3 and batch["attend"].tolist() == [[0, 1, 1], [0, 0, 0], [0, 0, 0]]


def _eight_slice_split(mx, tmp_path, cases: int):
    """The training split of a small ct_tumor task (8 axial slices of 128 px: 8 x 16 merged image tokens) and the
    mini model's processor."""
    from transformers import AutoProcessor

    from baselines.tiny_vlm import build_tiny_vlm
    from baselines.trainer.data import load_split, make_task

    args = mx.parse_args(["--train-cases", str(cases), "--n-axial", "8", "--image-size", "128"])
    task = make_task("ct_tumor", mx.task_options(args))
    return task, load_split(task, "train"), AutoProcessor.from_pretrained(build_tiny_vlm(tmp_path / "m", size="mini"))


def test_tumor_tokens_mark_the_global_view_tokens_that_show_a_tumor(mx, harness_cache, tmp_path):
    """The attention target's marks: per case, the vision stage's tumor tokens of every global-view slice, in order;
    none on a slice that cuts no tumor."""
    import numpy as np

    task, split, processor = _eight_slice_split(mx, tmp_path, 4)
    masks = mx.tumor_tokens(task, split.cases, processor)
    for case in split.cases:
        mask = np.array(masks[case.case_id]).reshape(8, 16)  # 8 slices of 4 x 4 merged tokens
        _, labels, owners, lesions = mx.vision_slices(task, [case], 0, 0)
        assert (mask == (mx.vision_targets(labels, owners, lesions, 32)[0] > 0)).all()
        if not case.lesions:
            assert not mask.any()
        for k, z in enumerate(task.slices_of(case)):  # a slice has a marked token only if it cuts a tumor
            cut = max((dict(map(tuple, case.meta["lesion_area_by_z"][str(l.label)])).get(z, 0) for l in case.lesions),
                      default=0)
            assert cut >= mx.SLICE_MIN_AREA or not mask[k].any()
    assert any(any(m) for m in masks.values())


def test_key_tokens_mark_only_the_main_tumor_in_the_oracle_key_slice(mx, harness_cache, tmp_path):
    """``--key-attend-weight``'s marks: the key slice's tokens that show the main tumor, nothing on any other slice,
    nothing for a case without a key slice."""
    import numpy as np

    from tasks.ct_tumor.task import main_lesion_label, oracle_key_slice

    task, split, processor = _eight_slice_split(mx, tmp_path, 6)
    keys = mx.key_tokens(task, split.cases, processor)
    marked = 0
    for case in split.cases:
        mask = np.array(keys[case.case_id]).reshape(8, 16)
        key = oracle_key_slice(case, task.slices_of(case))
        if key is None:
            assert not mask.any()
            continue
        assert not np.delete(mask, key - 1, axis=0).any()
        _, labels, _, _ = mx.vision_slices(task, [case], 0, 0)
        main = main_lesion_label(case)
        for t in np.nonzero(mask[key - 1])[0]:  # each marked 32 px token holds a pixel of the main tumor
            y, x = divmod(int(t), 4)
            assert (labels[key - 1, 32 * y:32 * y + 32, 32 * x:32 * x + 32] == main).any()
        marked += int(mask.any())
    assert marked


def test_key_slice_queries_are_the_positions_that_predict_the_key_slice_number(mx, tmp_path):
    import torch
    from transformers import AutoProcessor

    from baselines.tiny_vlm import build_tiny_vlm

    tok = AutoProcessor.from_pretrained(build_tiny_vlm(tmp_path / "m", size="mini")).tokenizer
    prompt = tok("Report the scan.", add_special_tokens=False)["input_ids"]
    for answer, value in (("<report>A cyst.</report><key_slice>11</key_slice>", "11"),
                          ("<report>Normal.</report><key_slice>none</key_slice>", "none")):
        ids = tok(answer, add_special_tokens=False)["input_ids"]
        labels = torch.tensor([-100] * len(prompt) + ids)
        queries = mx.key_slice_queries(tok, labels)
        predicted = tok.decode([int(labels[q + 1]) for q in queries])
        assert value in predicted and "report" not in predicted
    assert mx.key_slice_queries(tok, torch.tensor([-100, -100] + tok("<report>x</report>")["input_ids"])) == []


def test_cached_vision_collator_gives_the_batches_and_loss_of_the_plain_path(mx, harness_cache, tmp_path):
    """``--vision-cache``: with the tower frozen, the batches built from each row's kept tokens and image embeddings
    equal TRL's own collation (tokens, masks, labels, grid), and the focus-weighted loss of the model on them is
    the loss with the pixels run through the tower, on the first use of a row and on every later one."""
    import torch
    from transformers import AutoModelForImageTextToText
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    from baselines.trainer.data import to_dataset

    task, split, processor = _eight_slice_split(mx, tmp_path, 4)
    model = AutoModelForImageTextToText.from_pretrained(tmp_path / "m").eval()
    rows = [{**row, "row_id": i} for i, row in enumerate(mx.creport_rows(split))]
    dataset = to_dataset(rows)
    base = DataCollatorForVisionLanguageModeling(processor=processor, completion_only_loss=True)
    cached = mx.CachedVisionCollator(base, mx.tower_encoder(model), processor.tokenizer.pad_token_id)
    trainer = mx.focus_trainer(object)()
    trainer.focus = mx.FocusWeights.for_task(processor.tokenizer, task, 5.0)
    plain_of = lambda idx: base([{k: v for k, v in dataset[i].items() if k != "row_id"} for i in idx])  # noqa: E731
    for idx in ([0, 1, 2], [3, 1], [2, 0, 3, 1]):  # rows seen for the first time, then again in other batches
        plain, batch = plain_of(idx), cached([dataset[i] for i in idx])
        assert "pixel_values" not in batch and batch["image_embeds"].shape[0] == batch["image_grid_thw"][:, 1:].prod(
            -1).sum() // 4
        for key in ("input_ids", "attention_mask", "labels", "image_grid_thw"):
            assert torch.equal(plain[key], batch[key]), key
        with torch.no_grad():
            ref = trainer.compute_loss(model, dict(plain))
            got = trainer.compute_loss(model, dict(batch))
        assert torch.allclose(ref, got, rtol=1e-5, atol=1e-6), (float(ref), float(got))
    assert sorted(cached.rows) == [0, 1, 2, 3]


def test_size_weight_marks_the_digits_of_a_size(mx, tmp_path):
    """``--size-weight``: the number before "mm" gets its own weight; a key-slice number and other digits do not."""
    import torch
    from transformers import AutoProcessor

    from baselines.tiny_vlm import build_tiny_vlm
    from baselines.trainer.data import make_task

    tok = AutoProcessor.from_pretrained(build_tiny_vlm(tmp_path / "m", size="mini")).tokenizer
    task = make_task("ct_tumor", mx.task_options(mx.parse_args([])))
    fw = mx.FocusWeights.for_task(tok, task, 5.0, size_weight=20.0)
    answer = "<report>There is a 134 mm cyst. There is a 27 mm mass in segment 4.</report><key_slice>11</key_slice>"
    ids = tok(answer, add_special_tokens=False)["input_ids"]
    w = fw(torch.tensor([[-100] + ids]))[0]
    sized = "".join(tok.decode([i]) for i, x in zip(ids, w.tolist()) if x == 20.0)
    assert sized.split() == ["134", "27"] or sized.replace(" ", "") == "13427"
    assert w.max() == 20.0 and (w == 5.0).any()
    same = mx.FocusWeights.for_task(tok, task, 5.0)(torch.tensor([[-100] + ids]))[0]
    assert torch.equal(torch.where(w == 20.0, 5.0, w), same)
