"""``openai:URL#name``: any server that speaks OpenAI chat completions (vllm serve, SGLang, hosted APIs).

    harness run --model openai:http://127.0.0.1:8000/v1#qwen --task ct_tumor

Images travel inline, as base64 PNG data URLs in the OpenAI message format, in the order of the request's
``{"type": "image"}`` placeholders: the server needs no access to the harness's files. Requests run on a
bounded thread pool (option ``concurrency``); each is retried with exponential backoff and jitter on 429,
408, 425 and 5xx answers, timeouts and dropped connections (options ``max_retries``, ``timeout_s``,
``backoff_s``), honouring ``Retry-After``. Any other 4xx is the user's to fix and fails at once, naming the
URL and the status. The server applies its own chat template; the client cannot see it, so ``info()``
records the model name and system fingerprint the server reports instead of a template hash.

The API key comes from the ``api_key`` option or, read once in :meth:`OpenAIBackend.from_spec`, from
``OPENAI_API_KEY``; it is sent as a bearer token and never written to results.

Only the standard library is used (``http.client`` with one keep-alive connection per worker thread), so the
backend costs no dependency. :class:`ChatCompletionsServer` is the other side of the same protocol: it serves
any :class:`ModelBackend` at ``/v1/chat/completions``, so the client is tested end to end against a real
model on 127.0.0.1, and a local checkpoint can be benchmarked through the HTTP path.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import io
import json
import os
import queue
import random
import ssl
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.models.base import ModelBackend, fill_image_parts
from harness.schema import Case, Request, Sampling, count_parts
from harness.settings import option_record

RETRY_STATUSES = frozenset({408, 425, 429})  # and every 5xx
DATA_URL_PREFIX = "data:image/png;base64,"
PNG_COMPRESS_LEVEL = 1  # lossless either way; level 1 encodes several times faster than the default 6
ERROR_TEXT_LIMIT = 200  # characters of a server's error message kept in a HarnessError
# failures of the connection itself, before or while reading an answer: worth another try
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)
# a kept-alive connection the server has since closed fails with one of these before any answer arrives
STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass(frozen=True)
class OpenAIOptions:
    """The backend's options, as given on the command line (strings or JSON numbers) or from Python."""

    api_key: str | None = None
    concurrency: int = 8
    max_retries: int = 5
    timeout_s: float = 300.0  # per socket operation: for a non-streamed answer, the wait for the whole answer
    backoff_s: float = 1.0  # first retry waits about this long, doubling each time
    max_backoff_s: float = 60.0

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> "OpenAIOptions":
        opts = option_record(cls, options, "openai backend")
        return cls(
            api_key=None if opts.api_key in (None, "") else str(opts.api_key),
            concurrency=_number("concurrency", opts.concurrency, int, minimum=1),
            max_retries=_number("max_retries", opts.max_retries, int, minimum=0),
            timeout_s=_number("timeout_s", opts.timeout_s, float, minimum=0.001),
            backoff_s=_number("backoff_s", opts.backoff_s, float, minimum=0.0),
            max_backoff_s=_number("max_backoff_s", opts.max_backoff_s, float, minimum=0.0),
        )


