"""A local Hugging Face checkpoint directory, run with transformers' image-text-to-text models, or with a
registered volume family (:mod:`harness.models.volume`) when the checkpoint reads whole scans (M3D-LaMed).

The prompt is built with the checkpoint's own chat template and the template's hash goes into ``info()``, so
a result always says which template produced it. Batches are left-padded and the attention mask and
(multimodal) position ids follow the padding, so greedy outputs do not depend on the batch size. Decoding is
defined by :class:`~harness.schema.Sampling` alone: the checkpoint's ``generation_config.json`` contributes
its stop and pad tokens but not its sampling knobs (temperature, top-k, repetition penalty), so one
``Sampling`` means the same decoding on every backend.

torch and transformers are imported inside methods: importing this module stays cheap.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.models.base import ModelBackend
from harness.models.volume import volume_family
from harness.schema import Request, Sampling, plain_messages
from harness.settings import as_bool, option_record, positive_int

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth")
AUTO_BATCH_START = 32  # first try of batch_size="auto"; halved on every out-of-memory error
FULL_HASH_LIMIT = 16 << 20  # files up to this size are hashed whole; larger ones (weights) are sampled
SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class HFOptions:
    """The backend's options, as given on the command line (strings) or from Python (typed values)."""

    device: str = "auto"
    dtype: str = "auto"
    trust_remote_code: bool = False
    batch_size: int | str = 8  # an int, or "auto"
    max_pixels: int | None = None
    # the image ablation: every image replaced by a uniform grey one of the same size (the model still gets its
    # image tokens, but they carry nothing); what a model scores so is what it gets from the text alone
    blank_images: bool = False

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> "HFOptions":
        opts = option_record(cls, options, "transformers backend")
        device = str(opts.device)
        if device not in DEVICES and not re.fullmatch(r"cuda:\d+", device):
            raise HarnessError(f"device must be one of {', '.join(DEVICES)} (or cuda:N), not '{device}'")
        if opts.dtype not in DTYPES:
            raise HarnessError(f"dtype must be one of {', '.join(DTYPES)}, not '{opts.dtype}'")
        return cls(
            device=device, dtype=opts.dtype,
            trust_remote_code=as_bool("trust_remote_code", opts.trust_remote_code),
            batch_size=(opts.batch_size if opts.batch_size == "auto"
                        else positive_int("batch_size", opts.batch_size, " or auto")),
            max_pixels=None if opts.max_pixels is None else positive_int("max_pixels", opts.max_pixels),
            blank_images=as_bool("blank_images", opts.blank_images),
        )


