"""The OpenAI-compatible backend against real HTTP servers on 127.0.0.1: a scripted one (images, retries,
errors, concurrency) and one that serves the tiny transformers model (same greedy answers as transformers)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import HarnessError
from harness.models.chat_server import ChatCompletionsServer, decode_data_url
from harness.models.openai_compat import Endpoint, OpenAIBackend, OpenAIOptions
from harness.models.resolve import load_model
from harness.schema import Case, Request, Sampling

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05}
SAMPLING = Sampling(max_new_tokens=7, temperature=0.0, top_p=1.0, seed=3)


class Script:
    """What the scripted server answers, and what it saw."""

    def __init__(self):
        self.replies: list[tuple] = []  # (status, payload or None for an echo, headers, delay_s), popped in order
        self.delay_s = 0.0
        self.drop_connections = False  # close each connection after answering, without saying so
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0


def _echo(body: dict) -> dict:
    """A chat completion answering with the request's last text part, so that order can be checked."""
    text = next(p["text"] for p in reversed(body["messages"][-1]["content"]) if p["type"] == "text")
    return {"id": "x", "object": "chat.completion", "model": body["model"], "system_fingerprint": "fp-test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"echo {text}"}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2}}


def _handler(script: Script):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.bodies.append(body)
                script.headers.append(dict(self.headers))
                script.in_flight += 1
                script.max_in_flight = max(script.max_in_flight, script.in_flight)
                status, payload, headers, delay = script.replies.pop(0) if script.replies else (200, None, {}, 0)
            time.sleep(delay or script.delay_s)
            with script.lock:
                script.in_flight -= 1  # before answering: the client may send its next request at once
            data = json.dumps(_echo(body) if payload is None else payload).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = script.drop_connections

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that timed out closed its socket: expected
        pass


@pytest.fixture
def scripted():
    script = Script()
    server = QuietServer(("127.0.0.1", 0), _handler(script))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield script
    server.shutdown()
    server.server_close()


def _images(n: int, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 255, (20 + 4 * i, 30 + 2 * i, 3), dtype=np.uint8)) for i in range(n)]


def _request(i: int, n_images: int = 2, images=None) -> Request:
    images = _images(n_images, seed=i) if images is None else images
    content = []
    for k in range(n_images):
        content += [{"type": "text", "text": f"Slice {k + 1}:"}, {"type": "image"}]
    content.append({"type": "text", "text": f"question {i}"})
    case = Case(case_id=f"case{i}", task="ct_tumor", image_path=None, label_path=None, reference_report="",
                findings=())
    return Request(case=case, kind="report", messages=({"role": "system", "content": "Be brief."},
                                                       {"role": "user", "content": content}),
                   load_images=lambda: images)


def _backend(url: str, **options) -> OpenAIBackend:
    return OpenAIBackend.from_spec(f"{url}#tiny", {**FAST, **options})


def test_images_arrive_inline_in_order_with_the_sampling(scripted):
    images = _images(3, seed=5)
    backend = _backend(scripted.url, api_key="sk-test")
    assert backend.generate([_request(0, 3, images)], SAMPLING) == ["echo question 0"]
    body = scripted.bodies[0]
    assert body["model"] == "tiny"
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (0.0, 1.0, 7, 3)
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    parts = body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"] * 3 + ["text"]
    assert [p["text"] for p in parts if p["type"] == "text"] == ["Slice 1:", "Slice 2:", "Slice 3:", "question 0"]
    sent = [decode_data_url(p["image_url"]["url"]) for p in parts if p["type"] == "image_url"]
    assert all(p["image_url"]["url"].startswith("data:image/png;base64,") for p in parts if "image_url" in p)
    for original, received in zip(images, sent):  # PNG: lossless, and in placeholder order
        assert np.array_equal(np.asarray(original), np.asarray(received))
    assert scripted.headers[0]["Authorization"] == "Bearer sk-test"
    info = backend.info()
    assert info["served_model"] == "tiny" and info["system_fingerprint"] == "fp-test"
    assert info["usage"] == {"prompt_tokens": 10, "completion_tokens": 2, "requests": 1, "retries": 0}
    assert "sk-test" not in json.dumps(info)


