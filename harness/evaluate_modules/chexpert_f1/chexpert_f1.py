"""14-label CheXpert-style F1 for chest X-ray reports (micro/macro over 14 and 5 labels): an `evaluate` module.

    import evaluate
    from harness.evaluate_support import module_path
    metric = evaluate.load(module_path("chexpert_f1"))
    metric.compute(predictions=[...], references=[...])
"""

import harness.evaluate_support as support  # imported as a module: evaluate takes the first Metric class it sees


class CheXpertF1(support.HarnessMetric):
    metric_names = ("chexpert_f1",)
    modality = "cxr"
