"""Box conventions of model families, on the literal strings each family emits (its model card / processor code),
the zoo cards that declare them, and the grounding oracle through every one of them."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.evaluate import RunSpec, evaluate, make_task
from harness.metrics.grounding import iou
from tasks.cxr_grounding.box_families import FAMILIES, QwenResize
from tasks.cxr_grounding.boxes import FORMATS, BoxSettings, format_boxes, parse_boxes

SMALL = {"splits": {"test": {"n_images": 8}}}


# -- the literal answers --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, text, size, box", [
    # Qwen2.5-VL cookbook: absolute pixels of the resized image; 512 px is seen at 504 px (18 x 28)
    ("qwen2_5_vl", '```json\n[\n\t{"bbox_2d": [50, 100, 252, 302], "label": "nodule"}\n]\n```', (512, 512),
     (50 / 504, 100 / 504, 0.5, 302 / 504)),
    # Qwen3-VL: the same JSON on a 0-1000 relative grid (the example: not 0.977, 0.977, 1, 1)
    ("qwen3_vl", '[{"bbox_2d": [500, 500, 1000, 1000], "label": "nodule"}]', (512, 512), (0.5, 0.5, 1.0, 1.0)),
    # InternVL: "<ref>phrase</ref><box>[[x1, y1, x2, y2]]</box>" on 0-1000
    ("internvl", "<ref>nodule</ref><box>[[100, 200, 500, 600]]</box>", (512, 400), (0.1, 0.2, 0.5, 0.6)),
    # Florence-2 <CAPTION_TO_PHRASE_GROUNDING>: phrase then <loc_x1><loc_y1><loc_x2><loc_y2>, 1000 bins, centres
    ("florence2", "</s><s>nodule<loc_100><loc_200><loc_499><loc_599></s>", (512, 512),
     (0.1005, 0.2005, 0.4995, 0.5995)),
    # PaliGemma "detect": <locY1><locX1><locY2><locX2> label, 1024 bins, y first
    ("paligemma", "<loc0256><loc0128><loc0768><loc0512> nodule", (512, 512), (0.125, 0.25, 0.5, 0.75)),
    # MAIRA-2: <obj>phrase<box><xN><yN><xN><yN></box></obj>, 100 bins, centres
    ("maira2", "<obj>nodule<box><x10><y20><x49><y59></box></obj>", (512, 512), (0.105, 0.205, 0.495, 0.595)),
    ("norm1", "[0.1, 0.2, 0.5, 0.6]", (512, 512), (0.1, 0.2, 0.5, 0.6)),
])
def test_each_family_reads_its_own_literal_answer(fmt, text, size, box):
    p = parse_boxes(text, *size, BoxSettings(format=fmt))
    assert p.parsed and p.format == fmt and not p.problems
    assert p.boxes[0] == pytest.approx(box)


def test_family_syntax_is_recognised_whatever_was_asked():
    # InternVL's <box>[[...]]</box> used to go down the MAIRA-2 path and count as unparseable
    p = parse_boxes("<ref>effusions</ref><box>[[10, 500, 300, 800], [600, 500, 900, 800]]</box>", 100, 100)
    assert p.format == "internvl" and len(p.boxes) == 2 and p.boxes[1] == pytest.approx((0.6, 0.5, 0.9, 0.8))
    assert parse_boxes("<loc0000><loc0000><loc1023><loc1023> lung ; <loc0010><loc0010><loc0020><loc0020> x",
                       100, 100).format == "paligemma"
    assert parse_boxes("lung<loc_0><loc_0><loc_999><loc_999>", 100, 100).format == "florence2"


def test_bbox_2d_is_read_on_the_declared_qwen_grid():
    text = '[{"bbox_2d": [252, 252, 504, 504], "label": "x"}]'
    assert parse_boxes(text, 512, 512, BoxSettings(format="qwen2_5_vl")).boxes[0] == pytest.approx((.5, .5, 1, 1))
    assert parse_boxes(text, 512, 512, BoxSettings(format="qwen3_vl")).boxes[0] == pytest.approx(
        (0.252, 0.252, 0.504, 0.504))
    assert parse_boxes(text, 512, 512).format == "pixel"  # nothing declared: pixels of the shown image
    # a plain list from a declared family is on that family's grid
    assert parse_boxes("[100, 200, 500, 600]", 512, 512, BoxSettings(format="internvl")).boxes[0] == \
        pytest.approx((0.1, 0.2, 0.5, 0.6))


@pytest.mark.parametrize("size", [(512, 512), (512, 397), (2048, 1536), (3000, 2500), (40, 30), (1000, 60)])
@pytest.mark.parametrize("max_pixels", [12845056, 1003520, 200704])
def test_qwen_grid_is_the_processors_smart_resize(size, max_pixels):
    qwen2_vl = pytest.importorskip("transformers.models.qwen2_vl.image_processing_qwen2_vl")
    w, h = size
    theirs = qwen2_vl.smart_resize(h, w, factor=28, min_pixels=3136, max_pixels=max_pixels)
    assert QwenResize(max_pixels=max_pixels).grid(w, h) == (theirs[1], theirs[0])


def test_qwen2_5_vl_pixels_follow_the_card_pixel_cap():
    # a 2048 x 1536 image under the 7B card's max_pixels=1003520 is seen at 1148 x 840
    cfg = BoxSettings(format="qwen2_5_vl", qwen2_5_vl_resize={"max_pixels": 1003520})
    assert QwenResize(max_pixels=1003520).grid(2048, 1536) == (1148, 840)
    p = parse_boxes('{"bbox_2d": [287, 210, 574, 420]}', 2048, 1536, cfg)
    assert p.boxes[0] == pytest.approx((0.25, 0.25, 0.5, 0.5))


@pytest.mark.parametrize("text, problem", [
    ("<loc1500><loc0000><loc0100><loc0100> x", "bin outside 0..1023"),
    ("x<loc_1000><loc_0><loc_10><loc_10>", "bin outside 0..999"),
])
def test_family_bins_out_of_range_say_why(text, problem):
    p = parse_boxes(text, 100, 100)
    assert not p.parsed and any(problem in x for x in p.problems)


boxes_st = st.tuples(st.floats(0, 0.4), st.floats(0, 0.4), st.floats(0.6, 1), st.floats(0.6, 1))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(box=boxes_st, fmt=st.sampled_from(sorted(FAMILIES)),
       size=st.tuples(st.integers(512, 3000), st.integers(512, 3000)))
def test_every_family_round_trips_above_099_iou_from_512_px(box, fmt, size):
    p = _round_trip(box, fmt, size)
    assert p.format == fmt and iou(list(p.boxes), [box]) > 0.99


@settings(max_examples=40, deadline=None, derandomize=True)
@given(box=boxes_st, fmt=st.sampled_from(sorted(FAMILIES)),
       size=st.tuples(st.integers(256, 3000), st.integers(256, 3000)))
def test_every_family_round_trips_each_edge_within_half_a_percent_at_any_size(box, fmt, size):
    # below 512 px a Qwen2.5-VL grid pixel is ~0.4% of the image: an edge moves by at most that, IoU follows
    p = _round_trip(box, fmt, size)
    assert p.format == fmt and max(abs(a - b) for a, b in zip(p.boxes[0], box)) <= 0.005


def _round_trip(box, fmt, size):
    """The box written as the family writes it on an image of ``size``, and parsed back."""
    cfg = BoxSettings(format=fmt)
    return parse_boxes(format_boxes([box], *size, cfg, phrase="nodule"), *size, cfg)


# -- zoo cards declare their family's format ----------------------------------------------------------------
def test_every_card_declares_a_known_box_format():
    import yaml

    from baselines.zoo.cards import card_files

    for path in card_files():
        declared = yaml.safe_load(path.read_text())["box_format"]
        assert declared in FORMATS, path


@pytest.mark.parametrize("card, fmt", [("qwen2_5_vl_7b", "qwen2_5_vl"), ("qwen3_vl_8b", "qwen3_vl"),
                                       ("internvl3_8b", "internvl"), ("medgemma_4b", "norm1")])
def test_the_grounding_task_takes_the_cards_format_and_the_user_overrides_it(card, fmt):
    task = make_task(RunSpec(model=f"zoo:{card}", task="cxr_grounding"))
    assert task.boxes.format == fmt
    assert fmt in task.requests(task.load("test").cases[0], "grounding", {})[0].info["box_format"]
    user = make_task(RunSpec(model=f"zoo:{card}", task="cxr_grounding", task_options={"boxes": {"format": "pixel"}}))
    assert user.boxes.format == "pixel"


def test_the_qwen2_5_vl_card_passes_its_pixel_cap_to_the_box_grid():
    task = make_task(RunSpec(model="zoo:qwen2_5_vl_7b", task="cxr_grounding"))
    assert task.boxes.qwen2_5_vl_resize == QwenResize(max_pixels=1003520)
    overridden = make_task(RunSpec(model="zoo:qwen2_5_vl_7b", task="cxr_grounding",
                                   model_options={"options": {"max_pixels": 200704}}))
    assert overridden.boxes.qwen2_5_vl_resize.max_pixels == 200704
    assert make_task(RunSpec(model="zoo:qwen2_5_vl_7b", task="ct_tumor")).name == "ct_tumor"  # takes no boxes


def test_the_default_format_leaves_the_task_version_as_it_was():
    from tasks.cxr_grounding.task import CXRGroundingTask

    assert "qwen2_5_vl_resize" not in CXRGroundingTask().config()["boxes"]
    assert "qwen2_5_vl_resize" in CXRGroundingTask({"boxes": {"format": "qwen2_5_vl"}}).config()["boxes"]


# -- the oracle through every family ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", sorted(FAMILIES))
def test_oracle_through_every_family_format(tmp_path, fmt):
    spec = RunSpec(model="baseline:oracle", task="cxr_grounding", n_boot=20,
                   task_options={**SMALL, "boxes": {"format": fmt}})
    metrics = evaluate(spec, tmp_path / fmt).results["metrics"]
    # Every family writes integers (0-1000, bins, or pixels of Qwen2.5-VL's 504 px grid): half a pixel of a 512 px
    # image, nothing on large boxes (IoU > 0.99 in the round trip above) but 1-3% of IoU on nodules a few pixels
    # wide, as the plain norm1000 format in test_cxr_grounding.py
    assert metrics["unparseable"]["value"] == 0 and metrics["miou"]["value"] > 0.97
    assert metrics["acc_iou50"]["value"] == 1.0
