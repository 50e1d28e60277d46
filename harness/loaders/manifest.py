"""Sets written by ``harness data make``: a ``cases.jsonl`` manifest of case records beside their files.

The one reader of them for every task (paths made absolute, the hash over the manifest's lines, so a set has
the same ``data_hash`` whichever way it is loaded); ``harness.synthetic.build_set`` writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import DataError
from harness.schema import Case, case_from_dict, stable_hash

MANIFEST = "cases.jsonl"


def is_manifest_dir(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def read_manifest(directory: Path) -> tuple[list[Case], str]:
    """Cases (paths made absolute) and the set's content hash."""
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
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}, line {lineno}: malformed case record ({exc})") from None
            lines.append(line.strip())
            cases.append(Case(**{**case.__dict__,
                                 "image_path": str(directory / case.image_path) if case.image_path else None,
                                 "label_path": str(directory / case.label_path) if case.label_path else None}))
    if not cases:
        raise DataError(f"{path}: the manifest lists no cases")
    return cases, stable_hash(lines)
