"""Entry points: run every registered rule against a table or a file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from comptroller.focus_validation import rules as _rules  # noqa: F401  (registers the rules)
from comptroller.focus_validation.dataset import Dataset
from comptroller.focus_validation.errors import FocusValidationError
from comptroller.focus_validation.io import read_focus_file
from comptroller.focus_validation.registry import REGISTRY
from comptroller.focus_validation.report import ValidationReport, Violation
from comptroller.focus_validation.spec import SUPPORTED_VERSIONS


def validate_table(table: pa.Table, version: str = "1.2") -> ValidationReport:
    """Check ``table`` against FOCUS ``version`` ("1.2", or "1.3" to also accept its columns).

    String cells are validated as written (empty string counts as null); typed Parquet/Arrow
    columns are validated by type. Only 1.2 requirements are enforced; "1.3" widens the set of
    recognised columns and checks the JSON format of the 1.3 allocation columns.
    """
    if version not in SUPPORTED_VERSIONS:
        raise FocusValidationError(
            f"FOCUS version {version!r} is not supported; use one of {', '.join(SUPPORTED_VERSIONS)}"
        )
    data = Dataset(table, version)
    violations: list[Violation] = []
    checked = 0
    for rule in REGISTRY:
        if data.version not in rule.versions:
            continue
        checked += 1
        if rule.applies(data):  # rules whose columns are absent leave that to the presence rules
            violations.extend(rule.check(data))
    return ValidationReport(
        version=version,
        rows=data.num_rows,
        columns=data.column_names,
        violations=tuple(violations),
        rules_checked=checked,
    )


def validate_file(path: str | Path, version: str = "1.2") -> ValidationReport:
    """Read a CSV, CSV.gz or Parquet FOCUS export and validate it (see validate_table)."""
    return validate_table(read_focus_file(path), version)
