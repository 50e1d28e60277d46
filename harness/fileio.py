"""Writing a directory so that readers never see it half-written; reading the shipped JSONL data files."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a fresh directory beside ``target``; on success it is renamed to ``target``, on error removed.

    If another process finished ``target`` meanwhile, ours is discarded: caches built this way are keyed by what
    they contain, so both copies are identical."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        yield tmp
        try:
            os.rename(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def jsonl_with_header(text: str, where: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records of a JSONL text and its ``{"header": {...}}`` line (which split it is, who wrote it), if any.

    A line that is not JSON is a one-line error naming ``where`` and the line."""
    records: list[dict[str, Any]] = []
    header: dict[str, Any] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: line {n}: not JSON ({exc.msg})") from None
        if isinstance(record, dict) and "header" in record:
            header = record["header"]
            continue
        if not isinstance(record, dict):
            raise ValueError(f"{where}: line {n}: not a JSON object")
        record["_line"] = n
        records.append(record)
    return records, header
