"""FOCUS 1.2 conformance checks, rule by rule from the spec text.

The official focus-validator cannot be installed here, so the project checks its own exports (and
users can check any file) with these rules. Each rule is a registered object whose id reads
``FOCUS-1.2/<Column>/<check>`` and whose ``spec`` quotes the requirement it enforces.

    >>> report = validate_file("export.parquet")     # doctest: +SKIP
    >>> report.ok, print(report.summary())           # doctest: +SKIP
"""

from comptroller.focus_validation.errors import FocusValidationError
from comptroller.focus_validation.io import read_focus_file
from comptroller.focus_validation.registry import REGISTRY, Rule, RuleRegistry
from comptroller.focus_validation.report import Severity, ValidationReport, Violation
from comptroller.focus_validation.validate import validate_file, validate_table

__all__ = [
    "REGISTRY",
    "FocusValidationError",
    "Rule",
    "RuleRegistry",
    "Severity",
    "ValidationReport",
    "Violation",
    "read_focus_file",
    "validate_file",
    "validate_table",
]
