"""Shared fixtures. Tests are hermetic: no network, caches in a per-session temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
