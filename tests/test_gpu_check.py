"""benchmarks/gpu_check.sh (issue 18): the dry run on CPU writes the JSON with every part's figures, numbers where
the part ran and "not run: <reason>" where it could not; without a GPU every GPU part says so."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"

spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_check)


def _run(tmp_path: Path, *args: str) -> tuple[dict, str]:
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "PYTHON": sys.executable, "EMRL_HARNESS_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(["bash", str(SCRIPT), *args, "--out", str(out), "--work", str(tmp_path / "work")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text()), proc.stdout


def _all_not_run(part: dict, figures, reason: str) -> None:
    assert part["status"].startswith(f"not run: {reason}"), part["status"]
    for figure in figures:
        assert isinstance(part[figure], str) and part[figure].startswith("not run: "), (figure, part[figure])


def _same_schema(report: dict) -> None:
    assert report["schema"] == gpu_check.SCHEMA
    assert set(report) >= {"mode", "vllm_tests", "throughput", "grpo_vllm", "goals", "machine", "wall_s"}
    assert set(report["vllm_tests"]) >= {"status", *gpu_check.TEST_FIGURES}
    for name in ("vllm", "transformers"):
        assert set(report["throughput"][name]) >= {"status", *gpu_check.THROUGHPUT_FIGURES}
    assert set(report["grpo_vllm"]) >= {"status", *gpu_check.GRPO_FIGURES}
    assert set(report["goals"]) == {"vllm_at_least_10x_transformers", "vllm_overhead_under_5pct",
                                    "transformers_overhead_under_5pct"}


@pytest.mark.slow
def test_dry_run_measures_the_transformers_backend_and_records_the_rest_as_not_run(tmp_path):
    report, printed = _run(tmp_path, "--dry-run")
    _same_schema(report)
    assert report["mode"] == "dry-run"
    _all_not_run(report["vllm_tests"], gpu_check.TEST_FIGURES, "dry run")
    _all_not_run(report["throughput"]["vllm"], gpu_check.THROUGHPUT_FIGURES, "dry run")
    _all_not_run(report["grpo_vllm"], gpu_check.GRPO_FIGURES, "dry run")
    model = report["throughput"]["model"]
    assert model["vocab_size"] == 151936 and model["random_weights"]  # the 3B builder, shrunk
    hf = report["throughput"]["transformers"]
    assert hf["status"] == "ok" and hf["cases"] == 2 and hf["requests"] >= 2
    for figure in gpu_check.THROUGHPUT_FIGURES:
        assert isinstance(hf[figure], (int, float)), (figure, hf[figure])
    assert hf["cases_per_s"] > 0 and 0 <= hf["overhead"] <= 1 and hf["generate_s"] <= hf["total_s"]
    speedup = report["throughput"]["vllm_speedup"]
    assert speedup.startswith("not run: dry run") and "not run: not run" not in speedup
    assert report["goals"]["vllm_at_least_10x_transformers"]["met"] is None
    assert report["goals"]["transformers_overhead_under_5pct"]["value"] == hf["overhead"]
    assert "transformers" in printed and "cases/s" in printed
    assert report["logs"] is None and not (tmp_path / "gpu_check_logs").exists()  # nothing failed


def test_without_a_gpu_every_gpu_part_says_so(tmp_path):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here: the real check would run")
    report, printed = _run(tmp_path)
    _same_schema(report)
    assert report["mode"] == "gpu"
    _all_not_run(report["vllm_tests"], gpu_check.TEST_FIGURES, "no CUDA GPU")
    _all_not_run(report["throughput"]["transformers"], gpu_check.THROUGHPUT_FIGURES, "no CUDA GPU")
    _all_not_run(report["throughput"]["vllm"], gpu_check.THROUGHPUT_FIGURES, "")
    _all_not_run(report["grpo_vllm"], gpu_check.GRPO_FIGURES, "no CUDA GPU")
    assert report["throughput"]["vllm_speedup"].startswith("not run: ")
    assert "not run: no CUDA GPU" in printed


def test_the_vllm_tests_are_the_ones_tox_runs():
    assert gpu_check.vllm_test_files() == ["tests/test_vllm_backend.py", "tests/test_openai_backend.py",
                                           "tests/test_zoo.py"]


def test_pytest_summary_is_parsed():
    output = ("SKIPPED [3] tests/test_vllm_backend.py:40: no CUDA GPU\n"
              "SKIPPED [1] tests/test_zoo.py:12: vLLM is not installed (tox -e vllm)\n"
              "=== 41 passed, 4 skipped, 1 failed, 2 errors in 12.3s ===\n")
    parsed = gpu_check.parse_pytest(output)
    assert parsed == {"passed": 41, "failed": 1, "skipped": 4, "errors": 2,
                      "skip_reasons": ["no CUDA GPU", "vLLM is not installed (tox -e vllm)"]}


def test_the_extended_tokenizer_decodes_every_id_and_encodes_as_before():
    pytest.importorskip("tokenizers")
    from baselines.tiny_vlm import build_tokenizer

    tokenizer = gpu_check.extended_tokenizer(5000)
    assert len(tokenizer) == 5000
    assert all(tokenizer.decode([i]) for i in (1024, 2500, 4999))
    text = "<report>Hypodense lesion in the liver, 23 mm.</report><key_slice>7</key_slice>"
    assert tokenizer(text)["input_ids"] == build_tokenizer()(text)["input_ids"]


def test_vllm_output_length_is_fixed_without_vllm(monkeypatch):
    from harness.models import vllm_backend
    from harness.schema import Sampling

    monkeypatch.setattr(vllm_backend, "sampling_kwargs", vllm_backend.sampling_kwargs)  # restored afterwards
    backend = vllm_backend.VLLMBackend.__new__(vllm_backend.VLLMBackend)  # no engine: vLLM need not be installed
    gpu_check.fix_output_length(backend)
    gpu_check.fix_output_length(backend)  # a second backend in the same process does not wrap it twice
    kwargs = vllm_backend.sampling_kwargs(Sampling(max_new_tokens=7))
    assert kwargs["ignore_eos"] is True and kwargs["min_tokens"] == kwargs["max_tokens"] == 7
    assert kwargs["temperature"] == 0.0


@pytest.mark.slow
def test_the_grpo_worker_trains_and_reports_its_steps(tmp_path):
    """The GRPO part's worker, on CPU with TRL's own generation instead of vLLM (the only settings changed)."""
    pytest.importorskip("trl")
    pytest.importorskip("datasets")
    result = gpu_check.worker_grpo({
        "steps": 2, "work": str(tmp_path), "cache_dir": str(tmp_path / "cache"), "vllm_gpu_memory_utilization": 0.2,
        "trl_overrides": {"use_vllm": False, "bf16": False, "use_cpu": True, "max_completion_length": 8,
                          "per_device_train_batch_size": 4, "num_generations": 2}})
    assert result["status"] == "ok" and result["steps"] == 2
    for figure in gpu_check.GRPO_FIGURES:
        assert isinstance(result[figure], (int, float)) and result[figure] > 0, figure
    assert "reward" in result["final_log"] and result["versions"]["trl"]
