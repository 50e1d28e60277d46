"""``vllm:PATH_OR_HUB_ID``: vLLM's offline engine on CUDA, for 2B-70B VLMs at the speed of the engine.

    harness run --model vllm:/models/Qwen2.5-VL-7B-Instruct --task ct_tumor --batch-size 256 \\
        --model-option tensor_parallel_size=2 --model-option max_pixels=200704

The runner hands the backend ``--batch-size`` requests per call and vLLM schedules them itself (continuous
batching), so give it a large batch (hundreds), not the transformers-sized default of 8.

One ``vllm.LLM`` is built on the first ``generate`` and every batch goes through ``LLM.chat`` with the
checkpoint's own chat template, passed explicitly so that the template whose hash ``info()`` records is the
one that was applied. Images travel as PIL images in vLLM's ``image_pil`` message parts (no encoding round
trip). Engine settings:

- ``limit_mm_per_prompt``: vLLM reserves memory for this many images per prompt, so it is set from the task's
  largest request over all its stages (``Task.max_images_per_request``; for ct_tumor: its 34-image global view,
  which the report and the probes carry), at least the first batch's largest, or from the option
  ``limit_mm_per_prompt`` (an int, or vLLM's own dict such as ``{"image": 34, "video": 0}``). Not the first
  batch alone: on resume that is a later stage's (ct_tumor's 3-image verification), and the probes after it
  would be refused. A request with more images than the engine allows is refused with the option to set,
  rather than silently rebuilding a GPU engine.
- ``max_pixels`` (or any ``mm_processor_kwargs``): caps the pixels, hence the tokens, of every image.
- ``tensor_parallel_size``: vLLM's tensor parallelism across the GPUs of one node.
- ``data_parallel_size``: replicas through vLLM's own data-parallel mode. vLLM refuses
  ``LLM(data_parallel_size>1)`` in a single process ("not supported for single-process usage and may hang"),
  so with N > 1 the backend starts ``vllm serve --data-parallel-size N`` (vLLM's internal load balancer
  spreads requests over the replicas) on 127.0.0.1 and drives it through the OpenAI-compatible backend. The
  harness never schedules replicas itself.

vLLM is imported inside methods only; without it, building the backend fails with a one-line
``HarnessError`` naming the extra to install. The pure functions below (options, engine arguments, chat
messages, sampling parameters, the serve command) carry every decision and are unit-tested without vLLM.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.models.base import ModelBackend, fill_image_parts
from harness.models.openai_compat import Endpoint, OpenAIBackend, OpenAIOptions, count_images
from harness.schema import Request, Sampling
from harness.settings import as_bool, option_record, positive_int

INSTALL_HINT = "vLLM is not installed: pip install 'emrl-harness[vllm]'"
DTYPES = ("auto", "bfloat16", "float16", "float32")
SERVED_NAME = "harness"
HEALTH_POLL_S = 1.0


@dataclass(frozen=True)
class VLLMOptions:
    """The backend's options, as given on the command line (strings or JSON values) or from Python."""

    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    dtype: str = "auto"
    max_pixels: int | None = None
    mm_processor_kwargs: Mapping[str, Any] = field(default_factory=dict)
    limit_mm_per_prompt: int | Mapping[str, Any] | None = None  # None: the first batch's largest image count
    max_model_len: int | None = None
    gpu_memory_utilization: float = 0.9
    enforce_eager: bool = False
    trust_remote_code: bool = False
    revision: str | None = None
    seed: int = 0  # the engine's seed; each request also carries Sampling.seed
    render_threads: int | None = None  # threads rendering a batch's images (load_images) [CPU count]
    concurrency: int | None = None  # data parallel only: requests in flight to the server [32 per replica]
    server_start_timeout_s: float = 1800.0  # data parallel only: loading a 70B model takes minutes

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> "VLLMOptions":
        opts = option_record(cls, options, "vllm backend")
        if opts.dtype not in DTYPES:
            raise HarnessError(f"dtype must be one of {', '.join(DTYPES)}, not '{opts.dtype}'")
        mm_kwargs = _json_option("mm_processor_kwargs", opts.mm_processor_kwargs)
        if not isinstance(mm_kwargs, Mapping):
            raise HarnessError(f"mm_processor_kwargs must be a JSON object, not {opts.mm_processor_kwargs!r}")
        limit = _json_option("limit_mm_per_prompt", opts.limit_mm_per_prompt)
        if isinstance(limit, Mapping):
            if not all(isinstance(v, (int, Mapping)) and not isinstance(v, bool) for v in limit.values()):
                raise HarnessError(f"limit_mm_per_prompt must map modalities to counts, not {limit!r}")
        elif limit is not None:
            limit = positive_int("limit_mm_per_prompt", limit)
        try:
            memory = float(opts.gpu_memory_utilization)
            timeout = float(opts.server_start_timeout_s)
        except (TypeError, ValueError):
            raise HarnessError("gpu_memory_utilization and server_start_timeout_s must be numbers") from None
        if not 0 < memory <= 1:
            raise HarnessError(f"gpu_memory_utilization must be in (0, 1], not {opts.gpu_memory_utilization!r}")
        return cls(
            tensor_parallel_size=positive_int("tensor_parallel_size", opts.tensor_parallel_size),
            data_parallel_size=positive_int("data_parallel_size", opts.data_parallel_size),
            dtype=opts.dtype,
            max_pixels=None if opts.max_pixels is None else positive_int("max_pixels", opts.max_pixels),
            mm_processor_kwargs=dict(mm_kwargs), limit_mm_per_prompt=limit,
            max_model_len=None if opts.max_model_len is None else positive_int("max_model_len", opts.max_model_len),
            gpu_memory_utilization=memory,
            enforce_eager=as_bool("enforce_eager", opts.enforce_eager),
            trust_remote_code=as_bool("trust_remote_code", opts.trust_remote_code),
            revision=None if opts.revision in (None, "") else str(opts.revision),
            seed=int(opts.seed),
            render_threads=None if opts.render_threads is None else positive_int("render_threads",
                                                                                    opts.render_threads),
            concurrency=None if opts.concurrency is None else positive_int("concurrency", opts.concurrency),
            server_start_timeout_s=timeout,
        )

    def processor_kwargs(self) -> dict[str, Any]:
        """``mm_processor_kwargs`` with the pixel cap: Qwen-VL processors take ``max_pixels`` per image."""
        kwargs = dict(self.mm_processor_kwargs)
        if self.max_pixels is not None:
            kwargs["max_pixels"] = self.max_pixels
        return kwargs


