"""The ``harness`` command line (typer + rich)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

import click
import typer
from rich.table import Table
from typer.core import TyperGroup

from harness.errors import HarnessError
from harness.registry import BASELINES, COMMANDS, LOADERS, METRICS, MODELS, REWARDS, TASKS, default_task
from harness.settings import nest, parse_options


def _outer_command(name: str) -> click.Command:
    """The click command of the ``harness.commands`` entry ``name`` (the packages outside the core: the trainer,
    the zoo, the leaderboard, or a plug-in's), mounted only when it is called or listed (``harness --help``), so
    the core imports none of them at import time. An entry is a Typer app, or a function that becomes one
    command; it is built as ``add_typer`` / ``app.command`` would build it (a ``Typer(hidden=True)`` app, such as
    a deprecated alias, runs but is not listed in the help)."""
    target = COMMANDS.get(name)
    if not isinstance(target, typer.Typer):
        function, target = target, typer.Typer(add_completion=False)
        target.command(name)(function)
    command = typer.main.get_command(target)
    command.name = name
    command.hidden = bool(target.info.hidden)
    return command


class _LazyGroup(TyperGroup):
    """The core's commands first, then the registered ones (imported on first use); a registered name that is a
    core command's is the core's."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS.names() if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS.names():
            self.commands[cmd_name] = _outer_command(cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=_LazyGroup,
                  help="Evaluate whether radiology reports are grounded in the image, and train models to be.")
data_app = typer.Typer(no_args_is_help=True, help="Synthetic data sets.")
app.add_typer(data_app, name="data")
metrics_app = typer.Typer(no_args_is_help=True, help="Metric utilities.")
app.add_typer(metrics_app, name="metrics")

from harness.cli_support import console, err_console, friendly_errors  # noqa: E402
from harness.cli_results_table import results_table  # noqa: E402
from rich.markup import escape  # noqa: E402


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "model"


def _batch_size(text: str) -> int | str:
    if text == "auto":
        return "auto"
    if not text.isdigit() or int(text) < 1:
        raise HarnessError(f"--batch-size must be a positive integer or 'auto', got '{text}'")
    return int(text)


@app.command()
@friendly_errors
def run(
    model: str = typer.Option(..., "--model", "-m", help="checkpoint dir, baseline:NAME, openai:URL#name ..."),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="task name (see `harness list`) [the installed "
                                       "default task]"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="run directory [runs/TASK/MODEL]"),
    limit: Optional[int] = typer.Option(None, "--limit", help="evaluate only the first N cases"),
    seed: int = typer.Option(0, "--seed", help="sampling seed (the test set is fixed by the task version)"),
    bootstrap_seed: int = typer.Option(0, "--bootstrap-seed", help="seed of the bootstrap resampling for the CIs"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace a different run already in --out"),
    batch_size: str = typer.Option("8", "--batch-size", help="requests per model call, or 'auto' (backs off on "
                                   "out-of-memory)"),
    split: str = typer.Option("test", "--split"),
    data: Optional[Path] = typer.Option(None, "--data", help="a data set on disk instead of the built-in one"),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="layout of --data: msd, kits, dicom, ct_rate, "
                                          "iu_xray, mimic_cxr, ms_cxr, chexpert_plus [detected]"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="skip malformed records of --data and count them"),
    backend: Optional[str] = typer.Option(None, "--backend", help="override the backend the spec implies"),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="comma-separated metric names [task default]"),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens"),
    temperature: float = typer.Option(0.0, "--temperature", help="0 = greedy"),
    top_p: float = typer.Option(1.0, "--top-p"),
    model_option: list[str] = typer.Option([], "--model-option", help="backend option KEY=VALUE (repeatable)"),
    task_option: list[str] = typer.Option([], "--task-option", help="task setting KEY=VALUE, e.g. views.n_axial=16"),
    n_boot: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for the 95% CIs"),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="where synthetic sets are cached"),
) -> None:
    """Evaluate a model on a task; resumes an interrupted run in the same --out."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness.evaluate import RunSpec, evaluate, validate
    from harness.schema import Sampling

    task = task or default_task()
    spec = RunSpec(model=model, task=task, backend=backend, split=split, data=str(data) if data else None,
                   dataset=dataset, skip_bad=skip_bad,
                   limit=limit, seed=seed, batch_size=_batch_size(batch_size),
                   sampling=Sampling(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed),
                   metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()) if metrics else None,
                   task_options=nest(parse_options(task_option, "--task-option")),
                   model_options=parse_options(model_option, "--model-option"), n_boot=n_boot,
                   cache_dir=str(cache_dir) if cache_dir else None, bootstrap_seed=bootstrap_seed)
    validate(spec)  # the task, its settings, the metrics and the model's options fail before any work
    run_dir = out or Path("runs") / task / _slug(model)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as bar:
        handle = bar.add_task(f"{task} · {model}", total=None)
        result = evaluate(spec, run_dir, progress=lambda done, total: bar.update(handle, completed=done,
                                                                                  total=total), overwrite=overwrite)
    r = result.results
    console.print(results_table(r))
    req = r["requests"]
    skipped = r.get("data_info", {}).get("skipped")
    if skipped:
        err_console.print(f"[yellow]skipped {skipped} malformed records of {escape(str(data))} (--skip-bad); see "
                          "data_info in results.json[/]")
    console.print(f"requests: {req['requests']} ({req['cached']} from the cache, {req['generated']} generated) · "
                  f"run dir: {run_dir}")


@app.command()
@friendly_errors
def score(
    run_dir: Path = typer.Argument(..., help="a run directory written by `harness run`"),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="comma-separated metric names"),
    n_boot: Optional[int] = typer.Option(None, "--bootstrap"),
) -> None:
    """Re-score a run from its predictions, without running the model."""
    from harness.evaluate import rescore

    names = tuple(m.strip() for m in metrics.split(",")) if metrics else None
    result = rescore(run_dir, names, n_boot)
    console.print(results_table(result.results))


from harness.cli_score_reports import score_reports_command  # noqa: E402

app.command("score-reports")(score_reports_command)


@app.command()
@friendly_errors
def compare(
    run_dirs: list[Path] = typer.Argument(..., help="run directories to put side by side"),
    markdown: bool = typer.Option(False, "--markdown", help="print a Markdown table (for READMEs and notes)"),
    ci: bool = typer.Option(False, "--ci", help="show the 95% confidence intervals"),
) -> None:
    """Put the results of several runs side by side, one column per run, with 95% CIs."""
    runs = []
    for d in run_dirs:
        path = d / "results.json"
        if not path.exists():
            raise HarnessError(f"{d}: no results.json (run `harness run` or `harness score` first)")
        runs.append(json.loads(path.read_text()))
    names = list(dict.fromkeys(n for r in runs for n in r["metrics"]))
    heads = [r["model"].get("model_id", "?").removeprefix("baseline:") for r in runs]
    for warning in _comparability_warnings(run_dirs, runs):
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)

    def cell(r: dict[str, Any], n: str) -> str:
        m = r["metrics"].get(n)
        if m is None:
            return "-"
        if m["status"] != "ok":
            return "not run"
        interval = f" [{m['ci_low']:.2f}, {m['ci_high']:.2f}]" if ci and m.get("ci_low") is not None else ""
        return f"{m['value']:.3f}{interval}"

    if markdown:
        console.print("| metric | " + " | ".join(heads) + " |", markup=False, highlight=False, soft_wrap=True)
        console.print("|---" * (len(heads) + 1) + "|", markup=False, highlight=False)
        for n in names:
            console.print(f"| {n} | " + " | ".join(cell(r, n) for r in runs) + " |", markup=False,
                          highlight=False, soft_wrap=True)
        return
    sizes = sorted({r["n_cases"] for r in runs})
    table = Table(title=f"{runs[0]['task']} · n={'/'.join(map(str, sizes))}")
    table.add_column("metric")
    for h in heads:
        table.add_column(h, justify="right")
    for n in names:
        table.add_row(n, *(cell(r, n) for r in runs))
    console.print(table)


def _comparability_warnings(run_dirs: list[Path], runs: list[dict[str, Any]]) -> list[str]:
    """Why the columns of a comparison may not measure the same thing: other cases, another task version."""
    out = []
    cases = {d: r.get("cases_hash") or f"{r.get('data_hash')}:{r['n_cases']}" for d, r in zip(run_dirs, runs)}
    if len(set(cases.values())) > 1:
        out.append("the runs evaluate different case sets (" + ", ".join(
            f"{d}: n={r['n_cases']}" for d, r in zip(run_dirs, runs)) + "); their numbers are not comparable")
    versions = {r.get("task_version") for r in runs}
    if len(versions) > 1:
        out.append("the runs use different task versions (" + ", ".join(
            f"{d}: {r.get('task_version')}" for d, r in zip(run_dirs, runs)) + ")")
    return out


def _loader_line(name: str) -> str:
    try:
        cls = LOADERS.get(name)
    except HarnessError as exc:
        return f"(unavailable: {exc})"
    return f"{cls.title}: {cls.modality} {cls.record} records"


@app.command("list")
@friendly_errors
def list_(what: str = typer.Argument("all", help="tasks, metrics, models, datasets, rewards or all")) -> None:
    """List the registered tasks, metrics, models, data set loaders and training rewards, each in one line."""
    sections = {"tasks": [(n, TASKS.describe(n)) for n in TASKS.names()],
                "metrics": [(n, METRICS.describe(n)) for n in METRICS.names()],
                "models": [(f"{n}:{getattr(MODELS.get(n), 'spec_hint', 'PATH')}", MODELS.describe(n))
                           for n in MODELS.names() if n != "baseline"]
                + [(f"baseline:{n}", BASELINES.describe(n)) for n in BASELINES.names()],
                "datasets": [(n, _loader_line(n)) for n in LOADERS.names()],
                # a metric's name is a reward too: only the rewards of their own are listed here
                "rewards": [(n, REWARDS.describe(n)) for n in REWARDS.names()]}
    if what != "all" and what not in sections:
        raise HarnessError(f"nothing called '{what}' to list (tasks, metrics, models, datasets, rewards, all)")
    for name, rows in sections.items():
        if what not in ("all", name):
            continue
        table = Table(title=name, show_header=False, title_justify="left")
        table.add_column(style="bold cyan")
        table.add_column()
        for n, d in rows:
            table.add_row(n, d)
        console.print(table)


@data_app.command("make")
@friendly_errors
def data_make(
    out: Path = typer.Argument(..., help="directory to write the set into"),
    task: Optional[str] = typer.Option(None, "--task", help="task name [the installed default task]"),
    split: str = typer.Option("test", "--split"),
    n: Optional[int] = typer.Option(None, "--n", help="number of cases [the split's size]"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Write a built-in synthetic set (volumes, label maps, truth manifest) to disk."""
    task = task or default_task()
    t = TASKS.get(task)()
    if not hasattr(t, "write_synthetic"):
        raise HarnessError(f"task '{task}' has no synthetic set writer")
    directory, data_hash, count = t.write_synthetic(out, split=split, n_cases=n, seed=seed)
    console.print(f"wrote {count} cases to {directory} (data hash {data_hash}); evaluate them with "
                  f"`harness run --data {out}`", markup=False)


