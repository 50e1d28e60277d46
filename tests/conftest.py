"""Shared fixtures. Tests are hermetic: no network, caches in a per-session temporary directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run unless asked otherwise (HYPOTHESIS_PROFILE=explore), so a
# CI run cannot fail on an example no one has seen; exploring runs find new ones.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# transformers copies a checkpoint's remote code (the tiny M3D-LaMed replica's modeling file) into its modules
# cache when loading it: a directory of this run, not the user's ~/.cache/huggingface/modules. Set before
# transformers is imported, which reads it once.
os.environ["HF_MODULES_CACHE"] = tempfile.mkdtemp(prefix="emrl-hf-modules-")


@pytest.fixture(scope="session", autouse=True)
def harness_cache(tmp_path_factory) -> Path:
    """Synthetic sets are built once per test session, never in the user's cache."""
    path = tmp_path_factory.mktemp("harness-cache")
    old = os.environ.get("EMRL_HARNESS_CACHE")
    os.environ["EMRL_HARNESS_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("EMRL_HARNESS_CACHE", None)
    else:
        os.environ["EMRL_HARNESS_CACHE"] = old


@pytest.fixture(scope="session")
def ct_task():
    from tasks.ct_tumor.task import CTTumorTask

    return CTTumorTask()


@pytest.fixture(scope="session")
def ct_test_set(ct_task, harness_cache):
    return ct_task.load("test")


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory) -> Path:
    """A tiny random-weight Qwen2.5-VL checkpoint, built offline once per session (about a second)."""
    from baselines.tiny_vlm import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm") / "tiny_qwen2_5_vl", family="qwen2_5_vl", seed=0)
