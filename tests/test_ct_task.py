import pytest

from harness.errors import HarnessError
from harness.models.resolve import load_model
from harness.schema import Sampling
from tasks.ct_tumor.task import CTTumorTask, oracle_key_slice, parse_answer, sampled_slices

SLICES = sampled_slices(80, 32)


def test_well_formed_answer_parses():
    a = parse_answer("<report>Liver mass.</report><key_slice>7</key_slice>", SLICES)
    assert a.well_formed and a.report == "Liver mass."
    assert a.fields["key_slice"] == 7 and a.fields["key_slice_z"] == SLICES[6]


@pytest.mark.parametrize("text, problem", [
    ("Liver mass. Slice 7.", "no <report> tag"),
    ("<report>Liver mass.</report>", "no <key_slice> tag"),
    ("<report>x</report><key_slice>seven</key_slice>", "is not a number"),
    ("<report>x</report><key_slice>99</key_slice>", "out of range"),
    ("<report>x</report><key_slice>0</key_slice>", "out of range"),
])
def test_malformed_answers_are_scored_not_crashed_on(text, problem):
    a = parse_answer(text, SLICES)
    assert not a.well_formed and any(problem in p for p in a.problems)
    assert a.fields["key_slice"] is None


def test_untagged_answer_keeps_its_text_as_the_report():
    a = parse_answer("Liver mass <key_slice>3</key_slice>", SLICES)
    assert a.report == "Liver mass" and a.fields["key_slice"] == 3


def test_no_tumor_answer_says_none():
    a = parse_answer("<report>Normal.</report><key_slice>none</key_slice>", SLICES)
    assert a.well_formed and a.fields["key_slice_none"] and a.fields["key_slice"] is None


def test_oracle_key_slice_cuts_the_largest_lesion(ct_task, ct_test_set):
    for case in ct_test_set.cases[:30]:
        slices = ct_task.slices_of(case)
        k = oracle_key_slice(case, slices)
        if not case.lesions:
            assert k is None
            continue
        main = max(case.lesions, key=lambda l: (l.finding.size_mm, -l.label))
        z = slices[k - 1]
        assert main.z_range[0] <= z <= main.z_range[1]


def test_request_has_one_image_placeholder_per_view(ct_task, ct_test_set):
    case = ct_test_set.cases[0]
    (req,) = ct_task.requests(case, "report", {})
    placeholders = [p for p in req.messages[0]["content"] if p["type"] == "image"]
    images = req.load_images()
    assert len(placeholders) == len(images) == 32 + 2
    assert images[0].mode == "RGB" and max(images[0].size) == 128


def test_set_is_cached_and_content_hashed(ct_task, ct_test_set):
    again = ct_task.load("test")
    assert again.data_hash == ct_test_set.data_hash
    assert len(ct_test_set.cases) == 100
    assert len({c.case_id for c in ct_test_set.cases}) == 100


def test_unknown_task_setting_is_refused():
    with pytest.raises(HarnessError, match="no setting 'viewz'"):
        CTTumorTask({"viewz": {}})


def test_task_settings_change_the_version():
    assert CTTumorTask({"views": {"n_axial": 16}}).version != CTTumorTask().version


@pytest.mark.parametrize("name", ["oracle", "template", "hallucinator"])
def test_baselines_answer_in_the_task_format(name, ct_task, ct_test_set):
    model = load_model(f"baseline:{name}")
    model.bind(ct_task)
    reqs = [ct_task.requests(c, "report", {})[0] for c in ct_test_set.cases[:10]]
    for req, text in zip(reqs, model.generate(reqs, Sampling())):
        a = ct_task.parse(req.case, {"report": _pred(text)})
        assert a.well_formed, (name, text)


def test_hallucinator_differs_from_oracle_by_one_invented_tumor(ct_task, ct_test_set):
    oracle, hallu = load_model("baseline:oracle"), load_model("baseline:hallucinator")
    for m in (oracle, hallu):
        m.bind(ct_task)
    reqs = [ct_task.requests(c, "report", {})[0] for c in ct_test_set.cases[:20]]
    for o, h in zip(oracle.generate(reqs, Sampling()), hallu.generate(reqs, Sampling())):
        assert o != h
        o_sent = set(o.split(". "))
        h_sent = set(h.split(". "))
        assert len(h_sent - o_sent) >= 1 and len(h_sent - o_sent) <= 2


def _pred(text):
    from harness.schema import Prediction

    return Prediction(key="k", case_id="c", kind="report", model_id="m", text=text, latency_s=0.0)
