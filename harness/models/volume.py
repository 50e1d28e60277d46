"""Volume input for the transformers backend: model families that read a whole scan instead of images.

A request carries its scan as a lazily loaded :class:`~harness.schema.VolumeInput` (``Request.load_volume``) and
says where the model sees it with a ``{"type": "volume"}`` message part. Image-text-to-text checkpoints refuse
such a part; a checkpoint whose config ``model_type`` is registered in the ``harness.volume_models``
entry-point group (:data:`~harness.registry.VOLUME_MODELS`; M3D-LaMed's ``lamed_phi3`` and ``lamed_llama``) is
run by that :class:`VolumeFamily` instead: it loads the tokenizer and model its own way, resamples the volume
to its input grid and builds its own prompt. The backend keeps everything else (options, device and dtype,
batch size and out-of-memory halving, the model id and the decoding knobs), so a volume model is cached,
resumed and compared like any other.

torch, transformers and MONAI are imported inside functions: importing this module stays cheap.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import HarnessError
from harness.schema import AXIS_CODES, Request, VolumeInput


class VolumeFamily(ABC):
    """How the transformers backend runs one family of volume-input checkpoints.

    Built with the checkpoint directory and its parsed ``config.json``; the backend calls ``load_processor``
    at once (a fully cached rerun never loads weights) and ``load_model`` on the first batch.
    """

    #: short name, in the backend's ``info()``
    name: str = "volume"
    #: version of the family's input path (resampling, prompt format): part of the model id, so changing how a
    #: volume is prepared never reuses predictions made the old way
    version: str = "volume/1"

    def __init__(self, path: Path, config: Mapping[str, Any]):
        self.path = Path(path)
        self.config = dict(config)

    @abstractmethod
    def load_processor(self, trust_remote_code: bool) -> Any:
        """The tokenizer (or processor) the prompts are encoded with."""

    @abstractmethod
    def load_model(self, dtype: str, device: str, trust_remote_code: bool) -> Any:
        """The model, in eval mode, on ``device`` in ``dtype`` (a torch dtype's name)."""

    @abstractmethod
    def prompt_format(self) -> str:
        """A text that pins how prompts are built (hashed into ``info()`` as a chat template is)."""

    @abstractmethod
    def generate(self, model: Any, processor: Any, requests: Sequence[Request],
                 generation: Mapping[str, Any]) -> list[str]:
        """One completion per request, in order; ``generation`` holds the backend's decoding knobs."""


def volume_family(path: Path, config: Mapping[str, Any]) -> VolumeFamily | None:
    """The registered volume family of a checkpoint's ``model_type``, or None for image-text checkpoints."""
    from harness.registry import VOLUME_MODELS

    model_type = config.get("model_type")
    if not isinstance(model_type, str) or model_type not in VOLUME_MODELS.names():
        return None
    return VOLUME_MODELS.get(model_type)(Path(path), config)


def volume_of(request: Request, owner: str) -> VolumeInput:
    """The request's one volume, checked against its placeholders; ``owner`` (the model) goes into errors."""
    wanted = request.count_parts("volume")
    if wanted != 1:
        raise HarnessError(f"{owner} takes exactly one volume per request; request {request.request_id} has "
                           f"{wanted} volume placeholder(s)")
    if request.load_volume is None:
        raise HarnessError(f"request {request.request_id} has a volume placeholder but no volume "
                           f"(its task gave no load_volume)")
    volume = request.load_volume()
    if not isinstance(volume, VolumeInput):
        raise HarnessError(f"request {request.request_id}: load_volume() gave {type(volume).__name__}, "
                           f"not a VolumeInput")
    return volume


def affine_of(orientation: str, spacing: Sequence[float]) -> Any:
    """The voxel -> RAS mm affine of an array whose axes run towards ``orientation``'s codes."""
    import numpy as np

    affine = np.eye(4)
    affine[:3, :3] = 0.0
    for axis, (code, size) in enumerate(zip(orientation, spacing)):
        world = next(i for i, pair in enumerate(AXIS_CODES) if code in pair)
        affine[world, axis] = size if code == AXIS_CODES[world][1] else -size
    return affine


def resample(volume: VolumeInput, orientation: str, size: Sequence[int], crop_foreground: bool = False,
             mode: str = "area") -> Any:
    """``volume`` on a model's input grid, with MONAI: reoriented so its axes run towards ``orientation``,
    min-max scaled to [0, 1], optionally cropped to its foreground (voxels above 0 after scaling), and resized
    to ``size`` (depth, height, width). Returns a float32 numpy array (channels, *size)."""
    import numpy as np
    import torch
    from monai.data import MetaTensor
    from monai.transforms import Compose, CropForeground, Orientation, Resize, ScaleIntensity

    array = np.ascontiguousarray(volume.array, dtype=np.float32)  # reads a memory-mapped array once, here
    image = MetaTensor(torch.from_numpy(array), affine=torch.as_tensor(affine_of(volume.orientation,
                                                                                 volume.spacing)))
    steps: list[Any] = [Orientation(axcodes=orientation, labels=AXIS_CODES), ScaleIntensity(minv=0.0, maxv=1.0)]
    if crop_foreground:
        steps.append(CropForeground(allow_smaller=True))
    steps.append(Resize(spatial_size=tuple(int(s) for s in size), mode=mode))
    out = Compose(steps)(image)
    return np.asarray(out.as_tensor() if isinstance(out, MetaTensor) else out, dtype=np.float32)
