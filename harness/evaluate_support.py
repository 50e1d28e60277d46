"""What the Hugging Face ``evaluate`` modules in ``harness/evaluate_modules/`` share.

Each module is a folder with one script, loadable offline with ``evaluate.load(module_path("finding_f1"))``; the
script only names its metrics, and the numbers come from ``harness.score_reports.score_texts``, the code path of
``harness score-reports``, so the two cannot disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import datasets
import evaluate

from harness.registry import METRICS

MODULES_DIR = Path(__file__).parent / "evaluate_modules"


def module_path(name: str) -> str:
    """The folder to pass to ``evaluate.load``: coco_bleu, coco_rouge_l, coco_cider_d, finding_f1, entity_score,
    chexpert_f1."""
    path = MODULES_DIR / name
    if not (path / f"{name}.py").is_file():
        known = sorted(p.name for p in MODULES_DIR.iterdir() if (p / f"{p.name}.py").is_file())
        raise ValueError(f"no evaluate module '{name}' (known: {', '.join(known)})")
    return str(path)


class HarnessMetric(evaluate.Metric):
    """An ``evaluate`` metric computed by the harness; subclasses set ``metric_names`` (and may fix the modality)."""

    metric_names: tuple[str, ...] = ()
    modality: str | None = None  # None: detected from the references, as score-reports does
    multiple_references: bool = False

    def _info(self) -> evaluate.MetricInfo:
        docs = " ".join(" ".join((METRICS.get(n).__doc__ or "").split()) for n in self.metric_names)
        string = datasets.Value("string")
        features = [datasets.Features({"predictions": string, "references": string})]
        if self.multiple_references:
            features.insert(0, datasets.Features({"predictions": string, "references": datasets.Sequence(string)}))
        return evaluate.MetricInfo(
            description=f"{docs} Computed by emrl-harness exactly as `harness score-reports` computes it.",
            citation="emrl-harness (https://pypi.org/project/emrl-harness/)",
            inputs_description=("predictions: list of generated reports; references: list of reference reports"
                                + (" (or lists of them)" if self.multiple_references else "")
                                + "; modality: 'ct' or 'cxr' [detected from the references]. Returns the "
                                  "metric's outputs, None for one that did not apply."),
            features=features,
        )

    def _compute(self, predictions: Sequence[str], references: Sequence[Any],
                 modality: str | None = None) -> dict[str, float | None]:
        from harness.score_reports import score_texts

        return score_texts(list(predictions), list(references), self.metric_names, modality or self.modality)