# -- pure request building ------------------------------------------------------------------------------------
def mm_limits(options: VLLMOptions, requests: Sequence[Request], task_images: int | None = None) -> dict[str, Any]:
    """vLLM's ``limit_mm_per_prompt``: the option, else the largest of the task's declared image count per request
    (over all its stages) and the image counts among ``requests`` (>= 1)."""
    if isinstance(options.limit_mm_per_prompt, Mapping):
        return dict(options.limit_mm_per_prompt)
    if options.limit_mm_per_prompt is not None:
        return {"image": options.limit_mm_per_prompt}
    return {"image": max([1, task_images or 0] + [count_images(r.messages) for r in requests])}


def image_limit(limits: Mapping[str, Any]) -> int:
    """Images per prompt allowed by a ``limit_mm_per_prompt`` (counts, or vLLM's ``{"count": N, ...}`` form)."""
    value = limits.get("image", 0)
    return int(value.get("count", 0) if isinstance(value, Mapping) else value)


def engine_kwargs(model: str, options: VLLMOptions, limits: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM(...)``."""
    kwargs: dict[str, Any] = {
        "model": model, "tensor_parallel_size": options.tensor_parallel_size, "dtype": options.dtype,
        "seed": options.seed, "trust_remote_code": options.trust_remote_code,
        "gpu_memory_utilization": options.gpu_memory_utilization, "enforce_eager": options.enforce_eager,
        "limit_mm_per_prompt": dict(limits),
    }
    if options.processor_kwargs():
        kwargs["mm_processor_kwargs"] = options.processor_kwargs()
    if options.max_model_len is not None:
        kwargs["max_model_len"] = options.max_model_len
    if options.revision is not None:
        kwargs["revision"] = options.revision
    return kwargs


def sampling_kwargs(sampling: Sampling) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams(...)``: the same decoding as every other backend.
    Greedy is temperature 0; top-k and repetition penalty stay at vLLM's neutral defaults."""
    return {"n": 1, "max_tokens": sampling.max_new_tokens, "temperature": sampling.temperature,
            "top_p": 1.0 if sampling.greedy else sampling.top_p, "seed": sampling.seed,
            "skip_special_tokens": True}


def to_vllm_messages(messages: Sequence[Mapping[str, Any]], images: Sequence[Any]) -> list[dict[str, Any]]:
    """Harness messages (``{"type": "image"}`` placeholders) -> ``LLM.chat`` messages with the images as
    ``image_pil`` parts, in placeholder order."""
    return fill_image_parts(messages, images, lambda im: {"type": "image_pil", "image_pil": _as_pil(im)}, "vLLM")


def _as_pil(image: Any):
    import numpy as np
    from PIL import Image

    return image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))


