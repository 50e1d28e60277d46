"""The run asks a backend's declared capabilities, never its name: --batch-size auto reaches the backends that size
their own batches (ModelBackend.sizes_own_batches) and no other."""

from __future__ import annotations

import pytest

from harness.evaluate import RunSpec, evaluate
from harness.models.base import ModelBackend
from harness.models.hf import TransformersBackend
from harness.registry import MODELS

REPORT_ONLY = {"evidence": {"verify": False, "probes": False}}


def _backend(sizes: bool) -> type[ModelBackend]:
    class Recording(ModelBackend):
        model_id = "test:capabilities"
        sizes_own_batches = sizes
        options: dict = {}

        @classmethod
        def from_spec(cls, spec, options):
            cls.options = dict(options)
            return cls()

        def generate(self, requests, sampling):
            return ["<report>No tumor.</report><key_slice>1</key_slice>"] * len(requests)

    return Recording


@pytest.mark.parametrize("sizes, given", [(True, {"batch_size": "auto"}), (False, {})])
def test_batch_size_auto_reaches_only_a_backend_that_sizes_its_batches(tmp_path, ct_test_set, sizes, given):
    backend = _backend(sizes)
    MODELS.register("recording", backend)
    try:
        evaluate(RunSpec(model="recording:x", task="ct_tumor", limit=2, batch_size="auto", n_boot=0,
                         metrics=("format",), task_options=REPORT_ONLY), tmp_path / "run")
    finally:
        MODELS.unregister("recording")
    assert backend.options == given


def test_the_transformers_backend_declares_it():
    assert TransformersBackend.sizes_own_batches and not ModelBackend.sizes_own_batches
