"""``harness leaderboard ...`` and ``harness submit RUN_DIR``.

Mounted by the main CLI on first use (the ``harness.commands`` entry points: ``app`` as ``leaderboard``,
``submit_command`` as ``submit``); this module does not import ``harness.cli`` (no import cycle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from harness.cli_support import console, err_console, friendly_errors
from harness.errors import HarnessError
from leaderboard import DEFAULT_SITE, DEFAULT_SUBMISSIONS

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Re-score submissions from their predictions and publish them as a static site.")
@friendly_errors
def submit_command(
    run_dir: Path = typer.Argument(..., help="a finished run directory written by `harness run`"),
    name: Optional[str] = typer.Option(None, "--name", help="model name shown on the leaderboard [the model id]"),
    url: Optional[str] = typer.Option(None, "--url", help="an http(s) page about the model"),
    organisation: Optional[str] = typer.Option(None, "--organisation", "--org"),
    description: Optional[str] = typer.Option(None, "--description"),
    submissions: Path = typer.Option(DEFAULT_SUBMISSIONS, "--submissions", help="the submissions folder"),
    file_name: Optional[str] = typer.Option(None, "--file-name", help="file name in the task's folder [from --name]"),
    replace: bool = typer.Option(False, "--replace", help="overwrite this model's earlier submission"),
) -> None:
    """Validate a run and pack its predictions as a leaderboard submission."""
    from leaderboard.submit import submission_from_run, write_submission

    sub = submission_from_run(run_dir, name=name, url=url, organisation=organisation, description=description)
    path = write_submission(sub, submissions, file_name=file_name, replace=replace)
    console.print(f"submitted '{sub.model.name}' for {sub.task} ({len(sub.predictions)} predictions, "
                  f"{sub.n_cases} cases) -> {path}")
    console.print("its scores are computed from the predictions by `harness leaderboard build`")
    console.print(next_steps(path))


def next_steps(path: Path) -> str:
    """What a contributor does after `harness submit`: check, then a pull request that CI validates and publishes."""
    return (f"next:\n"
            f"  1. harness leaderboard check {path}    # the numbers the leaderboard will show\n"
            f"  2. git checkout -b submit-{path.stem} && git add {path} && git commit -m 'Submit {path.stem}'\n"
            f"  3. push the branch and open a pull request: CI runs leaderboard/publish.sh (check, re-score, build)\n"
            f"     and, once merged, publishes the site (README: 'Submitting a model')")


app.command("submit")(submit_command)


@app.command()
@friendly_errors
def build(
    submissions: Path = typer.Option(DEFAULT_SUBMISSIONS, "--submissions", help="the submissions folder"),
    out: Path = typer.Option(DEFAULT_SITE, "--out", "-o", help="where the site is written (replaced)"),
    n_boot: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for the 95% CIs"),
    n_resamples: int = typer.Option(10_000, "--resamples", help="random swaps in each paired significance test"),
    samples: int = typer.Option(4, "--samples", help="sample cases on each model page"),
    task: Optional[list[str]] = typer.Option(None, "--task", help="only these tasks (repeatable)"),
    workers: Optional[int] = typer.Option(None, "--workers", help="scoring processes [by the number of files]"),
    seed: int = typer.Option(0, "--seed"),
    cache: bool = typer.Option(True, "--cache/--no-cache",
                               help="reuse scores this builder computed before for unchanged files and code"),
    strict: bool = typer.Option(False, "--strict", help="exit 1 when any submission is rejected"),
) -> None:
    """Re-score every submission and write the static site (open OUT/index.html, no server needed)."""
    from harness.paths import default_cache_dir
    from leaderboard.site import build_site

    if n_boot < 0 or n_resamples < 1 or samples < 0:
        raise HarnessError("--bootstrap and --samples must be >= 0, --resamples >= 1")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        handles: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in handles:
                handles[stage] = bar.add_task(stage, total=total)
            bar.update(handles[stage], completed=done, total=total)

        report = build_site(submissions, out, n_boot=n_boot, seed=seed, workers=workers, samples_per_model=samples,
                            n_resamples=n_resamples, tasks=task or None, progress=progress,
                            score_cache=default_cache_dir() / "leaderboard-scores" if cache else None)
    for t, n in report.ranked.items():
        console.print(f"{t}: {n} ranked")
    for r in report.rejected:
        err_console.print(f"[yellow]rejected[/] {escape(str(r.file))}: {escape(str(r.reason))}", highlight=False,
                          markup=True, soft_wrap=True)
    console.print(f"site: {report.site / 'index.html'} ({report.seconds['total']:.1f} s; {report.scored} "
                  "submissions re-scored, the rest from the score cache)")
    if strict and report.rejected:
        raise typer.Exit(1)


@app.command()
@friendly_errors
def check(path: Path = typer.Argument(..., help="a submission file"),
          n_boot: int = typer.Option(1000, "--bootstrap")) -> None:
    """Validate one submission file and show its re-scored metrics (what the leaderboard will show)."""
    from leaderboard.rescore import TaskContext, claimed_discrepancies, rescore
    from leaderboard.schema import load_submission

    sub = load_submission(path)
    ctx = TaskContext.load(sub.task)
    result = rescore(sub, ctx, str(path), n_boot=n_boot)
    off = claimed_discrepancies(sub, result)
    table = Table(title=f"{sub.task} · {sub.model.name} · n={sub.n_cases} (re-scored)")
    for col in ("metric", "value", "95% CI", "claimed"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for name, m in result.metrics.items():
        claimed = "" if name not in off else ("none" if off[name][0] is None else f"[yellow]{off[name][0]:.3f}[/]")
        if m["status"] != "ok":
            table.add_row(name, "[yellow]not run[/]", m.get("reason") or "", claimed)
        else:
            ci = f"[{m['ci_low']:.3f}, {m['ci_high']:.3f}]" if m.get("ci_low") is not None else "-"
            table.add_row(name, f"{m['value']:.3f}", ci, claimed)
    console.print(table)
    if off:
        console.print(f"[yellow]{len(off)} numbers in the file differ from the re-scored ones; the leaderboard "
                      "uses only the re-scored values[/]")
