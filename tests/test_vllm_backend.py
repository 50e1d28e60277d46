"""The vLLM backend. Request building (options, engine arguments, chat messages, sampling parameters, the
data-parallel serve command) is pure and tested everywhere; the engine itself runs only where vLLM and a
CUDA GPU are (``tox -e vllm``), in the tests marked ``vllm``."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from harness.errors import HarnessError
from harness.models.vllm_backend import (ManagedServer, VLLMBackend, VLLMOptions, engine_kwargs,
                                         free_port, image_limit, mm_limits, sampling_kwargs, serve_command,
                                         to_vllm_messages)
from harness.schema import Case, Request, Sampling

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


needs_vllm_gpu = [pytest.mark.vllm,
                  pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed (tox -e vllm)"),
                  pytest.mark.skipif(not _cuda(), reason="no CUDA GPU")]


def _request(i: int, n_images: int) -> Request:
    rng = np.random.default_rng(i)
    images = [Image.fromarray(rng.integers(0, 255, (28 + 8 * k, 56, 3), dtype=np.uint8)) for k in range(n_images)]
    content = []
    for k in range(n_images):
        content += [{"type": "text", "text": f"Slice {k + 1}:"}, {"type": "image"}]
    content.append({"type": "text", "text": f"Describe case {i}."})
    case = Case(case_id=f"case{i}", task="ct_tumor", image_path=None, label_path=None, reference_report="",
                findings=())
    return Request(case=case, kind="report", messages=({"role": "user", "content": content},),
                   load_images=lambda: images)


# -- pure request building --------------------------------------------------------------------------------------
def test_chat_messages_carry_the_images_in_placeholder_order():
    request = _request(0, 3)
    images = request.load_images()
    messages = to_vllm_messages(({"role": "system", "content": "Be brief."},) + request.messages, images)
    assert messages[0] == {"role": "system", "content": "Be brief."}
    parts = messages[1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_pil"] * 3 + ["text"]
    assert [p["image_pil"] for p in parts if p["type"] == "image_pil"] == images  # the same objects, in order
    assert parts[-1] == {"type": "text", "text": "Describe case 0."}


def test_array_images_become_pil_and_unknown_parts_are_refused():
    array = np.zeros((8, 8, 3), dtype=np.uint8)
    messages = to_vllm_messages([{"role": "user", "content": [{"type": "image"}]}], [array])
    assert isinstance(messages[0]["content"][0]["image_pil"], Image.Image)
    with pytest.raises(HarnessError, match="part of type 'video' cannot be sent to vLLM"):
        to_vllm_messages([{"role": "user", "content": [{"type": "video"}]}], [])


def test_image_limit_comes_from_the_batch_or_the_option():
    requests = [_request(0, 2), _request(1, 5), _request(2, 0)]
    assert mm_limits(VLLMOptions(), requests) == {"image": 5}
    assert mm_limits(VLLMOptions(), [_request(0, 0)]) == {"image": 1}  # text-only prompts still fit one image
    assert mm_limits(VLLMOptions.parse({"limit_mm_per_prompt": "40"}), requests) == {"image": 40}
    as_dict = VLLMOptions.parse({"limit_mm_per_prompt": '{"image": 34, "video": 0}'})
    assert mm_limits(as_dict, requests) == {"image": 34, "video": 0}
    assert image_limit({"image": {"count": 7, "width": 512, "height": 512}}) == 7


def test_engine_arguments():
    options = VLLMOptions.parse({"tensor_parallel_size": "2", "max_pixels": 200704, "dtype": "bfloat16",
                                 "max_model_len": 8192, "mm_processor_kwargs": '{"min_pixels": 3136}'})
    kwargs = engine_kwargs("/models/qwen", options, {"image": 34})
    assert kwargs == {
        "model": "/models/qwen", "tensor_parallel_size": 2, "dtype": "bfloat16", "seed": 0,
        "trust_remote_code": False, "gpu_memory_utilization": 0.9, "enforce_eager": False,
        "limit_mm_per_prompt": {"image": 34}, "mm_processor_kwargs": {"min_pixels": 3136, "max_pixels": 200704},
        "max_model_len": 8192,
    }
    assert "mm_processor_kwargs" not in engine_kwargs("m", VLLMOptions(), {"image": 1})


def test_sampling_parameters_match_the_harness_sampling():
    assert sampling_kwargs(Sampling(max_new_tokens=64, seed=4)) == {
        "n": 1, "max_tokens": 64, "temperature": 0.0, "top_p": 1.0, "seed": 4, "skip_special_tokens": True}
    sampled = sampling_kwargs(Sampling(max_new_tokens=8, temperature=0.7, top_p=0.9, seed=1))
    assert (sampled["temperature"], sampled["top_p"], sampled["seed"]) == (0.7, 0.9, 1)


def test_data_parallel_uses_vllm_serve_with_the_same_settings(tmp_path):
    options = VLLMOptions.parse({"data_parallel_size": 4, "tensor_parallel_size": 2, "max_pixels": 50176,
                                 "trust_remote_code": "true"})
    template = tmp_path / "t.jinja"
    cmd = serve_command("/models/qwen", options, {"image": 34}, template, port=8123)
    assert cmd[:5] == [sys.executable, "-m", "vllm.entrypoints.cli.main", "serve", "/models/qwen"]
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags["--data-parallel-size"] == "4" and flags["--tensor-parallel-size"] == "2"
    assert json.loads(flags["--limit-mm-per-prompt"]) == {"image": 34}
    assert json.loads(flags["--mm-processor-kwargs"]) == {"max_pixels": 50176}
    assert flags["--chat-template"] == str(template) and flags["--host"] == "127.0.0.1"
    assert "--trust-remote-code" in cmd and "--enforce-eager" not in cmd


@pytest.mark.parametrize("options, message", [
    ({"dtype": "fp8"}, "dtype must be one of"),
    ({"tensor_parallel_size": 0}, "tensor_parallel_size must be a positive integer"),
    ({"limit_mm_per_prompt": "{oops"}, "limit_mm_per_prompt must be JSON"),
    ({"mm_processor_kwargs": "[1]"}, "mm_processor_kwargs must be a JSON object"),
    ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization must be in"),
    ({"tp": 2}, "unknown vllm backend option"),
])
def test_bad_options_are_harness_errors(options, message):
    with pytest.raises(HarnessError, match=message):
        VLLMOptions.parse(options)


# -- the backend without vLLM -------------------------------------------------------------------------------------
@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed")
def test_without_vllm_the_error_says_what_to_install(tiny_vlm_dir):
    with pytest.raises(HarnessError, match=r"^vLLM is not installed: pip install 'emrl-harness\[vllm\]'$"):
        VLLMBackend.from_spec(str(tiny_vlm_dir), {})
    backend = VLLMBackend(str(tiny_vlm_dir))  # built directly, it still refuses to generate
    with pytest.raises(HarnessError, match=r"^vLLM is not installed"):
        backend.generate([_request(0, 1)], Sampling(max_new_tokens=2))


def test_importing_the_backend_imports_neither_vllm_nor_torch():
    code = "import sys, harness.models.vllm_backend; print(sorted({'vllm', 'torch'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


def test_provenance_names_the_checkpoint_and_its_own_chat_template(tiny_vlm_dir):
    from harness.models.hf import TransformersBackend

    backend = VLLMBackend(str(tiny_vlm_dir))
    template = (tiny_vlm_dir / "chat_template.jinja").read_text()
    info = backend.info()
    assert info["chat_template_sha256"] == hashlib.sha256(template.encode()).hexdigest()[:16]
    hf_id = TransformersBackend(tiny_vlm_dir).model_id
    assert backend.model_id == "vllm:" + hf_id.removeprefix("hf:")  # same fingerprint, another engine
    capped = VLLMBackend(str(tiny_vlm_dir), VLLMOptions.parse({"dtype": "bfloat16", "max_pixels": 50176}))
    assert capped.model_id == backend.model_id + '+bfloat16+mm={"max_pixels":50176}'
    with pytest.raises(HarnessError, match="is not a checkpoint directory"):
        VLLMBackend("./no/such/dir")


def test_images_render_on_threads_and_keep_their_order(tiny_vlm_dir):
    backend = VLLMBackend(str(tiny_vlm_dir), VLLMOptions.parse({"render_threads": "4"}))
    requests = [_request(i, 1 + i % 3) for i in range(7)]
    conversations = backend._conversations(requests)
    for request, conversation in zip(requests, conversations):
        images = [p["image_pil"] for p in conversation[0]["content"] if p["type"] == "image_pil"]
        assert images == request.load_images()
        assert conversation[0]["content"][-1]["text"] == request.messages[0]["content"][-1]["text"]


def test_a_request_over_the_engine_image_limit_is_refused_with_the_option_to_set(tiny_vlm_dir):
    backend = VLLMBackend(str(tiny_vlm_dir))
    backend.limits, backend._llm = {"image": 2}, object()  # an engine started for the first batch's 2 images
    with pytest.raises(HarnessError, match="case1/report has 5 images .* image=2; pass --model-option "
                                           "limit_mm_per_prompt=5"):
        backend.generate([_request(0, 2), _request(1, 5)], Sampling(max_new_tokens=2))


# -- the managed server of the data-parallel mode -----------------------------------------------------------------
HEALTH_SERVER = textwrap.dedent("""
    import sys, time
    from http.server import BaseHTTPRequestHandler, HTTPServer
    time.sleep(float(sys.argv[2]))  # a model loading
    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404); self.end_headers()
        def log_message(self, *a): pass
    HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
