"""CIDEr-D as pycocoevalcap computes it (coco_cider_d, 0-10 scale): an `evaluate` module, loadable offline.

    import evaluate
    from harness.evaluate_support import module_path
    metric = evaluate.load(module_path("coco_cider_d"))
    metric.compute(predictions=[...], references=[...])
"""

import harness.evaluate_support as support  # imported as a module: evaluate takes the first Metric class it sees


class CocoCiderD(support.HarnessMetric):
    metric_names = ("coco_cider_d",)
    multiple_references = True
