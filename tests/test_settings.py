"""The command line's KEY=VALUE options, their nesting, task settings checked by name, and image placeholders."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.schema import Case, Request, count_parts
from harness.settings import merge_settings, nest, parse_options


def test_parse_options_reads_json_values_and_keeps_other_text():
    got = parse_options(["a=1", "b=true", "c=x", "d=", "e=[1, 2]", "f=a=b"], "--task-option")
    assert got == {"a": 1, "b": True, "c": "x", "d": "", "e": [1, 2], "f": "a=b"}
    assert parse_options(["p=1"], "--model-path", json_values=False) == {"p": "1"}


@pytest.mark.parametrize("pair", ["novalue", "=1"])
def test_parse_options_refuses_what_is_not_key_value(pair):
    with pytest.raises(HarnessError, match=f"--task-option '{pair}' is not KEY=VALUE"):
        parse_options([pair], "--task-option")


def test_parse_options_can_refuse_an_empty_value():
    with pytest.raises(HarnessError, match="--model-path 'card=' is not KEY=VALUE"):
        parse_options(["card="], "--model-path", allow_empty=False)


def test_nest_makes_dotted_keys_groups():
    assert nest({"views.n_axial": 16, "views.window.level": 40, "seed": 1}) == {
        "views": {"n_axial": 16, "window": {"level": 40}}, "seed": 1}


@pytest.mark.parametrize("task", ["ct_tumor", "cxr_report", "cxr_grounding"])
def test_a_misspelt_nested_task_option_is_refused_naming_it_and_the_known_keys(task):
    from harness.registry import TASKS

    with pytest.raises(HarnessError) as info:
        TASKS.get(task)(nest(parse_options(["views.n_axil=16"], "--task-option")))
    message = str(info.value)
    assert "\n" not in message
    assert f"{task} has no setting 'views.n_axil'" in message
    assert "views.image_size" in message  # the known keys of the group are listed


def test_merge_settings_keeps_defaults_it_is_not_given():
    defaults = {"views": {"n_axial": 8, "image_size": 256}, "name": "x"}
    assert merge_settings("t", defaults, {"views": {"n_axial": 16}}) == {
        "views": {"n_axial": 16, "image_size": 256}, "name": "x"}


def _request(n_parts: int, images: list) -> Request:
    case = Case(case_id="c1", task="t", image_path=None, label_path=None, reference_report="", findings=())
    content = [{"type": "image"}] * n_parts + [{"type": "text", "text": "describe"}]
    return Request(case=case, kind="report", messages=({"role": "user", "content": content},),
                   load_images=lambda: list(images))


def test_checked_images_match_the_placeholders():
    request = _request(2, ["a", "b"])
    assert count_parts(request.messages, "image") == 2 and request.checked_images() == ["a", "b"]
    assert _request(0, ["never loaded"]).checked_images() == []
    with pytest.raises(HarnessError, match=r"request c1/report has 2 image placeholder\(s\) but load_images\(\) "
                                           r"gave 1"):
        _request(2, ["a"]).checked_images()


@pytest.mark.parametrize("task", ["ct_tumor", "cxr_report", "cxr_grounding"])
def test_every_task_reads_its_packaged_config_through_the_base_task(task):
    from harness.registry import TASKS
    from harness.settings import packaged_settings

    defaults = packaged_settings(f"tasks.{task}")
    seed = defaults["splits"]["test"]["seed"]
    t = TASKS.get(task)({"splits": {"test": {"seed": seed + 5}}})
    assert t.cfg["splits"]["test"]["seed"] == seed + 5 and t.cfg["version"] == defaults["version"]
    assert packaged_settings(f"tasks.{task}")["splits"]["test"]["seed"] == seed  # the defaults stay as shipped
    assert t.split_spec("test") == t.cfg["splits"]["test"]
    with pytest.raises(HarnessError, match=f"{task} has no split 'tset' \\(splits: "):
        t.split_spec("tset")


def test_plain_messages_are_fresh_copies():
    from harness.schema import plain_messages

    part = {"type": "text", "text": "x"}
    messages = ({"role": "system", "content": "s"}, {"role": "user", "content": (part,)})
    plain = plain_messages(messages)
    assert plain == [{"role": "system", "content": "s"}, {"role": "user", "content": [part]}]
    plain[1]["content"][0]["text"] = "changed"
    assert part["text"] == "x" and isinstance(plain[1]["content"], list)


# -- a backend's options ------------------------------------------------------------------------------------------
def test_backend_options_are_checked_by_one_set_of_helpers():
    from dataclasses import dataclass

    from harness.settings import as_bool, option_record, positive_int

    @dataclass(frozen=True)
    class Opts:
        size: int = 1
        flag: bool = False

    assert option_record(Opts, {"size": "3"}, "test backend") == Opts(size="3")
    with pytest.raises(HarnessError, match=r"unknown test backend option\(s\) colour; known: size, flag"):
        option_record(Opts, {"colour": 1}, "test backend")
    assert positive_int("size", "4") == 4 and as_bool("flag", "yes") is True and as_bool("flag", "off") is False
    with pytest.raises(HarnessError, match="batch_size must be a positive integer or auto, not 'x'"):
        positive_int("batch_size", "x", " or auto")
    with pytest.raises(HarnessError, match="size must be a positive integer, not 2.5"):
        positive_int("size", 2.5)
    with pytest.raises(HarnessError, match="flag must be true or false, not 'maybe'"):
        as_bool("flag", "maybe")


def _write_nothing(job):
    split, index, seed, config, directory = job
    return {"case_id": f"{split}-{index}", "seed": seed}


def test_a_phantom_set_is_named_by_what_makes_its_pixels(tmp_path):
    from dataclasses import asdict, dataclass

    from harness.schema import stable_hash
    from harness.synthetic import build_phantom_set

    @dataclass(frozen=True)
    class Config:
        size: int = 8

        def to_dict(self):
            return asdict(self)

    directory = build_phantom_set(tmp_path, "toy", "g1", _write_nothing, "test", 2, 7, Config(), workers=1)
    expected = stable_hash({"generator": "g1", "split": "test", "n": 2, "seed": 7, "phantom": {"size": 8}}, 12)
    assert directory == tmp_path / f"toy-test-{expected}"
    assert [json.loads(l)["seed"] for l in (directory / "cases.jsonl").read_text().splitlines()] == [7, 8]