""")


def test_managed_server_waits_for_health_and_stops_its_process_group():
    port = free_port()
    server = ManagedServer([sys.executable, "-c", HEALTH_SERVER, str(port), "0.5"],
                           f"http://127.0.0.1:{port}/health", what="test server", start_timeout_s=30).start()
    process = server.process
    assert process.poll() is None and server._healthy()
    server.stop()
    assert process.poll() is not None


def test_managed_server_that_dies_reports_its_last_words():
    code = "import sys; print('loading model'); print('CUDA error: no kernel image is available'); sys.exit(3)"
    server = ManagedServer([sys.executable, "-c", code], f"http://127.0.0.1:{free_port()}/health",
                           what="vllm serve /models/x", start_timeout_s=30)
    with pytest.raises(HarnessError, match=r"vllm serve /models/x exited with code 3 before it was ready: "
                                           r"CUDA error: no kernel image is available \(log: "):
        server.start()


def test_managed_server_that_never_gets_ready_times_out():
    port = free_port()
    server = ManagedServer([sys.executable, "-c", HEALTH_SERVER, str(port), "60"],
                           f"http://127.0.0.1:{port}/health", what="slow server", start_timeout_s=1.5)
    with pytest.raises(HarnessError, match="slow server was not ready after server_start_timeout_s=1.5"):
        server.start()
    assert server.process is None


# -- the real engine (tox -e vllm, on a CUDA GPU) -----------------------------------------------------------------
vllm_gpu = pytest.mark.skipif(not (HAS_VLLM and _cuda()), reason="needs vLLM and a CUDA GPU (tox -e vllm)")
GPU_OPTIONS = {"dtype": "float32", "gpu_memory_utilization": 0.3, "enforce_eager": True}


@pytest.fixture(scope="module")
def vllm_backend(tiny_vlm_dir):
    backend = VLLMBackend.from_spec(str(tiny_vlm_dir), {**GPU_OPTIONS, "limit_mm_per_prompt": 3})
    yield backend
    backend.close()


@pytest.mark.vllm
@vllm_gpu
def test_vllm_greedy_answers_do_not_depend_on_the_batch(vllm_backend):
    requests = [_request(i, 1 + i % 3) for i in range(6)]
    greedy = Sampling(max_new_tokens=12)
    one_by_one = [vllm_backend.generate([r], greedy)[0] for r in requests]
    assert vllm_backend.generate(requests, greedy) == one_by_one
    assert vllm_backend.generate(requests[:4], greedy) + vllm_backend.generate(requests[4:], greedy) == one_by_one
    assert len(set(one_by_one)) > 1
    info = vllm_backend.info()
    assert info["limit_mm_per_prompt"] == {"image": 3} and info["vllm_version"]


@pytest.mark.vllm
@vllm_gpu
def test_vllm_sampling_is_seeded(vllm_backend):
    requests = [_request(i, 1) for i in range(3)]
    sampled = Sampling(max_new_tokens=8, temperature=1.0, top_p=0.9, seed=7)
    assert vllm_backend.generate(requests, sampled) == vllm_backend.generate(requests, sampled)


@pytest.mark.vllm
@vllm_gpu
def test_harness_run_through_vllm(tiny_vlm_dir, tmp_path):
    from typer.testing import CliRunner

    from harness.cli import app

    options = [arg for key, value in GPU_OPTIONS.items() for arg in ("--model-option", f"{key}={value}")]
    result = CliRunner().invoke(app, ["run", "--model", f"vllm:{tiny_vlm_dir}", "--task", "ct_tumor", "--limit", "4",
                                      "--max-new-tokens", "16", "--bootstrap", "20", "--out", str(tmp_path / "run"),
                                      *options], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["model"]["backend"] == "vllm" and results["requests"]["generated"] >= 4
    assert results["model"]["limit_mm_per_prompt"]["image"] >= 3


@pytest.mark.vllm
@vllm_gpu
def test_vllm_data_parallel_replicas_answer_like_one_engine(tiny_vlm_dir):
    import torch

    if torch.cuda.device_count() < 2:
        pytest.skip("data parallel needs two GPUs")
    requests = [_request(i, 1 + i % 3) for i in range(6)]
    greedy = Sampling(max_new_tokens=12)
    single = VLLMBackend.from_spec(str(tiny_vlm_dir), {**GPU_OPTIONS, "limit_mm_per_prompt": 3})
    expected = single.generate(requests, greedy)
    single.close()
    replicas = VLLMBackend.from_spec(str(tiny_vlm_dir), {**GPU_OPTIONS, "limit_mm_per_prompt": 3,
                                                         "data_parallel_size": 2})
    try:
        assert replicas.generate(requests, greedy) == expected
    finally:
        replicas.close()
