"""Metrics: one :class:`harness.metrics.base.Metric` subclass each (per-case rows, an aggregate the runner
bootstraps, "not run" with its reason when it cannot run), registered under the ``harness.metrics`` entry-point
group. A new metric is a module here (or in a package of its own) and one entry point; the trainer can use it as a
reward by its name.
"""