def serve_command(model: str, options: VLLMOptions, limits: Mapping[str, Any], chat_template_file: Path,
                  port: int, served_name: str = SERVED_NAME) -> list[str]:
    """``vllm serve`` with vLLM's own data parallelism, the same engine settings and chat template."""
    cmd = [sys.executable, "-m", "vllm.entrypoints.cli.main", "serve", model,
           "--served-model-name", served_name, "--host", "127.0.0.1", "--port", str(port),
           "--data-parallel-size", str(options.data_parallel_size),
           "--tensor-parallel-size", str(options.tensor_parallel_size),
           "--dtype", options.dtype, "--seed", str(options.seed),
           "--gpu-memory-utilization", str(options.gpu_memory_utilization),
           "--limit-mm-per-prompt", json.dumps(dict(limits)),
           "--chat-template", str(chat_template_file)]
    if options.processor_kwargs():
        cmd += ["--mm-processor-kwargs", json.dumps(options.processor_kwargs())]
    if options.max_model_len is not None:
        cmd += ["--max-model-len", str(options.max_model_len)]
    if options.revision is not None:
        cmd += ["--revision", options.revision]
    if options.trust_remote_code:
        cmd.append("--trust-remote-code")
    if options.enforce_eager:
        cmd.append("--enforce-eager")
    return cmd


