"""Loaders for the public datasets users already have on disk, one module per dataset family.

``load_dataset(path, task)`` picks the loader from the layout under ``path`` (or takes ``dataset=NAME``), reads
the dataset's own index files in their published layout and columns, and returns the same ``Dataset`` of
``Case`` records the synthetic sets give. Nothing is downloaded; the loaders only read.

Loaders name no task: each declares the modality and the record shape it produces (``Loader.modality``,
``Loader.record``) and serves the tasks that declare they read them (``Task.modality``, ``Task.records``).
They are registered under the ``harness.loaders`` entry-point group, so a new dataset layout is a plug-in.
CT studies: ``msd`` (Medical Segmentation Decathlon, ``dataset.json``), ``kits`` (KiTS19/21/23 case folders),
``dicom`` (a folder of DICOM series), ``ct_rate`` (CT-RATE volumes + reports CSV). Chest X-ray studies:
``iu_xray``, ``mimic_cxr`` (MIMIC-CXR-JPG) and ``chexpert_plus``; chest X-ray phrase boxes: ``ms_cxr``.

Where a dataset has masks but no reports (MSD, KiTS) the reference findings are written from the masks (organ,
side, count, size), as the phantoms do; where it has reports but no masks, cases have ``label_path=None`` and the
mask-based metrics report "not run: no masks".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import DataError, HarnessError
from harness.loaders.base import BadRecords, Loader
from harness.paths import default_cache_dir
from harness.registry import LOADERS, TASKS
from harness.schema import Dataset, case_to_dict, stable_hash


def dataset_names() -> list[str]:
    return LOADERS.names()


def get_loader(name: str) -> type[Loader]:
    return LOADERS.get(name)


def task_spec(task: Any) -> Any:
    """A task given by name (its registered class: the data it reads is declared on the class) or as a Task."""
    return TASKS.get(task) if isinstance(task, str) else task


def reads(task: Any) -> str:
    """What a task reads, in words: ``ct study records``."""
    modality, records = getattr(task, "modality", ""), tuple(getattr(task, "records", ()))
    if not modality or not records:
        return "no data set on disk (it declares no modality and records)"
    return f"{modality} {'/'.join(records)} records"


def detect_dataset(path: Path, task: Any = None) -> str:
    """The name of the dataset laid out under ``path``; with ``task`` (a name or a Task), only the loaders serving
    it compete."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    spec = None if task is None else task_spec(task)
    hits, other = [], []
    for name in LOADERS.names():
        loader = get_loader(name)
        if loader.detect(path):
            (hits if spec is None or loader.serves(spec) else other).append(name)
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise HarnessError(f"{path} looks like several datasets ({', '.join(hits)}); name one with --dataset")
    if other:
        gives = sorted({f"{get_loader(n).modality} {get_loader(n).record} records" for n in other})
        raise HarnessError(f"{path} looks like {', '.join(other)}, which gives {', '.join(gives)}; {spec.name} "
                           f"reads {reads(spec)}")
    raise HarnessError(f"{path}: no known dataset layout found (datasets: {', '.join(LOADERS.names())}); name one "
                       "with --dataset, or point --data at the dataset's top folder")


def load_dataset(path: str | Path, task, dataset: str | None = None, skip_bad: bool = False,
                 split: str = "test", cache_dir: str | Path | None = None, limit: int | None = None) -> Dataset:
    """The cases of a public dataset on disk for ``task`` (a task name or a Task).

    ``dataset`` overrides the layout detection; ``skip_bad`` skips malformed records (counted in
    ``Dataset.info["skipped"]``, first messages in ``info["skipped_examples"]``) instead of stopping at the first;
    ``cache_dir`` holds what loaders derive once (masks' findings, DICOM series converted to NIfTI); ``limit``
    keeps the first N cases and spares the loader the work for the others.
    """
    spec = task_spec(task)
    task_name = spec.name
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    name = dataset or detect_dataset(path, spec)
    loader_cls = get_loader(name)
    if not loader_cls.serves(spec):
        raise HarnessError(f"dataset '{name}' gives {loader_cls.modality} {loader_cls.record} records; {task_name} "
                           f"reads {reads(spec)}")
    bad = BadRecords(skip=skip_bad)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    if limit is not None and limit < 1:
        raise HarnessError(f"limit must be at least 1, got {limit}")
    cases, info = loader_cls(task_name).load(path, task_name, split, bad, cache / "loaders", limit=limit)
    cases = cases[:limit] if limit is not None else cases
    if not cases:
        detail = f"; {bad.count} bad record(s) skipped, e.g. {bad.messages[0]}" if bad.messages else ""
        raise DataError(f"{path}: no usable {task_name} case in split '{split}' of {name}{detail}")
    root = path if path.is_dir() else path.parent
    records = []
    for c in cases:
        d = case_to_dict(c)
        for key in ("image_path", "label_path"):  # the hash must not depend on where the data or cache sit
            if d[key]:
                p = Path(d[key])
                d[key] = str(p.relative_to(root)) if p.is_relative_to(root) else p.name
        records.append(d)
    return Dataset(cases=tuple(cases), data_hash=stable_hash(records), source=str(path.resolve()),
                   info={"dataset": name, "split": split, **info, **bad.info()})


def load_data(path: str | Path, task, dataset: str | None = None, skip_bad: bool = False, split: str = "test",
              cache_dir: str | Path | None = None, limit: int | None = None) -> Dataset:
    """What ``--data PATH`` means for any task: a set written by ``harness data make`` (its ``cases.jsonl``),
    else a public dataset on disk through ``load_dataset`` (``dataset`` names its layout)."""
    from harness.loaders.manifest import manifest_dir, read_manifest

    path = Path(path)
    directory = manifest_dir(path) if dataset is None else None
    if directory is not None:
        bad = BadRecords(skip=skip_bad)
        cases, data_hash = read_manifest(directory, bad)
        return Dataset(cases=tuple(cases[:limit] if limit is not None else cases), data_hash=data_hash,
                       source=str(directory.resolve()), info={"dataset": "manifest", **bad.info()})
    return load_dataset(path, task, dataset=dataset, skip_bad=skip_bad, split=split, cache_dir=cache_dir, limit=limit)


__all__ = ["LOADERS", "BadRecords", "Loader", "dataset_names", "detect_dataset", "get_loader", "load_data",
           "load_dataset", "task_spec"]