def test_retries_after_a_429_and_a_500(scripted):
    scripted.replies = [(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.2"}, 0),
                        (500, {"error": {"message": "engine hiccup"}}, {}, 0)]
    backend = _backend(scripted.url, max_retries=3, max_backoff_s=1.0)
    start = time.perf_counter()
    assert backend.generate([_request(1)], SAMPLING) == ["echo question 1"]
    assert time.perf_counter() - start >= 0.2  # Retry-After is honoured over the (shorter) backoff
    assert len(scripted.bodies) == 3 and backend.info()["usage"]["retries"] == 2


def test_gives_up_after_max_retries_with_a_clear_error(scripted):
    scripted.replies = [(503, {"error": {"message": "overloaded"}}, {}, 0)] * 10
    backend = _backend(scripted.url, max_retries=2)
    with pytest.raises(HarnessError) as err:
        backend.generate([_request(2)], SAMPLING)
    message = str(err.value)
    assert f"{scripted.url}/chat/completions failed request case2/report 3 times (max_retries=2)" in message
    assert "last: HTTP 503: overloaded" in message and "\n" not in message
    assert len(scripted.bodies) == 3


def test_a_client_error_is_not_retried_and_names_url_and_status(scripted):
    scripted.replies = [(401, {"error": {"message": "Incorrect API key provided"}}, {}, 0)]
    with pytest.raises(HarnessError, match=r"/v1/chat/completions answered HTTP 401 to request case3/report: "
                                           r"Incorrect API key provided$"):
        _backend(scripted.url, max_retries=5).generate([_request(3)], SAMPLING)
    assert len(scripted.bodies) == 1


def test_a_timeout_is_retried(scripted):
    scripted.replies = [(200, None, {}, 1.0)]  # the first answer comes after the client gave up
    backend = _backend(scripted.url, timeout_s=0.3, max_retries=1)
    assert backend.generate([_request(4)], SAMPLING) == ["echo question 4"]
    assert len(scripted.bodies) == 2


def test_an_unreachable_server_is_retried_then_reported(scripted):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HarnessError, match=r"failed request case5/report 2 times .* ConnectionRefusedError"):
        _backend(f"http://127.0.0.1:{port}/v1", max_retries=1).generate([_request(5)], SAMPLING)


def test_a_connection_closed_while_idle_costs_no_retry(scripted):
    scripted.drop_connections = True  # HTTP/1.1 without "Connection: close": the client's socket goes stale
    backend = _backend(scripted.url, max_retries=0, concurrency=1)
    for i in range(3):
        assert backend.generate([_request(i)], SAMPLING) == [f"echo question {i}"]


def test_concurrency_is_bounded_and_answers_keep_request_order(scripted):
    scripted.delay_s = 0.15
    backend = _backend(scripted.url, concurrency=3)
    requests = [_request(i, n_images=1) for i in range(10)]
    assert backend.generate(requests, SAMPLING) == [f"echo question {i}" for i in range(10)]
    assert scripted.max_in_flight == 3
    backend.close()


def test_the_first_failure_stops_the_batch(scripted):
    scripted.replies = [(400, {"error": {"message": "context too long"}}, {}, 0)]
    backend = _backend(scripted.url, concurrency=1)
    with pytest.raises(HarnessError, match="HTTP 400 to request case0/report: context too long"):
        backend.generate([_request(i) for i in range(6)], SAMPLING)
    assert len(scripted.bodies) < 6  # requests not yet started were cancelled