# -- the backend ----------------------------------------------------------------------------------------------
class VLLMBackend(ModelBackend):
    """vLLM's offline engine (CUDA): LLM.chat with the model's own template, tensor and data parallel."""

    spec_hint = "PATH_OR_HUB_ID"

    def __init__(self, model: str, options: VLLMOptions | None = None):
        self.options = options or VLLMOptions()
        self.model, local = _resolve_model(model, self.options.revision)
        self.model_id = _model_id(model, local, self.options)
        self.chat_template = _load_chat_template(local or self.model, self.options)
        self.limits: dict[str, Any] | None = None
        self.task_images: int | None = None  # the bound task's largest request, over all its stages
        self._llm: Any = None
        self._server: ManagedServer | None = None
        self._client: OpenAIBackend | None = None
        self._template_file: Path | None = None

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        VLLMOptions.parse(options)

    @classmethod
    def from_spec(cls, spec: str, options: Mapping[str, Any]) -> "VLLMBackend":
        if not spec:
            raise HarnessError("name a model: vllm:PATH or vllm:HUB_ID")
        opts = VLLMOptions.parse(options)
        if importlib.util.find_spec("vllm") is None:
            raise HarnessError(INSTALL_HINT)
        return cls(spec, opts)

    def bind(self, task: Any) -> None:
        declared = getattr(task, "max_images_per_request", None)
        self.task_images = declared() if callable(declared) else None

    def info(self) -> dict[str, Any]:
        info = {
            "backend": "vllm", "model_id": self.model_id, "model": self.model,
            "tensor_parallel_size": self.options.tensor_parallel_size,
            "data_parallel_size": self.options.data_parallel_size, "dtype": self.options.dtype,
            "limit_mm_per_prompt": self.limits, "mm_processor_kwargs": self.options.processor_kwargs(),
            "max_model_len": self.options.max_model_len,
            "chat_template_sha256": hashlib.sha256(self.chat_template.encode()).hexdigest()[:16],
        }
        try:
            from importlib.metadata import version

            info["vllm_version"] = version("vllm")
        except Exception:  # noqa: BLE001 - provenance is best effort
            info["vllm_version"] = None
        return info

    def close(self) -> None:
        self._llm = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._template_file is not None:
            self._template_file.unlink(missing_ok=True)
            self._template_file = None
        _free_cuda()

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[str]:
        if not requests:
            return []
        self._start(requests)
        wanted = max(count_images(r.messages) for r in requests)
        allowed = image_limit(self.limits or {})
        if wanted > allowed:
            worst = max(requests, key=lambda r: count_images(r.messages))
            raise HarnessError(f"request {worst.request_id} has {wanted} images but the vLLM engine was started "
                               f"with limit_mm_per_prompt image={allowed}; pass --model-option "
                               f"limit_mm_per_prompt={wanted}")
        if self._client is not None:
            return self._client.generate(requests, sampling)
        from vllm import SamplingParams

        conversations = self._conversations(requests)
        outputs = self._llm.chat(conversations, SamplingParams(**sampling_kwargs(sampling)), use_tqdm=False,
                                 chat_template=self.chat_template, add_generation_prompt=True)
        return [o.outputs[0].text for o in outputs]

    def _conversations(self, requests: Sequence[Request]) -> list[list[dict[str, Any]]]:
        """Chat messages with their images, rendered on threads. Rendering is CPU work (a ct_tumor request
        loads a CT volume and draws 34 views: about 0.2 s, see benchmarks/bench_backends.py) and its numpy,
        torch and PIL calls release the GIL, so threads divide it by the number of cores."""
        def build(request: Request) -> list[dict[str, Any]]:
            return to_vllm_messages(request.messages, request.checked_images())

        workers = min(len(requests), self.options.render_threads or os.cpu_count() or 1)
        if workers <= 1:
            return [build(r) for r in requests]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vllm-render") as pool:
            return list(pool.map(build, requests))

    def _start(self, requests: Sequence[Request]) -> None:
        if self._llm is not None or self._client is not None:
            return
        self.limits = mm_limits(self.options, requests, self.task_images)
        if self.options.data_parallel_size > 1:
            self._start_server()
            return
        try:
            from vllm import LLM
        except ImportError as exc:
            raise HarnessError(f"{INSTALL_HINT} ({exc})") from exc
        try:
            self._llm = LLM(**engine_kwargs(self.model, self.options, self.limits))
        except Exception as exc:  # noqa: BLE001 - vLLM raises many types for a bad model or GPU setup
            raise HarnessError(f"vLLM could not start {self.model}: {_first_line(exc)}") from exc

    def _start_server(self) -> None:
        fd, name = tempfile.mkstemp(prefix="harness-chat-template-", suffix=".jinja")
        with os.fdopen(fd, "w") as fh:
            fh.write(self.chat_template)
        self._template_file = Path(name)
        port = free_port()
        command = serve_command(self.model, self.options, self.limits or {}, self._template_file, port)
        self._server = ManagedServer(command, f"http://127.0.0.1:{port}/health", what=f"vllm serve {self.model}",
                                     start_timeout_s=self.options.server_start_timeout_s).start()
        concurrency = self.options.concurrency or 32 * self.options.data_parallel_size
        self._client = OpenAIBackend(Endpoint.parse(f"http://127.0.0.1:{port}/v1#{SERVED_NAME}"),
                                     OpenAIOptions(concurrency=concurrency))


