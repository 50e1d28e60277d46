"""Loaders for the public datasets users already have on disk, one module per dataset family.

``load_dataset(path, task)`` picks the loader from the layout under ``path`` (or takes ``dataset=NAME``), reads
the dataset's own index files in their published layout and columns, and returns the same ``Dataset`` of
``Case`` records the synthetic sets give. Nothing is downloaded; the loaders only read.

CT (task ``ct_tumor``): ``msd`` (Medical Segmentation Decathlon, ``dataset.json``), ``kits`` (KiTS19/21/23 case
folders), ``dicom`` (a folder of DICOM series), ``ct_rate`` (CT-RATE volumes + reports CSV). CXR: ``iu_xray``,
``mimic_cxr`` (MIMIC-CXR-JPG) and ``chexpert_plus`` (task ``cxr_report``), ``ms_cxr`` (task ``cxr_grounding``).

Where a dataset has masks but no reports (MSD, KiTS) the reference findings are written from the masks (organ,
side, count, size), as the phantoms do; where it has reports but no masks, cases have ``label_path=None`` and the
mask-based metrics report "not run: no masks".
"""

from __future__ import annotations

import importlib
from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.loaders.base import BadRecords, Loader
from harness.paths import default_cache_dir
from harness.schema import Dataset, case_to_dict, stable_hash

#: name -> "module:Class", imported only when used; the order is the detection order
LOADERS: dict[str, str] = {
    "ms_cxr": "harness.loaders.ms_cxr:MSCXRLoader",
    "chexpert_plus": "harness.loaders.chexpert_plus:CheXpertPlusLoader",
    "mimic_cxr": "harness.loaders.mimic_cxr:MIMICCXRLoader",
    "iu_xray": "harness.loaders.iu_xray:IUXrayLoader",
    "ct_rate": "harness.loaders.ct_rate:CTRateLoader",
    "msd": "harness.loaders.msd:MSDLoader",
    "kits": "harness.loaders.kits:KiTSLoader",
    "dicom": "harness.loaders.dicom:DicomSeriesLoader",
}


def dataset_names() -> list[str]:
    return list(LOADERS)


def get_loader(name: str) -> type[Loader]:
    if name not in LOADERS:
        raise HarnessError(f"unknown dataset '{name}' (datasets: {', '.join(LOADERS)})")
    module, attr = LOADERS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def detect_dataset(path: Path, task: str | None = None) -> str:
    """The name of the dataset laid out under ``path``; with ``task``, only loaders serving that task compete."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    hits, other = [], []
    for name in LOADERS:
        loader = get_loader(name)
        if loader.detect(path):
            (hits if task is None or task in loader.tasks else other).append(name)
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise HarnessError(f"{path} looks like several datasets ({', '.join(hits)}); name one with --dataset")
    if other:
        served = {n: get_loader(n).tasks for n in other}
        raise HarnessError(f"{path} looks like {', '.join(other)}, which serves task(s) "
                           f"{', '.join(sorted({t for ts in served.values() for t in ts}))}, not {task}")
    raise HarnessError(f"{path}: no known dataset layout found (datasets: {', '.join(LOADERS)}); name one with "
                       "--dataset, or point --data at the dataset's top folder")


def load_dataset(path: str | Path, task, dataset: str | None = None, skip_bad: bool = False,
                 split: str = "test", cache_dir: str | Path | None = None, limit: int | None = None) -> Dataset:
    """The cases of a public dataset on disk for ``task`` (a task name or a Task).

    ``dataset`` overrides the layout detection; ``skip_bad`` skips malformed records (counted in
    ``Dataset.info["skipped"]``, first messages in ``info["skipped_examples"]``) instead of stopping at the first;
    ``cache_dir`` holds what loaders derive once (masks' findings, DICOM series converted to NIfTI); ``limit``
    keeps the first N cases and spares the loader the work for the others.
    """
    task_name = task if isinstance(task, str) else task.name
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    name = dataset or detect_dataset(path, task_name)
    loader_cls = get_loader(name)
    if task_name not in loader_cls.tasks:
        raise HarnessError(f"dataset '{name}' serves task(s) {', '.join(loader_cls.tasks)}, not {task_name}")
    bad = BadRecords(skip=skip_bad)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    if limit is not None and limit < 1:
        raise HarnessError(f"limit must be at least 1, got {limit}")
    cases, info = loader_cls().load(path, task_name, split, bad, cache / "loaders", limit=limit)
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
           "load_dataset"]