def test_api_key_comes_from_the_option_or_the_environment(scripted, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    _backend(scripted.url).generate([_request(0)], SAMPLING)
    _backend(scripted.url, api_key="sk-option").generate([_request(0)], SAMPLING)
    monkeypatch.delenv("OPENAI_API_KEY")
    _backend(scripted.url).generate([_request(0)], SAMPLING)
    assert [h.get("Authorization") for h in scripted.headers] == ["Bearer sk-env", "Bearer sk-option", None]


def test_spec_resolves_through_the_registry_with_a_stable_model_id():
    model = load_model("openai:http://127.0.0.1:8000/v1#qwen", options={"concurrency": "4"})
    assert isinstance(model, OpenAIBackend)
    assert model.model_id == "openai:qwen@127.0.0.1:8000" and model.options.concurrency == 4
    assert model.endpoint.url == "http://127.0.0.1:8000/v1/chat/completions"
    full = Endpoint.parse("https://api.example.com/v1/chat/completions#gpt-x")
    assert (full.path, full.port, full.scheme) == ("/v1/chat/completions", None, "https")


@pytest.mark.parametrize("spec, message", [
    ("http://127.0.0.1:8000/v1", "must be URL#model_name"),
    ("http://127.0.0.1:8000/v1#", "must be URL#model_name"),
    ("ftp://host/v1#m", "is not an http\\(s\\) URL"),
    ("http://host:99999/v1#m", "invalid port"),
])
def test_bad_specs_are_one_line_errors(spec, message):
    with pytest.raises(HarnessError, match=message):
        OpenAIBackend.from_spec(spec, {})


@pytest.mark.parametrize("options, message", [
    ({"concurrency": 0}, "concurrency must be an integer >= 1"),
    ({"max_retries": "many"}, "max_retries must be an integer >= 0"),
    ({"timeout_s": -1}, "timeout_s must be a number"),
    ({"retries": 3}, "unknown openai backend option"),
])
def test_bad_options_are_harness_errors(options, message):
    with pytest.raises(HarnessError, match=message):
        OpenAIOptions.parse(options)


def test_placeholder_image_mismatch_is_a_harness_error(scripted):
    short = _request(0, n_images=2, images=_images(1))
    with pytest.raises(HarnessError, match="case0/report has 2 image placeholder"):
        _backend(scripted.url).generate([short], SAMPLING)
    assert scripted.bodies == []


def test_the_served_backend_rejects_an_unknown_model_at_once(tiny_vlm_dir):
    from harness.models.hf import TransformersBackend

    backend = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu"})
    with ChatCompletionsServer(backend, "tiny") as server:
        wrong = OpenAIBackend.from_spec(f"{server.url}#other", FAST)
        with pytest.raises(HarnessError, match="HTTP 404 .* model 'other' is not served here"):
            wrong.generate([_request(0)], SAMPLING)


@pytest.mark.slow
def test_harness_run_through_a_server_gives_the_transformers_answers(tiny_vlm_dir, tmp_path):
    """The done-when of the issue: `harness run --model openai:URL#tiny` on ct_tumor, same greedy answers."""
    from harness.models.hf import TransformersBackend

    cli = CliRunner()
    common = ["--task", "ct_tumor", "--limit", "6", "--max-new-tokens", "48", "--bootstrap", "20"]
    direct = cli.invoke(app, ["run", "--model", str(tiny_vlm_dir), "--model-option", "device=cpu",
                              "--out", str(tmp_path / "direct"), *common], catch_exceptions=False)
    assert direct.exit_code == 0, direct.output
    served = TransformersBackend.from_spec(str(tiny_vlm_dir), {"device": "cpu"})
    with ChatCompletionsServer(served, "tiny") as server:
        remote = cli.invoke(app, ["run", "--model", server.spec, "--out", str(tmp_path / "remote"), *common],
                            catch_exceptions=False)
    assert remote.exit_code == 0, remote.output

    def answers(run):
        rows = [json.loads(line) for line in (tmp_path / run / "predictions.jsonl").read_text().splitlines()]
        return {(r["case_id"], r["kind"]): r["text"] for r in rows}

    direct_answers, remote_answers = answers("direct"), answers("remote")
    assert len(direct_answers) >= 6 and remote_answers == direct_answers
    assert len(set(direct_answers.values())) > 1  # the answers really differ between cases
    results = json.loads((tmp_path / "remote" / "results.json").read_text())
    assert results["model"]["backend"] == "openai" and results["model"]["model_id"].startswith("openai:tiny@127.0.0.1:")