class ManagedServer:
    """A server process this backend started: waits until ``health_url`` answers 200, stops its whole process
    group on ``stop``. Its output goes to a log file whose last line explains a failed start."""

    def __init__(self, command: Sequence[str], health_url: str, what: str, start_timeout_s: float):
        self.command = list(command)
        self.health = urlsplit_health(health_url)
        self.what = what
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen | None = None
        fd, name = tempfile.mkstemp(prefix="harness-server-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)

    def start(self) -> "ManagedServer":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"{self.what} exited with code {self.process.returncode} before it was ready: "
                                   f"{self.last_log_line()} (log: {self.log_path})")
            if self._healthy():
                return self
            time.sleep(HEALTH_POLL_S)
        self.stop()
        raise HarnessError(f"{self.what} was not ready after server_start_timeout_s={self.start_timeout_s:g} "
                           f"(log: {self.log_path})")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(process.pid, sig)  # the session it was started in: the server and its workers
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue

    def last_log_line(self) -> str:
        lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip() if lines else "(no output)"

    def _healthy(self) -> bool:
        host, port, path = self.health
        conn = http.client.HTTPConnection(host, port, timeout=HEALTH_POLL_S)
        try:
            conn.request("GET", path)
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()


# -- helpers --------------------------------------------------------------------------------------------------
def urlsplit_health(url: str) -> tuple[str, int, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _resolve_model(model: str, revision: str | None) -> tuple[str, Path | None]:
    """(what vLLM is given, the local directory holding the checkpoint if there is one). A hub id is looked up
    in the local Hugging Face cache only: nothing is downloaded here."""
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), path.resolve()
    if path.exists() or model.startswith((".", "/", "~")):
        raise HarnessError(f"vLLM model '{model}' is not a checkpoint directory")
    try:
        from huggingface_hub import snapshot_download

        return model, Path(snapshot_download(model, revision=revision, local_files_only=True))
    except Exception:  # noqa: BLE001 - not cached (or no hub client): vLLM resolves and downloads it itself
        return model, None


def _model_id(model: str, local: Path | None, options: VLLMOptions) -> str:
    """Local checkpoints are named by their file fingerprint, as in the transformers backend; a hub id not in
    the local cache can only be named by its id. The id keys the prediction cache, so what else changes the
    outputs is appended: an explicit dtype and the image processor's settings (parallelism does not)."""
    if local is None:
        name = f"vllm:{model}"
    else:
        from harness.models.hf import checkpoint_fingerprint

        shown = local.name if Path(model).expanduser().is_dir() else model
        name = f"vllm:{shown}@{checkpoint_fingerprint(local)}"
    if options.dtype != "auto":
        name += f"+{options.dtype}"
    if options.processor_kwargs():
        name += "+mm=" + json.dumps(options.processor_kwargs(), sort_keys=True, separators=(",", ":"))
    return name


def _load_chat_template(model: str | Path, options: VLLMOptions) -> str:
    """The checkpoint's own template, found as the transformers backend finds it (same hash for the same
    checkpoint on both backends)."""
    from harness.models.hf import _chat_template_of

    try:
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(model, revision=options.revision,
                                                  trust_remote_code=options.trust_remote_code)
    except Exception as exc:  # noqa: BLE001 - transformers raises many types for a bad checkpoint
        raise HarnessError(f"could not load the processor (chat template) of '{model}': {_first_line(exc)}"
                           ) from exc
    return _chat_template_of(processor, Path(str(model)))


def _json_option(name: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise HarnessError(f"{name} must be JSON, not {value!r}") from None
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _free_cuda() -> None:
    import gc

    gc.collect()
    if "torch" in sys.modules:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
