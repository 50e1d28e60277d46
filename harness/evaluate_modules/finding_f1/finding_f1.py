"""Finding F1 of structured findings read from both reports (finding_f1, _micro, _macro): an `evaluate` module.

    import evaluate
    from harness.evaluate_support import module_path
    metric = evaluate.load(module_path("finding_f1"))
    metric.compute(predictions=[...], references=[...])
"""

import harness.evaluate_support as support  # imported as a module: evaluate takes the first Metric class it sees


class FindingF1(support.HarnessMetric):
    metric_names = ("finding_f1",)