class TransformersBackend(ModelBackend):
    """A local checkpoint directory (given alone or as transformers:DIR) through transformers'
    AutoModelForImageTextToText and AutoProcessor; a checkpoint whose model_type is a registered volume family
    (M3D-LaMed) is loaded and fed by that family, with the request's volume instead of images."""

    spec_hint = "CHECKPOINT_DIR"
    sizes_own_batches = True  # batch_size=auto: halves the batch on out-of-memory

    def __init__(self, path: str | Path, options: HFOptions | None = None):
        self.path = Path(path).expanduser().resolve()
        self.options = options or HFOptions()
        self.config = _read_config(self.path)
        self.device = _resolve_device(self.options.device)
        self.dtype = _resolve_dtype(self.options.dtype, self.device, self.config)
        self.family = volume_family(self.path, self.config)  # None: an image-text-to-text checkpoint
        # The id keys the prediction cache: besides the files, what changes the outputs is the compute dtype and
        # the pixel cap (device and batch size do not, for greedy decoding).
        self.model_id = f"hf:{self.path.name}@{checkpoint_fingerprint(self.path)}" \
            + ("" if self.dtype == "float32" else f"+{self.dtype}") \
            + ("" if self.options.max_pixels is None else f"+max_pixels={self.options.max_pixels}") \
            + ("+blank_images" if self.options.blank_images else "")
        if self.family is not None:
            self.model_id += f"+{self.family.version}"
        self.processor = self._load_processor()
        self.chat_template = self.family.prompt_format() if self.family is not None \
            else _chat_template_of(self.processor, self.path)
        self._batch_size = AUTO_BATCH_START if self.options.batch_size == "auto" else self.options.batch_size
        self._model: Any = None  # weights load on the first generate: a fully cached rerun never needs them

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        HFOptions.parse(options)

    @classmethod
    def from_spec(cls, spec: str, options: Mapping[str, Any]) -> "TransformersBackend":
        return cls(spec, HFOptions.parse(options))

    def info(self) -> dict[str, Any]:
        import torch
        import transformers

        return {
            "backend": "transformers", "model_id": self.model_id, "path": str(self.path),
            "architecture": (self.config.get("architectures") or ["?"])[0],
            "dtype": self.dtype, "device": self.device, "batch_size": self.options.batch_size,
            "max_pixels": self.options.max_pixels, "blank_images": self.options.blank_images,
            "trust_remote_code": self.options.trust_remote_code,
            "chat_template_sha256": hashlib.sha256(self.chat_template.encode()).hexdigest()[:16],
            "transformers_version": transformers.__version__, "torch_version": torch.__version__,
            **({} if self.family is None else {"volume_family": self.family.name,
                                               "volume_input": self.family.version}),
        }

    def close(self) -> None:
        self._model = None
        _free_memory(self.device)

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> list[str]:
        """Batches of ``batch_size``; with "auto", an out-of-memory error halves the batch and retries it."""
        import torch

        if not requests:
            return []
        model = self._load_model()
        if not sampling.greedy:
            torch.manual_seed(sampling.seed)
        generation = self._generation_kwargs(model, sampling)
        texts: list[str] = []
        while len(texts) < len(requests):
            size = min(self._batch_size, len(requests) - len(texts))
            try:
                texts += self._generate_batch(model, requests[len(texts):len(texts) + size], generation)
                continue
            except Exception as exc:  # noqa: BLE001 - only out-of-memory is handled, the rest re-raised
                if not _is_out_of_memory(exc):
                    raise
            # outside the except block, so the traceback's references to the batch's tensors are gone
            self._shrink_batch(size)
        return texts

    def _generate_batch(self, model: Any, requests: Sequence[Request], generation: Mapping[str, Any]) -> list[str]:
        import torch

        if self.family is not None:
            return self.family.generate(model, self.processor, requests, generation)
        for request in requests:
            if request.count_parts("volume"):
                raise HarnessError(f"request {request.request_id} has a volume placeholder, but checkpoint "
                                   f"'{self.path}' ({self.config.get('model_type')}) takes images only; volume "
                                   f"models are those of model_type {', '.join(_volume_model_types())}")
        prompts = [self.processor.apply_chat_template(plain_messages(r.messages), chat_template=self.chat_template,
                                                      tokenize=False, add_generation_prompt=True)
                   for r in requests]
        images = [r.checked_images() for r in requests]
        if self.options.blank_images:
            images = [[_blank(im) for im in ims] for ims in images]
        # The rendered chat template already holds the model's special tokens (a Gemma/Llama template starts with
        # <bos>); letting the tokenizer add its own would double them.
        inputs = self.processor(text=prompts, images=images if any(images) else None, padding=True,
                                padding_side="left", return_tensors="pt", add_special_tokens=False)
        inputs = inputs.to(model.device, dtype=model.dtype)  # casts only the floats (pixels), not the ids
        with torch.inference_mode():
            out = model.generate(**inputs, **generation)
        new_tokens = out[:, inputs["input_ids"].shape[1]:]  # left padding: every prompt ends at the same column
        return self.processor.batch_decode(new_tokens, skip_special_tokens=True)

    def _generation_kwargs(self, model: Any, sampling: Sampling) -> dict[str, Any]:
        """Every knob that changes the tokens, set explicitly so the checkpoint's defaults cannot leak in."""
        tokens = model.generation_config
        tokenizer = getattr(self.processor, "tokenizer", self.processor)  # a volume family's is the tokenizer
        pad = tokens.pad_token_id if tokens.pad_token_id is not None else tokenizer.pad_token_id
        kwargs: dict[str, Any] = dict(
            max_new_tokens=sampling.max_new_tokens, do_sample=not sampling.greedy, num_beams=1,
            repetition_penalty=1.0, eos_token_id=tokens.eos_token_id, pad_token_id=pad,
        )
        if not sampling.greedy:
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        return kwargs

    def _shrink_batch(self, size: int) -> None:
        _free_memory(self.device)
        if self.options.batch_size != "auto" or size == 1:
            hint = "" if size == 1 else "; lower batch_size or use batch_size=auto"
            raise HarnessError(f"out of memory running {self.model_id} on {self.device} at batch size {size}{hint}")
        self._batch_size = size // 2

    def _load_processor(self) -> Any:
        from transformers import AutoProcessor

        if self.family is not None:
            if self.options.max_pixels is not None:
                raise HarnessError(f"max_pixels caps images; checkpoint '{self.path}' "
                                   f"({self.config.get('model_type')}) takes a volume")
            return self.family.load_processor(self.options.trust_remote_code)
        try:
            processor = AutoProcessor.from_pretrained(self.path, trust_remote_code=self.options.trust_remote_code)
        except Exception as exc:  # noqa: BLE001 - transformers raises many types for a bad directory
            raise HarnessError(f"could not load the processor of checkpoint '{self.path}': {_first_line(exc)}"
                               ) from exc
        if self.options.max_pixels is not None:
            _cap_pixels(processor, self.options.max_pixels, self.path)
        return processor

    def _load_model(self) -> Any:
        if self._model is None and self.family is not None:
            self._model = self.family.load_model(self.dtype, self.device, self.options.trust_remote_code)
        if self._model is None:
            import torch
            from transformers import AutoModelForImageTextToText

            try:
                model = AutoModelForImageTextToText.from_pretrained(
                    self.path, dtype=getattr(torch, self.dtype), device_map=self.device,
                    trust_remote_code=self.options.trust_remote_code)
            except Exception as exc:  # noqa: BLE001 - as above
                raise HarnessError(f"could not load the model in checkpoint '{self.path}': {_first_line(exc)}"
                                   ) from exc
            self._model = model.eval()
        return self._model


