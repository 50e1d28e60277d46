"""Writing a synthetic set once, atomically, into a cache directory named by what identifies it.

Each task supplies a picklable function that writes one case's files into a directory and returns its
manifest record; this module runs it over all cases (in worker processes when there are many), writes
``cases.jsonl`` and renames the finished directory into place, so a crashed or concurrent build never leaves a
half-written set where a reader would find it.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

from harness.fileio import atomic_directory
from harness.loaders.manifest import MANIFEST
from harness.schema import stable_hash


def build_set(target: Path, build_case: Callable[[Any], dict[str, Any]], jobs: Sequence[Any],
              subdirs: Sequence[str] = ("images",), workers: int | None = None, chunksize: int = 4) -> Path:
    """``target`` with every case of ``jobs`` written; returns at once if it is already complete.

    ``build_case(job)`` receives each job with the building directory appended as its last element."""
    if (target / MANIFEST).exists():
        return target
    with atomic_directory(target) as tmp:
        for sub in subdirs:
            (tmp / sub).mkdir()
        full_jobs = [(*job, str(tmp)) for job in jobs]
        workers = workers or min(4, os.cpu_count() or 1)
        if workers > 1 and len(full_jobs) >= 2 * chunksize:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                rows = list(pool.map(build_case, full_jobs, chunksize=chunksize))
        else:
            rows = [build_case(j) for j in full_jobs]
        with open(tmp / MANIFEST, "w") as fh:
            for row in rows:
                fh.write(json.dumps(row, sort_keys=True) + "\n")
    return target


def build_phantom_set(root: Path, prefix: str, generator: str, build_case: Callable[[Any], dict[str, Any]],
                      split: str, n_cases: int, seed: int, config: Any, subdirs: Sequence[str] = ("images",),
                      workers: int | None = None, chunksize: int = 4) -> Path:
    """A set of ``n_cases`` phantoms (case ``i`` seeded ``seed + i``) under ``root/PREFIX-SPLIT-ID``; ``build_case``
    gets ``(split, i, seed + i, config, directory)``. The ID hashes the generator version, split, size, seed and
    phantom config (``config.to_dict()``): whatever changes a voxel or a pixel names another set."""
    set_id = stable_hash({"generator": generator, "split": split, "n": n_cases, "seed": seed,
                          "phantom": config.to_dict()}, length=12)
    jobs = [(split, i, seed + i, config) for i in range(n_cases)]
    return build_set(root / f"{prefix}-{split}-{set_id}", build_case, jobs, subdirs=subdirs, workers=workers,
                     chunksize=chunksize)
