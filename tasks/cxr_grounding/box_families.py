"""The box conventions of model families, each with the literal syntax the family emits and the grid its numbers
live on; every one is parsed to and written from normalised ``(x1, y1, x2, y2)`` in [0, 1].

=============  ======================================================  ============================================
format         what the model writes                                   the numbers
=============  ======================================================  ============================================
``qwen2_5_vl`` ``[{"bbox_2d": [x1, y1, x2, y2], "label": "..."}]``     pixels of the image *after* the processor's
                                                                       ``smart_resize`` (a 512 px image is seen at
                                                                       504 px): Qwen2.5-VL's absolute coordinates
``qwen3_vl``   the same JSON                                           0-1000 of the image (Qwen3-VL's relative
                                                                       coordinates)
``internvl``   ``<ref>phrase</ref><box>[[x1, y1, x2, y2]]</box>``      0-1000 of the image; several boxes are
                                                                       ``[[...], [...]]`` in one ``<box>``
``florence2``  ``phrase<loc_x1><loc_y1><loc_x2><loc_y2>``              1000 bins; a bin decodes to its centre, as
                                                                       the Florence-2 processor's ``dequantize``
``paligemma``  ``<locY1><locX1><locY2><locX2> phrase`` (`` ; `` apart)  1024 bins, **y before x**; ``loc / 1024`` as
                                                                       in Google's PaliGemma detection parser
=============  ======================================================  ============================================

MAIRA-2's ``<box><xN><yN><xN><yN></box>`` (100 bins on its centre crop) and the plain conventions (``norm1``,
``norm1000``, ``pixel``) stay in :mod:`tasks.cxr_grounding.boxes`, which dispatches here.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Callable, Sequence

NormBox = tuple[float, float, float, float]
Raw = tuple[float, float, float, float]

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
BBOX_2D_RE = re.compile(rf"\"bbox_2d\"\s*:\s*\[\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*\]")
INTERNVL_BOX_RE = re.compile(r"<box>\s*(\[\s*\[.*?\]\s*\])\s*</box>", re.S)
QUAD_RE = re.compile(rf"\[\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*\]")
FLORENCE_RE = re.compile(r"<loc_(\d+)>\s*<loc_(\d+)>\s*<loc_(\d+)>\s*<loc_(\d+)>")
PALIGEMMA_RE = re.compile(r"<loc(\d{4})>\s*<loc(\d{4})>\s*<loc(\d{4})>\s*<loc(\d{4})>")

FLORENCE_BINS = 1000
PALIGEMMA_BINS = 1024


@dataclass(frozen=True)
class QwenResize:
    """Qwen2.5-VL's image processor: sides rounded to multiples of ``factor`` (patch 14 x merge 2), the pixel
    count kept within [min_pixels, max_pixels]; defaults are the checkpoints' ``preprocessor_config.json``."""

    factor: int = 28
    min_pixels: int = 56 * 56
    max_pixels: int = 12845056

    def grid(self, width: float, height: float) -> tuple[int, int]:
        """(width, height) of the image the model sees: transformers' ``qwen2_vl.smart_resize``, same rounding."""
        f = self.factor
        h_bar = max(f, round(height / f) * f)
        w_bar = max(f, round(width / f) * f)
        if h_bar * w_bar > self.max_pixels:
            beta = math.sqrt((height * width) / self.max_pixels)
            h_bar = max(f, math.floor(height / beta / f) * f)
            w_bar = max(f, math.floor(width / beta / f) * f)
        elif h_bar * w_bar < self.min_pixels:
            beta = math.sqrt(self.min_pixels / (height * width))
            h_bar = math.ceil(height * beta / f) * f
            w_bar = math.ceil(width * beta / f) * f
        return w_bar, h_bar


@dataclass(frozen=True)
class Family:
    """One family's box syntax: ``find`` pulls the raw numbers out of an answer (None: the syntax is absent),
    ``to_norm`` / ``from_norm`` map one box between the family's grid and [0, 1], ``write`` renders an answer."""

    name: str
    find: Callable[[str], list[Raw] | None]
    to_norm: Callable[[Raw, float, float, QwenResize], NormBox]
    from_norm: Callable[[NormBox, float, float, QwenResize], Raw]
    write: Callable[[list[Raw], str], str]


# -- finding the numbers ------------------------------------------------------------------------------------
def _find_bbox_2d(text: str) -> list[Raw] | None:
    found = BBOX_2D_RE.findall(text)
    return [tuple(float(v) for v in m) for m in found] or None  # type: ignore[misc]