@dataclass(frozen=True)
class Endpoint:
    """Where the chat-completions requests go, parsed from ``URL#model_name``."""

    url: str  # the full URL of /chat/completions
    scheme: str
    host: str
    port: int | None
    path: str
    model_name: str

    @property
    def netloc(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @classmethod
    def parse(cls, spec: str) -> "Endpoint":
        url, sep, name = spec.rpartition("#")
        if not sep or not name.strip() or not url:
            raise HarnessError(f"openai model spec '{spec}' must be URL#model_name, "
                               f"e.g. openai:http://127.0.0.1:8000/v1#qwen")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HarnessError(f"'{url}' in openai model spec '{spec}' is not an http(s) URL with a host")
        try:
            port = parts.port
        except ValueError:
            raise HarnessError(f"'{url}' in openai model spec '{spec}' has an invalid port") from None
        path = parts.path.rstrip("/")
        if not path.endswith("/chat/completions"):
            path += "/chat/completions"
        if parts.query:
            path += f"?{parts.query}"
        host = parts.hostname
        netloc = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets in a URL
        shown = netloc if port is None else f"{netloc}:{port}"
        return cls(url=f"{parts.scheme}://{shown}{path}", scheme=parts.scheme, host=host, port=port, path=path,
                   model_name=name.strip())


class OpenAIBackend(ModelBackend):
    """Any OpenAI-compatible chat-completions server (vllm serve, SGLang, hosted APIs), images sent inline."""

    spec_hint = "URL#MODEL_NAME"

    def __init__(self, endpoint: Endpoint, options: OpenAIOptions | None = None):
        self.endpoint = endpoint
        self.options = options or OpenAIOptions()
        # the port is part of the identity: two local servers on one host may serve different checkpoints
        self.model_id = f"openai:{endpoint.model_name}@{endpoint.netloc}"
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.options.api_key:
            self._headers["Authorization"] = f"Bearer {self.options.api_key}"
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._served: dict[str, Any] = {}
        self._usage = {"prompt_tokens": 0, "completion_tokens": 0, "requests": 0, "retries": 0}
        self._jitter = random.Random()

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        OpenAIOptions.parse(options)

    @classmethod
    def from_spec(cls, spec: str, options: Mapping[str, Any]) -> "OpenAIBackend":
        opts = OpenAIOptions.parse(options)
        if opts.api_key is None:
            # the one place the environment is read: library code below only sees the options
            opts = replace(opts, api_key=os.environ.get("OPENAI_API_KEY") or None)
        return cls(Endpoint.parse(spec), opts)

    def info(self) -> dict[str, Any]:
        with self._lock:
            served, usage = dict(self._served), dict(self._usage)
        return {
            "backend": "openai", "model_id": self.model_id, "url": self.endpoint.url,
            "model_name": self.endpoint.model_name, "concurrency": self.options.concurrency,
            "max_retries": self.options.max_retries, "timeout_s": self.options.timeout_s,
            "chat_template": "applied by the server (not visible to the client)",
            "served_model": served.get("model"), "system_fingerprint": served.get("system_fingerprint"),
            "usage": usage,
        }

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[str]:
        """All requests at once on the pool (at most ``concurrency`` in flight), answers in request order."""
        if not requests:
            return []
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.options.concurrency,
                                            thread_name_prefix="openai-backend")
        base = sampling_payload(sampling)
        abort = threading.Event()  # set on the first failure: the other requests of this call stop retrying
        futures = [self._pool.submit(self._complete, request, base, abort) for request in requests]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f.done() and not f.cancelled() and f.exception()), None)
        if failed is not None:
            abort.set()
            for future in futures:
                future.cancel()  # those not started yet; those in flight end after their current attempt
            raise failed.exception()  # type: ignore[misc]
        return [f.result() for f in futures]

    # -- one request ----------------------------------------------------------------------------------------
    def _complete(self, request: Request, base: Mapping[str, Any], abort: threading.Event) -> str:
        images = request.checked_images()
        body = json.dumps({"model": self.endpoint.model_name,
                           "messages": to_openai_messages(request.messages, images), **base}).encode()
        last = ""
        for attempt in range(self.options.max_retries + 1):
            if abort.is_set():
                raise HarnessError(f"request {request.request_id} to {self.endpoint.url} was cancelled")
            retry_after = None
            try:
                status, headers, data = self._post(body)
            except TRANSPORT_ERRORS as exc:
                if isinstance(exc, ssl.SSLCertVerificationError):
                    raise HarnessError(f"{self.endpoint.url}: TLS certificate not trusted ({exc})") from None
                last = _describe_transport_error(exc, self.options.timeout_s)
            else:
                if status == 200:
                    return self._answer_of(data, request)
                message = _error_message(data)
                if status not in RETRY_STATUSES and status < 500:
                    raise HarnessError(f"{self.endpoint.url} answered HTTP {status} to request "
                                       f"{request.request_id}: {message}")
                last = f"HTTP {status}: {message}"
                retry_after = _retry_after(headers)
            if attempt < self.options.max_retries:
                with self._lock:
                    self._usage["retries"] += 1
                abort.wait(self._backoff(attempt, retry_after))
        raise HarnessError(f"{self.endpoint.url} failed request {request.request_id} "
                           f"{self.options.max_retries + 1} times (max_retries={self.options.max_retries}); "
                           f"last: {last}")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential, with jitter in [1/2, 1] of the step so that concurrent retries spread out."""
        step = min(self.options.max_backoff_s, self.options.backoff_s * 2 ** attempt)
        delay = step * self._jitter.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.options.max_backoff_s))
        return delay

    def _post(self, body: bytes) -> tuple[int, Any, bytes]:
        """One POST on this thread's keep-alive connection; a connection the server closed while idle is
        reopened once at no cost to the retry budget."""
        for reuse in (True, False):
            conn = getattr(self._local, "conn", None)
            fresh = conn is None or not reuse
            if fresh:
                if conn is not None:
                    conn.close()
                conn = self._local.conn = self._connect()
            try:
                conn.request("POST", self.endpoint.path, body=body, headers=self._headers)
                response = conn.getresponse()
                data = response.read()
            except STALE_CONNECTION_ERRORS:
                conn.close()
                self._local.conn = None
                if fresh:
                    raise
                continue
            except BaseException:
                conn.close()
                self._local.conn = None
                raise
            if response.will_close:
                conn.close()
                self._local.conn = None
            return response.status, response.headers, data
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        e = self.endpoint
        if e.scheme == "https":
            return http.client.HTTPSConnection(e.host, e.port, timeout=self.options.timeout_s,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(e.host, e.port, timeout=self.options.timeout_s)

    def _answer_of(self, data: bytes, request: Request) -> str:
        try:
            answer = json.loads(data)
            message = answer["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise HarnessError(f"{self.endpoint.url} answered request {request.request_id} with something that "
                               f"is not a chat completion: {_clip(data.decode('utf-8', 'replace'))}") from None
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, list):  # a few servers answer in parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        with self._lock:
            usage = answer.get("usage") or {}
            self._usage["requests"] += 1
            for key in ("prompt_tokens", "completion_tokens"):
                if isinstance(usage.get(key), int):
                    self._usage[key] += usage[key]
            for key in ("model", "system_fingerprint"):
                if answer.get(key) is not None:
                    self._served.setdefault(key, answer[key])
        return content if isinstance(content, str) else ""


# -- the protocol, both ways ----------------------------------------------------------------------------------
def sampling_payload(sampling: Sampling) -> dict[str, Any]:
    """Decoding fields of a chat-completions body. Greedy is temperature 0 (top_p then has no effect)."""
    return {"max_tokens": sampling.max_new_tokens, "temperature": sampling.temperature, "top_p": sampling.top_p,
            "seed": sampling.seed, "n": 1, "stream": False}


def count_images(messages: Sequence[Mapping[str, Any]]) -> int:
    return count_parts(messages, "image")


def to_openai_messages(messages: Sequence[Mapping[str, Any]], images: Sequence[Any]) -> list[dict[str, Any]]:
    """Harness messages (``{"type": "image"}`` placeholders) -> OpenAI messages with the images inline, in order."""
    return fill_image_parts(messages, images, lambda im: {"type": "image_url", "image_url": {"url": image_data_url(im)}},
                            "a chat-completions server")


def image_data_url(image: Any) -> str:
    """A PIL image (or an HxW[xC] uint8 array) as a lossless PNG data URL."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        import numpy as np

        image = Image.fromarray(np.asarray(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return DATA_URL_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_data_url(url: str) -> Any:
    """A base64 image data URL -> PIL image (the server side of :func:`image_data_url`)."""
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


# -- a server for any backend ---------------------------------------------------------------------------------
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


# -- small helpers --------------------------------------------------------------------------------------------
def _error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}}


def _error_message(data: bytes) -> str:
    """The message of an OpenAI-style error body, else the start of the body."""
    text = data.decode("utf-8", "replace")
    try:
        error = json.loads(text).get("error")
        message = error.get("message") if isinstance(error, Mapping) else error
        if message:
            return _clip(str(message))
    except (ValueError, AttributeError):
        pass
    return _clip(text) or "(empty body)"


def _clip(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= ERROR_TEXT_LIMIT else one_line[:ERROR_TEXT_LIMIT] + "..."


def _retry_after(headers: Any) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is ignored: backoff applies)."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _describe_transport_error(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within timeout_s={timeout_s:g}"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _number(name: str, value: Any, kind: type, minimum: float) -> Any:
    try:
        number = kind(value)
        if kind is int and float(value) != number:
            raise ValueError
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, bool) or number < minimum:
        what = "an integer" if kind is int else "a number"
        raise HarnessError(f"{name} must be {what} >= {minimum:g}, not {value!r}")
    return number
