"""ROUGE-L with beta 1.2 as pycocoevalcap computes it (coco_rouge_l): an `evaluate` module, loadable offline.

    import evaluate
    from harness.evaluate_support import module_path
    metric = evaluate.load(module_path("coco_rouge_l"))
    metric.compute(predictions=[...], references=[...])
"""

import harness.evaluate_support as support  # imported as a module: evaluate takes the first Metric class it sees


class CocoRougeL(support.HarnessMetric):
    metric_names = ("coco_rouge_l",)
    multiple_references = True
