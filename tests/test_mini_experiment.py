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
