"""Importing this package registers every built-in rule, in the order they report.

Shape first (presence), then single values (values, formats), then relations between values
(nullability, cross_column), so the first lines of a report name the most basic problem.
"""

# isort: off
from comptroller.focus_validation.rules import presence
from comptroller.focus_validation.rules import values
from comptroller.focus_validation.rules import formats
from comptroller.focus_validation.rules import nullability
from comptroller.focus_validation.rules import cross_column

# isort: on

__all__ = ["cross_column", "formats", "nullability", "presence", "values"]
