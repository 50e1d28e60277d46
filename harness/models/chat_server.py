"""A chat-completions server for any model backend: the other side of the openai backend's protocol.

:class:`ChatCompletionsServer` serves a :class:`~harness.models.base.ModelBackend` at ``/v1/chat/completions``,
so the openai client is tested end to end against a real model on 127.0.0.1 and a local checkpoint can be
benchmarked through the HTTP path. It implements the subset of the API the client uses, not the whole API; it
is kept apart from the client so that the backend a run loads holds no server.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import queue
import threading
import time
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping

from harness.models.base import ModelBackend
from harness.schema import Case, Request, Sampling


def decode_data_url(url: str) -> Any:
    """A base64 image data URL -> PIL image (the server side of :func:`harness.models.openai_compat.image_data_url`)."""
    from PIL import Image

    head, sep, payload = url.partition(",")
    if not sep or not head.startswith("data:image/") or not head.endswith(";base64"):
        raise ValueError(f"not a base64 image data URL: {url[:40]}")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(payload, validate=True)))
        image.load()
    except (binascii.Error, OSError) as exc:
        raise ValueError(f"image data URL does not hold an image: {exc}") from None
    return image


def from_openai_messages(messages: Any) -> tuple[tuple[dict[str, Any], ...], list[Any]]:
    """OpenAI messages -> harness messages with ``{"type": "image"}`` placeholders, and the decoded images."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("'messages' must be a non-empty list")
    out, images = [], []
    for message in messages:
        if not isinstance(message, Mapping) or "role" not in message or "content" not in message:
            raise ValueError("every message needs a role and a content")
        content = message["content"]
        if isinstance(content, str):
            out.append({"role": message["role"], "content": content})
            continue
        parts = []
        for part in content:
            if part.get("type") == "text":
                parts.append({"type": "text", "text": part["text"]})
            elif part.get("type") == "image_url":
                url = part["image_url"]["url"] if isinstance(part["image_url"], Mapping) else part["image_url"]
                images.append(decode_data_url(url))
                parts.append({"type": "image"})
            else:
                raise ValueError(f"unsupported content part type {part.get('type')!r}")
        out.append({"role": message["role"], "content": parts})
    return tuple(out), images


class ChatCompletionsServer:
    """Serves a :class:`ModelBackend` at ``http://HOST:PORT/v1/chat/completions`` from a background thread.

    Requests that arrive together are generated together: a worker collects up to ``max_batch`` of them
    (waiting at most ``batch_wait_s`` after the first) and calls ``backend.generate`` once per distinct
    sampling; the backend is only ever called from that worker. Used by the tests and the benchmark to run
    the OpenAI client against a real model on 127.0.0.1; it implements the chat-completions subset the client
    uses, not the whole API::

        with ChatCompletionsServer(backend, "tiny") as server:
            evaluate(RunSpec(model=server.spec, task="ct_tumor"), run_dir)
    """

    def __init__(self, backend: ModelBackend, model_name: str, host: str = "127.0.0.1", port: int = 0,
                 max_batch: int = 8, batch_wait_s: float = 0.01):
        self.backend = backend
        self.model_name = model_name
        self.max_batch = max_batch
        self.batch_wait_s = batch_wait_s
        self._queue: queue.Queue = queue.Queue()
        self._count = 0
        self._count_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def spec(self) -> str:
        """The ``--model`` value that reaches this server through the openai backend."""
        return f"openai:{self.url}#{self.model_name}"

    def start(self) -> "ChatCompletionsServer":
        for target, kwargs in ((self._httpd.serve_forever, {"poll_interval": 0.05}), (self._work, {})):
            thread = threading.Thread(target=target, kwargs=kwargs, daemon=True,
                                      name=f"chat-server-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> "ChatCompletionsServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def submit(self, body: Mapping[str, Any]) -> Future:
        """Parse one chat-completions body and queue it; the future gives the answer text."""
        if body.get("model") != self.model_name:
            raise LookupError(f"model {body.get('model')!r} is not served here (serving {self.model_name!r})")
        messages, images = from_openai_messages(body.get("messages"))
        sampling = Sampling(max_new_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 256),
                            temperature=float(body.get("temperature", 1.0)), top_p=float(body.get("top_p", 1.0)),
                            seed=int(body.get("seed") or 0))
        with self._count_lock:
            self._count += 1
            number = self._count
        case = Case(case_id=f"http-{number}", task="chat", image_path=None, label_path=None, reference_report="",
                    findings=())
        request = Request(case=case, kind="chat", messages=messages, load_images=lambda: images)
        future: Future = Future()
        self._queue.put((request, sampling, future))
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            deadline = time.monotonic() + self.batch_wait_s
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            for sampling in dict.fromkeys(s for _, s, _ in batch):
                group = [(r, f) for r, s, f in batch if s == sampling]
                try:
                    texts = self.backend.generate([r for r, _ in group], sampling)
                except Exception as exc:  # noqa: BLE001 - handed to the waiting HTTP thread as a 500
                    for _, future in group:
                        future.set_exception(exc)
                    continue
                for (_, future), text in zip(group, texts):
                    future.set_result(text)


def _handler_for(server: ChatCompletionsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.rstrip("/") in ("/health", "/v1/health"):
                self._send(200, {"status": "ok"})
            elif self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": server.model_name, "object": "model"}]})
            else:
                self._send(404, _error_body(f"no route {self.path}", "not_found_error"))

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, _error_body(f"no route {self.path}", "not_found_error"))
                return
            try:
                future = server.submit(json.loads(body))
            except LookupError as exc:
                self._send(404, _error_body(str(exc), "not_found_error"))
                return
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                self._send(400, _error_body(f"invalid request: {exc}", "invalid_request_error"))
                return
            try:
                text = future.result()
            except Exception as exc:  # noqa: BLE001 - reported to the client as the server's failure
                self._send(500, _error_body(f"{type(exc).__name__}: {exc}", "server_error"))
                return
            self._send(200, {
                "id": f"chatcmpl-{id(future):x}", "object": "chat.completion", "created": int(time.time()),
                "model": server.model_name,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
            })

        def _send(self, status: int, payload: Mapping[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}}