def _find_internvl(text: str) -> list[Raw] | None:
    groups = INTERNVL_BOX_RE.findall(text)
    if not groups:
        return None
    return [tuple(float(v) for v in m) for g in groups for m in QUAD_RE.findall(g)] or None  # type: ignore[misc]


def _finder(pattern: re.Pattern) -> Callable[[str], list[Raw] | None]:
    return lambda text: [tuple(float(v) for v in m) for m in pattern.findall(text)] or None  # type: ignore[misc]


# -- grids ----------------------------------------------------------------------------------------------------
def _per_mille(box: Raw, *_: object) -> NormBox:
    return tuple(v / 1000 for v in box)  # type: ignore[return-value]


def _to_per_mille(box: NormBox, *_: object) -> Raw:
    return tuple(float(round(c * 1000)) for c in box)  # type: ignore[return-value]


def _qwen_pixels(box: Raw, width: float, height: float, resize: QwenResize) -> NormBox:
    gw, gh = resize.grid(width, height)
    return box[0] / gw, box[1] / gh, box[2] / gw, box[3] / gh


def _to_qwen_pixels(box: NormBox, width: float, height: float, resize: QwenResize) -> Raw:
    gw, gh = resize.grid(width, height)
    return float(round(box[0] * gw)), float(round(box[1] * gh)), float(round(box[2] * gw)), float(round(box[3] * gh))


def _florence(box: Raw, *_: object) -> NormBox:
    return tuple((v + 0.5) / FLORENCE_BINS for v in box)  # type: ignore[return-value]


def _to_florence(box: NormBox, *_: object) -> Raw:
    return tuple(float(min(FLORENCE_BINS - 1, max(0, math.floor(c * FLORENCE_BINS)))) for c in box)  # type: ignore


def _paligemma(box: Raw, *_: object) -> NormBox:
    y1, x1, y2, x2 = (v / PALIGEMMA_BINS for v in box)  # PaliGemma writes y before x
    return x1, y1, x2, y2


def _to_paligemma(box: NormBox, *_: object) -> Raw:
    x1, y1, x2, y2 = (float(min(PALIGEMMA_BINS - 1, max(0, math.floor(c * PALIGEMMA_BINS)))) for c in box)
    return y1, x1, y2, x2


# -- writing answers as the family does ---------------------------------------------------------------------
def _write_bbox_2d(rows: list[Raw], phrase: str) -> str:
    items = ",\n".join("\t" + json.dumps({"bbox_2d": [int(v) for v in r], "label": phrase}) for r in rows)
    return f"```json\n[\n{items}\n]\n```"


def _write_internvl(rows: list[Raw], phrase: str) -> str:
    return f"<ref>{phrase}</ref><box>{json.dumps([[int(v) for v in r] for r in rows])}</box>"


def _write_florence(rows: list[Raw], phrase: str) -> str:
    return phrase + "".join(f"<loc_{int(v)}>" for r in rows for v in r)


def _write_paligemma(rows: list[Raw], phrase: str) -> str:
    return " ; ".join("".join(f"<loc{int(v):04d}>" for v in r) + f" {phrase}" for r in rows)


FAMILIES: dict[str, Family] = {
    "qwen2_5_vl": Family("qwen2_5_vl", _find_bbox_2d, _qwen_pixels, _to_qwen_pixels, _write_bbox_2d),
    "qwen3_vl": Family("qwen3_vl", _find_bbox_2d, _per_mille, _to_per_mille, _write_bbox_2d),
    "internvl": Family("internvl", _find_internvl, _per_mille, _to_per_mille, _write_internvl),
    "florence2": Family("florence2", _finder(FLORENCE_RE), _florence, _to_florence, _write_florence),
    "paligemma": Family("paligemma", _finder(PALIGEMMA_RE), _paligemma, _to_paligemma, _write_paligemma),
}


def detect(text: str) -> str | None:
    """The family whose unmistakable syntax ``text`` uses (``bbox_2d`` JSON is Qwen's, but which Qwen only the
    declared format can say: the caller decides that); None when no family syntax is there."""
    if FLORENCE_RE.search(text):
        return "florence2"
    if PALIGEMMA_RE.search(text):
        return "paligemma"
    if INTERNVL_BOX_RE.search(text):
        return "internvl"
    return None


def write(name: str, boxes: Sequence[NormBox], width: float, height: float, resize: QwenResize,
          phrase: str) -> str:
    family = FAMILIES[name]
    return family.write([family.from_norm(b, width, height, resize) for b in boxes], phrase)
