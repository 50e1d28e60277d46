"""Report text <-> structured findings: the one findings model every metric, reward and probe shares."""

from harness.findings.extract import ParsedFinding, extract_findings, parse_report
from harness.findings.lexicon import UNSPECIFIED, lexicon

__all__ = ["ParsedFinding", "UNSPECIFIED", "extract_findings", "lexicon", "parse_report"]