def checkpoint_fingerprint(path: Path, length: int = 12) -> str:
    """Short hash of the files that decide a checkpoint's outputs, the same wherever the directory is copied.

    Small files (configs, tokenizer, chat template, remote code) are hashed whole; large ones (weights) by size
    and three 1 MiB samples (head, middle, tail). Why not mtimes: a copied run directory would miss its cache.
    Why not whole weights: tens of GB at every start. A safetensors head holds every tensor's name, shape and
    offset plus the first tensor's values, so retrained weights change the hash.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
        if file.suffix == ".md":
            continue
        size = file.stat().st_size
        digest.update(f"{file.name}\0{size}\0".encode())
        with file.open("rb") as fh:
            if size <= FULL_HASH_LIMIT:
                digest.update(fh.read())
                continue
            for offset in (0, size // 2, size - SAMPLE_BYTES):
                fh.seek(offset)
                digest.update(fh.read(SAMPLE_BYTES))
    return digest.hexdigest()[:length]


def _read_config(path: Path) -> dict[str, Any]:
    """config.json, after the checks that tell a user in one line why a directory is not a checkpoint."""
    if not path.exists():
        raise HarnessError(f"model checkpoint '{path}' does not exist")
    if not path.is_dir():
        raise HarnessError(f"model checkpoint '{path}' is not a directory")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise HarnessError(f"'{path}' is not a Hugging Face checkpoint: it has no config.json")
    try:
        config = json.loads(config_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"'{config_file}' is not valid JSON: {exc}") from exc
    if not isinstance(config, dict) or "model_type" not in config:
        raise HarnessError(f"'{config_file}' is not a transformers config: it has no model_type")
    if not any(any(path.glob(pattern)) for pattern in WEIGHT_PATTERNS):
        raise HarnessError(f"'{path}' has a config.json but no weights ({', '.join(WEIGHT_PATTERNS)})")
    return config


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise HarnessError(f"device '{device}' was asked for but torch sees no CUDA device")
    return device


def _resolve_dtype(dtype: str, device: str, config: Mapping[str, Any]) -> str:
    """"auto" is the checkpoint's dtype on CUDA and float32 on CPU, where half precision is slow or missing."""
    if dtype != "auto":
        return dtype
    if device == "cpu":
        return "float32"
    import torch

    saved = config.get("dtype") or config.get("torch_dtype") or (config.get("text_config") or {}).get("dtype")
    if saved not in DTYPES[1:]:
        return "float32"
    if saved == "bfloat16" and not torch.cuda.is_bf16_supported():
        return "float16"
    return saved


def _chat_template_of(processor: Any, path: Path) -> str:
    """The template ``apply_chat_template`` will use; refusing a checkpoint without one, whose prompts would
    silently lack the chat markup the model was trained on."""
    template = getattr(processor, "chat_template", None)
    if template is None:
        template = getattr(getattr(processor, "tokenizer", None), "chat_template", None)
    if isinstance(template, dict):  # several named templates: the default one is what chat prompts use
        template = template.get("default")
    if not isinstance(template, str) or not template.strip():
        raise HarnessError(f"checkpoint '{path}' has no chat template (chat_template.jinja or in "
                           f"tokenizer_config.json); the harness will not guess the prompt format")
    return template


def _cap_pixels(processor: Any, max_pixels: int, path: Path) -> None:
    """Set the pixel budget of each image on processors that resize to one (Qwen-VL style: ``size`` holds
    pixel counts and the image becomes merge_size-patch tokens). Elsewhere ``longest_edge`` is a side length,
    so max_pixels would mean something else: refuse rather than guess."""
    images = getattr(processor, "image_processor", None)
    size = getattr(images, "size", None)
    if not (hasattr(images, "merge_size") and hasattr(images, "temporal_patch_size") and size
            and "longest_edge" in size and "shortest_edge" in size):
        raise HarnessError(f"max_pixels is supported for Qwen-VL-style image processors only, not "
                           f"{type(images).__name__} of checkpoint '{path}'")
    images.size = {**dict(size), "longest_edge": max_pixels,
                   "shortest_edge": min(size["shortest_edge"], max_pixels)}


def _blank(image: Any) -> Any:
    """A uniform mid-grey image of ``image``'s size and mode."""
    from PIL import Image

    return Image.new(image.mode, image.size, 128 if image.mode in ("L", "P") else (128,) * len(image.getbands()))


def _volume_model_types() -> list[str]:
    from harness.registry import VOLUME_MODELS

    return VOLUME_MODELS.names()


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def _free_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

