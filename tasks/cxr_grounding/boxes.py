"""Box formats the field's models emit, parsed to normalised ``(x1, y1, x2, y2)`` in [0, 1] (and written back).

- ``norm1``: ``[x1, y1, x2, y2]`` as fractions of the image width and height (many instruction-tuned VLMs),
- ``norm1000``: the same on a 0-1000 integer grid (Qwen2-VL, InternVL, CogVLM style); Qwen2-VL's own
  ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>`` is recognised as such,
- ``pixel``: pixel coordinates of the image the model was shown (Qwen2.5-VL's ``"bbox_2d"`` JSON is read so),
- ``maira2``: MAIRA-2's ``<box><xN><yN><xN><yN></box>`` with N one of 100 bins; a bin decodes to its centre,
  ``(N + 0.5) / 100``, on the square the MAIRA-2 processor centre-crops from the image (shortest side), as in
  the MAIRA-2 processor's ``convert_output_to_plaintext_or_grounded_sequence`` and
  ``adjust_box_for_original_image_size`` (we keep sub-pixel precision where that function truncates to ints),
- the families' own conventions (``qwen2_5_vl``, ``qwen3_vl``, ``internvl``, ``florence2``, ``paligemma``), in
  :mod:`tasks.cxr_grounding.box_families`. A family's unmistakable syntax (``<loc_N>``, ``<locNNNN>``,
  ``<box>[[...]]</box>``) is read as that family's whatever was asked; Qwen's ``"bbox_2d"`` JSON is read on the
  declared Qwen's grid (Qwen2.5-VL: pixels of the processor's resized image; Qwen3-VL: 0-1000), else as pixels.

Plain lists of four numbers are ambiguous between the 0-1, 0-1000 and pixel conventions. The rule: all values
within [0, 1] (give or take 0.5, an overshoot that is clipped) -> ``norm1``; otherwise the convention the prompt
asked for when that was 0-1000 or pixels, else ``plain_over_1`` (a task setting, ``norm1000`` by default). The
interpretation used is recorded per answer.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from tasks.cxr_grounding import box_families
from tasks.cxr_grounding.box_families import FAMILIES, QwenResize

NormBox = tuple[float, float, float, float]
FORMATS = ("norm1", "norm1000", "pixel", "maira2", *FAMILIES)
#: formats whose plain [a, b, c, d] lists are on a 0-1000 grid
PER_MILLE = ("norm1000", "qwen3_vl", "internvl")

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
MAIRA_BOX_RE = re.compile(r"<box>\s*<x(\d+)>\s*<y(\d+)>\s*<x(\d+)>\s*<y(\d+)>\s*</box>", re.I)
QWEN2_BOX_RE = re.compile(rf"<\|box_start\|>\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*,\s*\(\s*({_NUM})\s*,\s*"
                          rf"({_NUM})\s*\)\s*<\|box_end\|>")
BBOX_2D_RE = box_families.BBOX_2D_RE
LIST_RE = re.compile(rf"[\[\(]\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*,\s*({_NUM})\s*[\]\)]")
NUM_RE = re.compile(_NUM)
#: plain numbers all within [-0.5, 1.5] are read as 0-1 coordinates that overshoot the image (then clipped)
NORM1_SLACK = 0.5


@dataclass(frozen=True)
class ParsedBoxes:
    boxes: tuple[NormBox, ...]  # empty when nothing could be parsed
    format: str | None  # the convention the numbers were read in
    problems: tuple[str, ...] = ()  # why nothing parsed (then boxes is empty)
    notes: tuple[str, ...] = ()  # repairs made to a parsed answer (swapped corners, clipped)

    @property
    def parsed(self) -> bool:
        return bool(self.boxes)


@dataclass(frozen=True)
class BoxSettings:
    """How answers are asked for and read; part of the task config."""

    format: str = "norm1"
    plain_over_1: str = "norm1000"
    maira2_bins: int = 100
    maira2_square_crop: bool = True
    decimals: int = 4
    #: Qwen2.5-VL's processor settings (its boxes are pixels of the resized image); a mapping from the config
    qwen2_5_vl_resize: QwenResize | Mapping[str, Any] = QwenResize()

    def __post_init__(self) -> None:
        if isinstance(self.qwen2_5_vl_resize, Mapping):
            object.__setattr__(self, "qwen2_5_vl_resize", QwenResize(**self.qwen2_5_vl_resize))


def _crop(width: float, height: float) -> tuple[float, float, float]:
    side = min(width, height)
    return side, (width - side) / 2, (height - side) / 2


def maira2_to_norm(bins: Sequence[int], width: float, height: float, settings: BoxSettings) -> NormBox:
    n = settings.maira2_bins
    x1, y1, x2, y2 = ((b + 0.5) / n for b in bins)
    if not settings.maira2_square_crop or width == height:
        return x1, y1, x2, y2
    side, dx, dy = _crop(width, height)
    return ((x1 * side + dx) / width, (y1 * side + dy) / height, (x2 * side + dx) / width, (y2 * side + dy) / height)


def norm_to_maira2(box: NormBox, width: float, height: float, settings: BoxSettings) -> tuple[int, int, int, int]:
    n = settings.maira2_bins
    x1, y1, x2, y2 = box
    if settings.maira2_square_crop and width != height:
        side, dx, dy = _crop(width, height)
        x1, x2 = ((x * width - dx) / side for x in (x1, x2))
        y1, y2 = ((y * height - dy) / side for y in (y1, y2))
    return tuple(min(n - 1, max(0, math.floor(c * n))) for c in (x1, y1, x2, y2))  # type: ignore[return-value]


def _repair(raw: list[tuple[float, float, float, float]]) -> tuple[tuple[NormBox, ...], tuple[str, ...]]:
    boxes, notes = [], []
    for x1, y1, x2, y2 in raw:
        if x1 > x2 or y1 > y2:
            notes.append("swapped corners")
            x1, x2 = sorted((x1, x2))
            y1, y2 = sorted((y1, y2))
        clipped = tuple(min(1.0, max(0.0, c)) for c in (x1, y1, x2, y2))
        if clipped != (x1, y1, x2, y2):
            notes.append("clipped to the image")
        boxes.append(clipped)
    return tuple(boxes), tuple(dict.fromkeys(notes))


def parse_boxes(text: str, width: float, height: float, settings: BoxSettings = BoxSettings()) -> ParsedBoxes:
    """Every box in ``text``, normalised; ``width``/``height`` are those of the image the model was shown."""
    if not text or not text.strip():
        return ParsedBoxes((), None, ("empty answer",))
    family = box_families.detect(text)
    if family is not None:
        return _family_boxes(FAMILIES[family].find(text) or [], family, width, height, settings)
    if "<box>" in text.lower():
        found = MAIRA_BOX_RE.findall(text)
        if not found:
            return ParsedBoxes((), "maira2", ("a <box> without four <xN><yN> bins",))
        bins = [tuple(int(b) for b in m) for m in found]
        if any(b >= settings.maira2_bins for box in bins for b in box):
            return ParsedBoxes((), "maira2", (f"a bin outside 0..{settings.maira2_bins - 1}",))
        boxes, notes = _repair([maira2_to_norm(b, width, height, settings) for b in bins])
        return ParsedBoxes(boxes, "maira2", (), notes)
    found = QWEN2_BOX_RE.findall(text)
    if found:
        boxes, notes = _repair([tuple(float(v) / 1000 for v in m) for m in found])
        return ParsedBoxes(boxes, "norm1000", (), notes)
    found = BBOX_2D_RE.findall(text)
    if found:
        values = [tuple(float(v) for v in m) for m in found]
        if settings.format in ("qwen2_5_vl", "qwen3_vl"):
            return _family_boxes(values, settings.format, width, height, settings)
        return _scaled(values, "pixel", width, height)
    found = LIST_RE.findall(text)
    if not found:
        numbers = NUM_RE.findall(text)
        if len(numbers) != 4:
            return ParsedBoxes((), None, ("no box found" if len(numbers) < 4 else "numbers but no [x1, y1, x2, y2]",))
        found = [tuple(numbers)]
    values = [tuple(float(v) for v in m) for m in found]
    if all(-NORM1_SLACK <= v <= 1.0 + NORM1_SLACK for box in values for v in box):
        fmt = "norm1"  # on a 0-1000 or pixel grid such a box would be a speck of about one unit
    elif settings.format == "qwen2_5_vl":
        return _family_boxes(values, "qwen2_5_vl", width, height, settings)
    elif settings.format in PER_MILLE:
        fmt = "norm1000"
    elif settings.format == "pixel":
        fmt = settings.format
    else:
        fmt = settings.plain_over_1
    return _scaled(values, fmt, width, height)


#: the largest bin a family's tokens may name (the others' grids are continuous)
MAX_BIN = {"florence2": box_families.FLORENCE_BINS - 1, "paligemma": box_families.PALIGEMMA_BINS - 1}


def _family_boxes(values: list[tuple[float, ...]], name: str, width: float, height: float,
                  settings: BoxSettings) -> ParsedBoxes:
    if not values:
        return ParsedBoxes((), name, (f"{name} syntax without four coordinates",))
    if any(not math.isfinite(v) for box in values for v in box):
        return ParsedBoxes((), name, ("a coordinate is not a finite number",))
    top = MAX_BIN.get(name)
    if top is not None and any(v > top for box in values for v in box):
        return ParsedBoxes((), name, (f"a bin outside 0..{top}",))
    family = FAMILIES[name]
    boxes, notes = _repair([family.to_norm(b, width, height, settings.qwen2_5_vl_resize)  # type: ignore[arg-type]
                            for b in values])
    return ParsedBoxes(boxes, name, (), notes)


def _scaled(values: list[tuple[float, ...]], fmt: str, width: float, height: float) -> ParsedBoxes:
    if any(not math.isfinite(v) for box in values for v in box):
        return ParsedBoxes((), fmt, ("a coordinate is not a finite number",))
    if fmt == "norm1000":
        raw = [tuple(v / 1000 for v in box) for box in values]
    elif fmt == "pixel":
        raw = [(b[0] / width, b[1] / height, b[2] / width, b[3] / height) for b in values]
    else:
        raw = [tuple(box) for box in values]
    boxes, notes = _repair(raw)  # type: ignore[arg-type]
    return ParsedBoxes(boxes, fmt, (), notes)


def format_boxes(boxes: Sequence[NormBox], width: float, height: float, settings: BoxSettings = BoxSettings(),
                 phrase: str = "") -> str:
    """Boxes written in ``settings.format`` (the oracle's and the whole-image baseline's answers)."""
    fmt = settings.format
    if fmt in FAMILIES:
        return box_families.write(fmt, boxes, width, height, settings.qwen2_5_vl_resize, phrase)  # type: ignore
    if fmt == "maira2":
        inner = "".join("<box>" + "".join(f"<{a}{b}>" for a, b in zip("xyxy", norm_to_maira2(box, width, height,
                                                                                           settings))) + "</box>"
                        for box in boxes)
        return f"<obj>{phrase}{inner}</obj>"
    if fmt == "norm1":
        rows = [[round(c, settings.decimals) for c in box] for box in boxes]
    elif fmt == "norm1000":
        rows = [[round(c * 1000) for c in box] for box in boxes]
    elif fmt == "pixel":
        rows = [[round(box[0] * width), round(box[1] * height), round(box[2] * width), round(box[3] * height)]
                for box in boxes]
    else:
        raise ValueError(f"unknown box format '{fmt}' (formats: {', '.join(FORMATS)})")
    return ", ".join(json.dumps(r) for r in rows)
