"""The packages around the core that run models: the non-neural baselines (``text.py``, ``grounding.py``: the
``harness.baselines`` entry points, ``--model baseline:NAME``), the tiny reference VLM builders (``tiny_vlm.py``,
``harness model make-tiny``), the zoo of published VLM cards (``zoo/``, ``harness zoo``) and the E-MRL trainer
(``trainer/``, ``harness train``; a new reward goes in ``trainer/rewards.py`` or a plug-in, entry point
``harness.rewards``). A new non-neural baseline is a class with ``needs`` (the :mod:`harness.task` protocol it
needs of a task) and ``answer``, and one ``harness.baselines`` entry point.
"""
