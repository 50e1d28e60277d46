"""BLEU-1..4 as pycocoevalcap computes them (coco_bleu1..coco_bleu4): an `evaluate` module, loadable offline.

    import evaluate
    from harness.evaluate_support import module_path
    metric = evaluate.load(module_path("coco_bleu"))
    metric.compute(predictions=[...], references=[...])
"""

import harness.evaluate_support as support  # imported as a module: evaluate takes the first Metric class it sees


class CocoBleu(support.HarnessMetric):
    metric_names = ("coco_bleu",)
    multiple_references = True
