"""M3D-LaMed's input path: the case's CT volume on its 32 x 256 x 256 grid and its image-token prompt.

M3D-LaMed (BAAI-DCAI/M3D; ``GoodBaiBai88/M3D-LaMed-Phi-3-4B`` and ``-Llama-2-7B`` on the hub) ships its own
modeling code: ``AutoModelForCausalLM`` with ``trust_remote_code``, called as ``model.generate(images, inputs,
...)`` with

- ``images``: a ``batch x 1 x 32 x 256 x 256`` tensor, min-max normalised to [0, 1]. M3D's data preparation
  (``Data/process/m3d_cap_data_prepare.py``) scales the stacked slices to [0, 1], crops to the foreground and
  resizes with MONAI (``CropForeground``, ``Resize(spatial_size=[32, 256, 256])``, area interpolation); we do
  the same with MONAI on the task's windowed volume, after reorienting it to the slice stacks M3D was trained
  on (:data:`ORIENTATION`);
- ``inputs``: the ids of ``"<im_patch>" * N + question``, tokenised with the model's tokenizer (which puts its
  BOS token first), N the projector's output count (256: 8 x 16 x 16 patches pooled 2 x 2 x 2). The model
  writes its N projected volume features over the embeddings at positions 1..N, whatever the tokens there,
  and generates from those embeddings.

Because the features go to fixed positions, prompts are never padded: a batch is split into groups of equal
prompt length (a task's requests of one kind share their text, so they batch together). The request's text
parts are the question, joined in order across messages; the one ``{"type": "volume"}`` part is where the
volume goes, which for M3D-LaMed is always before the text. Requests with images are refused: the model has
no image input (the zoo card's ``volume`` layout turns a task's views into the volume).

The released remote code was written for transformers 4.4x, whose generation API (``past_key_values``,
``prepare_inputs_for_generation``) has since changed. So the harness uses only its modules: it encodes the
volume with the model's own ``encode_images`` (3D ViT + projector), splices the features into the embeddings
exactly as its ``generate`` does, and decodes with the stock transformers class the model extends
(``Phi3ForCausalLM``, ``LlamaForCausalLM``) sharing the model's language model and head. A test checks that
this gives the same tokens as the model's own ``generate(images, inputs)`` on :mod:`baselines.lamed_replica`,
a tiny offline replica of the architecture (``harness model make-tiny --family lamed``); the released weights
themselves have not been run here.
"""

from __future__ import annotations

import math
from pathlib import Path
import weakref
from typing import Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.models.volume import VolumeFamily, resample, volume_of
from harness.schema import Request, VolumeInput

IMAGE_TOKEN = "<im_patch>"
#: M3D-LaMed's volumes are stacks of axial slices as a viewer shows them (M3D-Cap: Radiopaedia's image series,
#: top of the scan first): depth runs superior -> inferior, rows anterior -> posterior, columns patient
#: right -> left. The hub card documents only the shape and the normalisation; this is our reading of its data.
ORIENTATION = "IPL"
DEFAULTS = {"image_channel": 1, "image_size": [32, 256, 256], "patch_size": [4, 16, 16],
            "proj_pooling_type": "spatial", "proj_pooling_size": 2}


