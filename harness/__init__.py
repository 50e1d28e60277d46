"""emrl-harness: evaluation harness and reference trainer for grounded radiology report generation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emrl-harness")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
