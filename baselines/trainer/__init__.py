"""The reference E-MRL trainer: SFT cold start and GRPO with rewards built from the harness's own metrics.

``harness train sft`` and ``harness train emrl`` (see :mod:`baselines.trainer.cli`) run on TRL. The rewards
(:mod:`baselines.trainer.rewards`) score completions with the same task parser and metric classes that
``harness run`` reports, so a reward and the metric of the same name cannot disagree. torch, transformers, TRL and
datasets are imported inside functions: importing this package stays cheap.
"""
