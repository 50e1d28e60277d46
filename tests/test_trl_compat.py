"""The trainer calls TRL's private GRPOTrainer._generate_single_turn: the pinned TRL range and the installed TRL's
signature are checked, and a TRL with another signature is refused in one line, not by a TypeError mid-training."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from baselines.trainer.trl_compat import SUPPORTED_TRL, check_trl_private_api, installed_trl
from harness.errors import HarnessError

ROOT = Path(__file__).resolve().parents[1]


def test_the_extras_pin_the_supported_trl_range():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in ("hf", "train"):
        assert f"trl{SUPPORTED_TRL}" in extras[extra], extra


def test_the_installed_trl_has_the_signature_the_trainer_calls():
    pytest.importorskip("trl")
    from packaging.specifiers import SpecifierSet

    assert installed_trl() in SpecifierSet(SUPPORTED_TRL), f"installed TRL {installed_trl()} is outside the pin"
    check_trl_private_api()  # the real GRPOTrainer


class _Tokenize:
    def _tokenize_prompts(self, prompts):
        return prompts


def test_an_older_trl_signature_is_refused_with_the_versions_that_work():
    class TRL_1_13(_Tokenize):  # noqa: N801 - 1.10 to 1.14.0: no num_generations
        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, has_tool_images=False):
            return prompt_ids

    with pytest.raises(HarnessError, match=r"_generate_single_turn\(self, prompt_ids, images, multimodal_fields, "
                                           r"has_tool_images\) is not the signature .* install trl>=1.14.1,<1.17"):
        check_trl_private_api(TRL_1_13)


def test_a_trl_without_the_private_methods_is_refused():
    with pytest.raises(HarnessError, match="GRPOTrainer has no _generate_single_turn"):
        check_trl_private_api(_Tokenize)


def test_the_policy_verifier_checks_the_trainer_it_binds():
    pytest.importorskip("torch")
    from baselines.trainer.rewards import PolicyVerifier

    class OldTrainer(_Tokenize):
        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, has_tool_images=False):
            return prompt_ids

    with pytest.raises(HarnessError, match="install trl"):
        PolicyVerifier().bind(OldTrainer())