class LamedFamily(VolumeFamily):
    """M3D-LaMed (``lamed_phi3``, ``lamed_llama``): one volume and a question per request."""

    name = "m3d_lamed"
    version = "m3d-lamed-input/1"

    def __init__(self, path: Path, config: Mapping[str, Any]):
        super().__init__(path, config)
        settings = {k: config.get(k, v) for k, v in DEFAULTS.items()}
        self.channels = int(settings["image_channel"])
        self.image_size = tuple(int(s) for s in settings["image_size"])
        self.patch_size = tuple(int(s) for s in settings["patch_size"])
        if len(self.image_size) != 3 or len(self.patch_size) != 3:
            raise HarnessError(f"checkpoint '{path}': image_size and patch_size must be depth, height, width, not "
                               f"{list(self.image_size)} and {list(self.patch_size)}")
        self.image_tokens = _projector_outputs(self.image_size, self.patch_size, str(settings["proj_pooling_type"]),
                                               int(settings["proj_pooling_size"]))

    # -- loading --------------------------------------------------------------------------------------------
    def load_processor(self, trust_remote_code: bool) -> Any:
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(self.path, trust_remote_code=trust_remote_code)
        except Exception as exc:  # noqa: BLE001 - transformers raises many types for a bad directory
            raise HarnessError(f"could not load the tokenizer of checkpoint '{self.path}': {_first_line(exc)}"
                               ) from exc
        if IMAGE_TOKEN not in tokenizer.get_vocab():
            raise HarnessError(f"checkpoint '{self.path}': its tokenizer has no {IMAGE_TOKEN} token, so it is not an "
                               "M3D-LaMed checkpoint")
        return tokenizer

    def load_model(self, dtype: str, device: str, trust_remote_code: bool) -> Any:
        import torch
        from transformers import AutoModelForCausalLM

        if not trust_remote_code and self.config.get("auto_map"):
            raise HarnessError(f"checkpoint '{self.path}' ({self.config.get('model_type')}) runs its own model code: "
                               "pass trust_remote_code=true (the zoo card sets it) after reading that code")
        try:
            model = AutoModelForCausalLM.from_pretrained(self.path, dtype=getattr(torch, dtype), device_map=device,
                                                         trust_remote_code=trust_remote_code)
        except Exception as exc:  # noqa: BLE001 - as above
            raise HarnessError(f"could not load the model in checkpoint '{self.path}': {_first_line(exc)}") from exc
        return model.eval()

    def prompt_format(self) -> str:
        return (f"{IMAGE_TOKEN} x {self.image_tokens} + text parts joined (spaces within a message, newlines "
                f"between messages); volume {self.channels} x {' x '.join(map(str, self.image_size))} {ORIENTATION}, "
                "min-max [0, 1], foreground crop, area resize")

    # -- inputs ---------------------------------------------------------------------------------------------
    def prompt(self, request: Request) -> str:
        """``<im_patch>`` x N, then the request's text."""
        images = request.count_parts("image")
        if images:
            raise HarnessError(f"M3D-LaMed takes one volume and no images; request {request.request_id} has {images} "
                               "image placeholder(s) (serve it through its zoo card, whose volume layout turns "
                               "the task's views into the volume)")
        if request.count_parts("volume") != 1:
            volume_of(request, "M3D-LaMed")  # raises the one-line error
        texts = []
        for message in request.messages:
            content = message["content"]
            text = content if isinstance(content, str) else " ".join(
                part["text"] for part in content if part.get("type") == "text")
            if text.strip():
                texts.append(text.strip())
        return IMAGE_TOKEN * self.image_tokens + "\n".join(texts)

    def preprocess(self, volume: VolumeInput) -> Any:
        """The volume as M3D-LaMed's ``channels x 32 x 256 x 256`` array in [0, 1]."""
        if volume.shape[0] != self.channels:
            raise HarnessError(f"M3D-LaMed takes {self.channels}-channel volumes, not {volume.shape[0]} channels")
        return resample(volume, ORIENTATION, self.image_size, crop_foreground=True, mode="area")

    # -- generation -----------------------------------------------------------------------------------------
    def generate(self, model: Any, processor: Any, requests: Sequence[Request],
                 generation: Mapping[str, Any]) -> list[str]:
        import numpy as np
        import torch

        image_id = processor.convert_tokens_to_ids(IMAGE_TOKEN)
        encoded = []
        for request in requests:
            ids = processor(self.prompt(request), return_tensors="pt")["input_ids"][0]
            found = int((ids == image_id).sum())
            if found != self.image_tokens:
                raise HarnessError(f"request {request.request_id}: the prompt encodes to {found} {IMAGE_TOKEN} "
                                   f"token(s), not {self.image_tokens} (the text must not contain {IMAGE_TOKEN})")
            encoded.append(ids)
        groups: dict[int, list[int]] = {}
        for i, ids in enumerate(encoded):
            groups.setdefault(len(ids), []).append(i)
        texts: list[str] = [""] * len(requests)
        for indices in groups.values():
            ids = torch.stack([encoded[i] for i in indices]).to(model.device)
            volumes = np.stack([self.preprocess(volume_of(requests[i], "M3D-LaMed")) for i in indices])
            images = torch.from_numpy(volumes).to(model.device, dtype=model.dtype)
            with torch.inference_mode():
                embeds = spliced_embeddings(model, ids, images)
                out = decoder(model).generate(inputs_embeds=embeds, attention_mask=torch.ones_like(ids),
                                              **generation)  # only the new tokens: no ids were given
            for i, text in zip(indices, processor.batch_decode(out, skip_special_tokens=True)):
                texts[i] = text
        return texts


def spliced_embeddings(model: Any, ids: Any, images: Any) -> Any:
    """The prompt's token embeddings with the model's projected volume features written over positions 1..N,
    as M3D-LaMed's ``prepare_inputs_for_multimodal`` does."""
    import torch

    embeds = model.get_model().embed_tokens(ids)
    features = model.encode_images(images).to(embeds.dtype)
    return torch.cat((embeds[:, :1], features, embeds[:, features.shape[1] + 1:]), dim=1)


_DECODERS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def decoder(model: Any) -> Any:
    """The stock transformers causal LM that M3D-LaMed's remote class extends (``Phi3ForCausalLM``,
    ``LlamaForCausalLM``), sharing the model's language model, head and generation config: today's generate
    loop, independent of the remote code's overrides. Built on the meta device (no weights of its own) and kept
    while the model lives."""
    if model not in _DECODERS:
        import torch

        stock = next((c for c in type(model).__mro__ if c.__module__.startswith("transformers.models.")
                      and c.__name__.endswith("ForCausalLM")), None)
        if stock is None:
            raise HarnessError(f"{type(model).__name__} extends no transformers *ForCausalLM class; the harness "
                               "cannot decode it")
        with torch.device("meta"):
            lm = stock(model.config)
        lm.model, lm.lm_head, lm.generation_config = model.get_model(), model.lm_head, model.generation_config
        _DECODERS[model] = lm.eval()
    return _DECODERS[model]


def _projector_outputs(image_size: Sequence[int], patch_size: Sequence[int], pooling: str, size: int) -> int:
    """Image tokens per volume: the ViT's patch grid, average-pooled ``size`` per axis (``spatial``) or
    ``size``^3 patches at a time in sequence order (``sequence``)."""
    grid = [i // p for i, p in zip(image_size, patch_size)]
    if pooling == "spatial":
        return math.prod(n // size for n in grid)
    if pooling == "sequence":
        return math.prod(grid) // size ** 3
    raise HarnessError(f"unknown M3D-LaMed proj_pooling_type '{pooling}' (known: spatial, sequence)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
