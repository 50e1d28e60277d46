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
backend costs no dependency. The other side of the same protocol, a server for any model backend that the tests
and the benchmark run the client against, is :mod:`harness.models.chat_server`.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import random
import ssl
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.models.base import ModelBackend, fill_image_parts
from harness.schema import Request, Sampling, count_parts
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


# -- small helpers --------------------------------------------------------------------------------------------
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
