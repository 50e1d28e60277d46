"""The built-in synthetic chest X-ray set: phantoms written to PNG, a manifest of their truth, a content hash.

As for ``ct_tumor``, a set is identified by its generator version, phantom config, size and seed; it is built
once into the cache directory (atomically) and reused, and its ``data_hash`` is over the manifest, which holds
a digest of every image's pixels. Each case keeps the boxes of its positive findings and a grounding phrase
for each, so ``cxr_grounding`` derives its cases from the same set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import DataError
from harness.imaging import check_image_file
from harness.phantoms.cxr import GENERATOR_VERSION, CXRPhantomConfig, image_digest, make_cxr_phantom
from harness.reports_cxr import finding_phrase, write_cxr_report
from harness.schema import Case, case_to_dict
from harness.synthetic import build_phantom_set


def _build_case(args: tuple[str, int, int, CXRPhantomConfig, str]) -> dict[str, Any]:
    from PIL import Image

    split, index, seed, config, out_dir = args
    case_id = f"cxr-{split}-{index:04d}"
    phantom = make_cxr_phantom(seed, config)
    image_rel = f"images/{case_id}.png"
    Image.fromarray(phantom.image, mode="L").save(os.path.join(out_dir, image_rel))
    rng = np.random.default_rng(seed)
    report = write_cxr_report(phantom.findings, rng)
    boxes = [{"finding": i, "phrase": finding_phrase(g.finding, rng), "boxes": [list(b) for b in g.boxes]}
             for i, g in enumerate(phantom.grounded)]
    height, width = phantom.image.shape
    case = Case(case_id=case_id, task="cxr_report", image_path=image_rel, label_path=None,
                reference_report=report, findings=phantom.findings,
                meta={"seed": seed, "image_size": [width, height],
                      "pixel_spacing_mm": round(phantom.pixel_spacing_mm, 4), "boxes": boxes,
                      "chexpert": phantom.meta["chexpert"],
                      "cardiothoracic_ratio": phantom.meta["cardiothoracic_ratio"],
                      "pixel_digest": image_digest(phantom.image)})
    return case_to_dict(case)


def build_synthetic_set(root: Path, split: str, n_cases: int, seed: int, config: CXRPhantomConfig,
                        workers: int | None = None) -> Path:
    """Write the set under ``root`` (if not there yet) and return its directory."""
    return build_phantom_set(root, "cxr", GENERATOR_VERSION, _build_case, split, n_cases, seed, config,
                             workers=workers, chunksize=8)


def open_cxr(path: str | Path):
    """A radiograph as an 8-bit grayscale PIL image; 16-bit PNGs are min-max scaled. Failures name the file."""
    from PIL import Image, UnidentifiedImageError

    p = check_image_file(path, "image")
    try:
        img = Image.open(p)
        img.load()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise DataError(f"{p}: cannot be read as an image ({type(exc).__name__}: {exc})") from None
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(arr)
        return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), mode="L")
    return img if img.mode == "L" else img.convert("L")


def shown_size(width: int, height: int, image_size: int) -> tuple[int, int]:
    """The size of the image the model sees: longest side ``image_size``, aspect kept."""
    scale = image_size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def load_cxr_image(path: str | Path, image_size: int):
    """The model's view: RGB (VLM processors expect RGB), longest side ``image_size``."""
    from PIL import Image

    img = open_cxr(path)
    size = shown_size(img.width, img.height, image_size)
    if size != img.size:
        img = img.resize(size, Image.BILINEAR)
    return img.convert("RGB")


def read_cases(directory: Path) -> tuple[list[Case], str]:
    """A manifest's cases with absolute paths, and its content hash."""
    from harness.loaders.manifest import read_manifest

    return read_manifest(directory)
