"""Sets written by ``harness data make``: a ``cases.jsonl`` manifest of case records beside their files.

The one reader of them for every task (paths made absolute, the hash over the manifest's lines, so a set has
the same ``data_hash`` whichever way it is loaded); ``harness.synthetic.build_set`` writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import DataError
from harness.loaders.base import BadRecords
from harness.schema import Case, case_from_dict, stable_hash

MANIFEST = "cases.jsonl"


def is_manifest_dir(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def manifest_dir(path: Path) -> Path | None:
    """The set at ``path``: ``path`` itself, or the one set folder ``harness data make PATH`` wrote inside it
    (``PATH/ct_tumor-test-<hash>/``); None when there is none. Several sets inside are an error naming them."""
    if is_manifest_dir(path):
        return path
    if not path.is_dir():
        return None
    sets = sorted(p for p in path.iterdir() if is_manifest_dir(p) and not p.name.startswith("."))
    if len(sets) > 1:
        raise DataError(f"{path} holds {len(sets)} sets ({', '.join(p.name for p in sets)}); pass one of them "
                        "to --data")
    return sets[0] if sets else None


def read_manifest(directory: Path, bad: BadRecords | None = None) -> tuple[list[Case], str]:
    """Cases (paths made absolute) and the set's content hash (over the rows read). A malformed row stops the
    read, or with ``bad`` in skip-bad mode is counted there and left out."""
    bad = bad or BadRecords()
    path = directory / MANIFEST
    if not path.exists():
        raise DataError(f"{directory}: no {MANIFEST} (not a set written by `harness data make`)")
    cases, lines = [], []
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                case = case_from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                bad.fail(f"{path}, line {lineno}: malformed case record ({type(exc).__name__}: {exc})")
                continue
            lines.append(line.strip())
            cases.append(Case(**{**case.__dict__,
                                 "image_path": str(directory / case.image_path) if case.image_path else None,
                                 "label_path": str(directory / case.label_path) if case.label_path else None}))
    if not cases:
        detail = f"; {bad.count} malformed row(s) skipped, e.g. {bad.messages[0]}" if bad.messages else ""
        raise DataError(f"{path}: the manifest lists no cases{detail}")
    return cases, stable_hash(lines)
