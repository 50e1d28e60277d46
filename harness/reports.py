"""Deprecated: the CT report writer is :mod:`harness.reports_ct` (beside :mod:`harness.reports_cxr`).

This alias stays only while the reader's tests (``tests/test_findings_extract.py``, ``tests/test_clinical_metrics.py``)
import the old name; it is to be deleted when they import ``harness.reports_ct``.
"""

from harness.reports_ct import *  # noqa: F401,F403
