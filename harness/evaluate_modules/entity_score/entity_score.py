"""RaTEScore-style entity score, harness re-implementation (entity_score): an `evaluate` module, loadable offline.

    import evaluate
    from harness.evaluate_support import module_path
    metric = evaluate.load(module_path("entity_score"))
    metric.compute(predictions=[...], references=[...])
"""

import harness.evaluate_support as support  # imported as a module: evaluate takes the first Metric class it sees


class EntityScore(support.HarnessMetric):
    metric_names = ("entity_score",)
