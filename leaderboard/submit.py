"""Pack a run directory as a submission: validated against the task, one prediction per request, written under
``leaderboard/submissions/<task>/`` with a file name that cannot leave that folder."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import harness
from harness.errors import HarnessError
from harness.evaluate import RESULTS, RUN_SPEC, RunSpec
from harness.runner import PREDICTIONS, PredictionLog, prediction_key
from leaderboard import DEFAULT_SUBMISSIONS, LEADERBOARD_SPLIT
from leaderboard.rescore import TaskContext, map_predictions
from leaderboard.schema import FORMAT, Submission, load_submission, parse_submission

_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


def _read_json(path: Path) -> Any:
    if not path.exists():
        raise HarnessError(f"{path}: not found; not a finished run directory written by `harness run`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def submission_from_run(run_dir: Path, name: str | None = None, url: str | None = None,
                        organisation: str | None = None, description: str | None = None,
                        cache_dir: Path | None = None) -> Submission:
    """A validated submission from a run directory: every request of the leaderboard split answered once."""
    run_dir = Path(run_dir)
    spec_obj = _read_json(run_dir / RUN_SPEC)
    try:
        spec = RunSpec.from_dict(spec_obj)
    except (TypeError, ValueError) as exc:
        raise HarnessError(f"{run_dir / RUN_SPEC}: not a run spec ({exc})") from None
    results = _read_json(run_dir / RESULTS)
    source = str(run_dir)
    if spec.split != LEADERBOARD_SPLIT:
        raise HarnessError(f"{run_dir / RUN_SPEC}: field 'split': the leaderboard ranks the '{LEADERBOARD_SPLIT}' "
                           f"split, this run is on '{spec.split}'")
    ctx = TaskContext.load(spec.task, cache_dir or (Path(spec.cache_dir) if spec.cache_dir else None))
    for field_name, mine, theirs in (("task_version", results.get("task_version"), ctx.version),
                                     ("data_hash", results.get("data_hash"), ctx.dataset.data_hash)):
        if mine != theirs:
            raise HarnessError(f"{run_dir / RESULTS}: field '{field_name}': '{mine}' does not match the "
                               f"leaderboard's {spec.task} {LEADERBOARD_SPLIT} set ('{theirs}'); run with the task's "
                               "default settings and built-in data")
    model = results.get("model") or {}
    model_id = model.get("model_id")
    if not model_id:
        raise HarnessError(f"{run_dir / RESULTS}: field 'model.model_id' is missing")
    log = PredictionLog(run_dir / PREDICTIONS)
    records: list[dict[str, str]] = []
    answered: dict[str, dict] = {c.case_id: {} for c in ctx.dataset.cases}
    missing = []
    for stage in ctx.task.stages:
        for case in ctx.dataset.cases:
            for req in ctx.task.requests(case, stage, answered[case.case_id]):
                key = prediction_key(ctx.task, req, model_id, spec.sampling)
                if key not in log:
                    missing.append(f"{case.case_id}/{req.kind}")
                    continue
                pred = log.by_key[key]
                answered[case.case_id][req.kind] = pred
                records.append({"case_id": case.case_id, "kind": req.kind, "text": pred.text})
    if missing:
        raise HarnessError(f"{run_dir / PREDICTIONS}: {len(missing)} of the {LEADERBOARD_SPLIT} split's requests "
                           f"have no prediction (first: {missing[0]}); the leaderboard needs every case: run "
                           "`harness run` without --limit to finish")
    claimed = {k: v.get("value") for k, v in (results.get("metrics") or {}).items() if isinstance(v, dict)}
    obj = {"format": FORMAT, "task": spec.task, "task_version": ctx.version, "split": spec.split,
           "data_hash": ctx.dataset.data_hash, "n_cases": len(ctx.dataset.cases),
           "model": {"name": name or model_id, "model_id": model_id, "backend": model.get("backend"), "url": url,
                     "organisation": organisation, "description": description},
           "sampling": spec.sampling.to_dict(), "submitted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "harness_version": harness.__version__, "claimed_metrics": claimed, "predictions": records}
    sub = parse_submission(obj, source)
    map_predictions(sub, ctx, source)  # the same check the leaderboard makes
    return sub


def normalized_name(name: str) -> str:
    """What makes two model names 'the same' on a leaderboard: case, accents and spacing aside."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(text.split())


def safe_stem(name: str) -> str:
    """A file-name stem from any text: ASCII letters, digits, '.', '_' and '-', never starting with a dot."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text).strip("-._").lower()
    stem = re.sub(r"\.{2,}", ".", stem)[:80].strip("-._")
    if not stem:
        from harness.schema import stable_hash

        stem = f"model-{stable_hash(name, 8)}"
    return stem


def check_file_name(file_name: str) -> str:
    """An explicit submission file name: a bare name, no folder, no '..'."""
    stem = file_name[:-5] if file_name.endswith(".json") else file_name
    if not _SAFE_NAME.match(stem) or ".." in stem:
        raise HarnessError(f"submission file name '{file_name}' must be a bare name of lower-case letters, digits, "
                           "'.', '_' and '-' (no folder, no '..', at most 80 characters)")
    return stem


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (links resolved) lies in ``folder``."""
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def existing_names(task_dir: Path) -> dict[str, Path]:
    """normalized model name -> file, over the readable submissions of one task folder."""
    out: dict[str, Path] = {}
    for path in sorted(task_dir.glob("*.json")):
        try:
            name = json.loads(path.read_text())["model"]["name"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(name, str):
            out.setdefault(normalized_name(name), path)
    return out


def write_submission(sub: Submission, submissions: Path = DEFAULT_SUBMISSIONS, file_name: str | None = None,
                     replace: bool = False) -> Path:
    """Write ``sub`` as ``SUBMISSIONS/<task>/<stem>.json``; a second model of the same name is refused."""
    root = Path(submissions)
    task_dir = root / sub.task
    stem = check_file_name(file_name) if file_name else safe_stem(sub.model.name)
    target = task_dir / f"{stem}.json"
    if not inside(target, root) or target.parent.resolve() != task_dir.resolve():
        raise HarnessError(f"submission file {target} would lie outside {task_dir}")
    task_dir.mkdir(parents=True, exist_ok=True)
    same_name = existing_names(task_dir).get(normalized_name(sub.model.name))
    if same_name is not None and not (replace and same_name.resolve() == target.resolve()):
        raise HarnessError(f"{same_name}: a submission named '{sub.model.name}' already exists for {sub.task}; "
                           "choose another --name, or pass --replace to overwrite that same file")
    if target.exists() and not replace:
        try:
            other = load_submission(target).model.name
        except HarnessError:
            other = "an unreadable submission"
        raise HarnessError(f"{target}: already holds '{other}'; choose another --name or --file-name")
    tmp = target.with_name(f".{stem}.json.tmp")
    tmp.write_text(sub.to_json(), encoding="utf-8")
    tmp.replace(target)
    return target
