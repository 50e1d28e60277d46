"""``harness score-reports``: score a file of generated reports against a file of references."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from harness.cli_support import console, err_console, friendly_errors
from harness.cli_results_table import results_table
from harness.errors import HarnessError


@friendly_errors
def score_reports_command(
    predictions: Path = typer.Argument(..., help="generated reports: .json {id: text | [text]}, .jsonl, .csv, "
                                       "or a text file with one report per line"),
    references: Path = typer.Argument(..., help="reference reports, in any of the same formats"),
    out: Path = typer.Option(..., "--out", "-o", help="directory for results.json and samples.jsonl"),
    modality: Optional[str] = typer.Option(None, "--modality", help="ct or cxr (cxr adds the CheXpert F1) "
                                           "[detected from the references]"),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="comma-separated metric names [every metric "
                                          "that needs no image]"),
    field: Optional[str] = typer.Option(None, "--field", help="JSONL field holding the text [report, text, "
                                        "prediction, ...: the first present]"),
    id_column: str = typer.Option("id", "--id-column", help="JSONL field / CSV column holding the id"),
    text_column: Optional[str] = typer.Option(None, "--text-column", help="CSV column holding the text "
                                              "[as --field]"),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="score the ids both files have and say "
                                       "how many were left out"),
    compare: Optional[Path] = typer.Option(None, "--compare", help="another system's predictions: paired "
                                           "p-values per metric"),
    test: str = typer.Option("randomization", "--test", help="paired test for --compare: randomization "
                             "(approximate randomization) or bootstrap"),
    resamples: int = typer.Option(1000, "--resamples", help="resamples of the paired test"),
    n_boot: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for the 95% CIs"),
    seed: int = typer.Option(0, "--seed"),
    workers: Optional[int] = typer.Option(None, "--workers", help="processes scoring the reports (1: this one "
                                          "only) [one per core, at most 2, from 4,000 reports on]"),
) -> None:
    """Score reports a model already wrote (R2Gen-style JSON, JSONL, CSV, text) with every text and clinical metric."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from harness.reports_io import ReadOptions
    from harness.score_reports import ScoreRequest, read_inputs, score_reports

    if field and text_column and field != text_column:
        raise HarnessError(f"--field '{field}' and --text-column '{text_column}' name different fields; give one")
    req = ScoreRequest(predictions=predictions, references=references, out=out, modality=modality,
                       metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()) if metrics else None,
                       allow_missing=allow_missing, compare=compare, test=test, resamples=resamples, n_boot=n_boot,
                       seed=seed, read_options=ReadOptions(text_field=field or text_column, id_field=id_column),
                       workers=workers)
    if workers is not None and workers < 1:
        raise HarnessError(f"--workers must be at least 1, got {workers}")
    inputs = read_inputs(req)  # before the progress bar: a malformed input is one line and nothing else
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=False) as bar:
        handle = bar.add_task("scoring", total=None)

        def progress(metric: str, done: int, total: int) -> None:
            bar.update(handle, description=f"scoring {metric}" if metric else "scored", completed=done, total=total)

        outcome = score_reports(req, progress=progress, inputs=inputs)
    r = outcome.results
    console.print(results_table(r))
    left = r["data_info"]["left_out"]
    if left["references_without_prediction"] or left["predictions_without_reference"]:
        err_console.print(f"[yellow]left out (--allow-missing): {left['references_without_prediction']} references "
                          f"without a prediction, {left['predictions_without_reference']} predictions without a "
                          "reference[/]")
    err_console.print(f"modality {r['data_info']['modality']}: {r['data_info']['modality_source']}",
                      highlight=False)
    if outcome.comparison is not None:
        console.print(comparison_table(outcome.comparison, r["model"]["model_id"]))
    console.print(f"scored {r['n_cases']} reports · out: {out}", highlight=False)


def comparison_table(comparison: dict[str, Any], model_id: str) -> Table:
    other = comparison["other"]["path"]
    table = Table(title=f"{model_id} vs {Path(other).name} · {comparison['method']}, {comparison['resamples']} "
                        "resamples")
    for head, justify in (("metric", "left"), ("this", "right"), ("other", "right"), ("difference", "right"),
                          ("p", "right")):
        table.add_column(head, justify=justify)
    for name, t in comparison["metrics"].items():
        if t["status"] != "ok":
            table.add_row(name, "[yellow]not run[/]", t.get("reason") or "", "", "")
            continue
        table.add_row(name, f"{t['value']:.3f}", f"{t['other_value']:.3f}", f"{t['difference']:+.3f}",
                      f"{t['p_value']:.4f}")
    return table
