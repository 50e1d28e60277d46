"""The results table that ``harness run``, ``harness score`` and ``harness score-reports`` print: a row a metric
with its value, 95% CI and n, or why it did not run."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table


def results_table(results: dict[str, Any], title: str | None = None) -> Table:
    table = Table(title=title or f"{results['task']} · {results['model'].get('model_id')} · n={results['n_cases']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("n", justify="right")
    for name, m in results["metrics"].items():
        if m["status"] != "ok":
            table.add_row(name, "[yellow]not run[/]", escape(m.get("reason") or ""), "")
            continue
        ci = f"[{m['ci_low']:.3f}, {m['ci_high']:.3f}]" if m.get("ci_low") is not None else "-"
        table.add_row(name, f"{m['value']:.3f}", ci, str(m["n"]))
    return table