@metrics_app.command("check")
@friendly_errors
def metrics_check(
    triplets: Optional[Path] = typer.Option(None, "--triplets", help="JSONL of reference/paraphrase/corruption "
                                            "triplets (instead of the shipped splits)"),
    split: str = typer.Option("all", "--split", help="shipped triplets: regression, dev, dev_b, dev_c, dev_d, "
                              "dev_e, dev_f, dev_g, test or all"),
    labeler: bool = typer.Option(True, "--labeler/--no-labeler", help="also the CheXpert-14 labels on the "
                                 "hand-labelled IU X-ray train sample"),
    external: bool = typer.Option(True, "--external/--no-external", help="include RadGraph/RaTEScore/BERTScore "
                                  "where installed"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the tables as JSON here"),
    markdown: bool = typer.Option(False, "--markdown", help="print one Markdown table of all splits"),
    readme: bool = typer.Option(False, "--readme", help="print the README's table (test, then the tuning splits)"),
) -> None:
    """Meta-evaluate the metrics: how often each ranks a paraphrase above a single clinical error, per error type
    and triplet split (the dev splits are tuned on, test never is); and how well the reader labels real IU X-ray
    reports."""
    import json as _json

    from harness.metrics.labeler_check import format_labeler, labeler_table, load_labelled_reports
    from harness.metrics.metacheck import (SPLITS, check_splits, format_check, load_triplets, markdown_table,
                                           run_metric_check, tables_to_json)

    if triplets is not None:
        tables = {str(triplets): run_metric_check(load_triplets(triplets), external=external)}
    else:
        if split != "all" and split not in SPLITS:
            raise HarnessError(f"--split: '{split}' is not one of {', '.join(SPLITS)} or all")
        tables = check_splits(tuple(SPLITS) if split == "all" else (split,), external=external)
    if markdown:
        console.print(markdown_table(tables), markup=False, highlight=False, soft_wrap=True)
    else:
        for name, table in tables.items():
            console.print(f"\n== {name} ==", markup=False, highlight=False)
            console.print(format_check(table), markup=False, highlight=False, soft_wrap=True)
    record = tables_to_json(tables)
    if labeler and triplets is None:
        records, header = load_labelled_reports()
        table = labeler_table(records)
        console.print("\n" + format_labeler(table, header), markup=False, highlight=False, soft_wrap=True)
        record["chexpert_labeler"] = {"n_reports": len(records), "source": header.get("source", {}),
                                      "per_label": {k: {c: (None if v != v or v is None else round(float(v), 4))
                                                        for c, v in row.items()} for k, row in table.iterrows()}}
    if readme and triplets is None:
        from harness.metrics.metacheck import readme_table  # noqa: PLC0415

        console.print("\n" + readme_table(record), markup=False, highlight=False, soft_wrap=True)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(_json.dumps(record, indent=1, sort_keys=True) + "\n")
        console.print(f"wrote {json_out}", markup=False)


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m harness.cli`
    main()
