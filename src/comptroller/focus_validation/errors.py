"""The validator's own failure: the input could not be validated at all (not: it failed rules)."""

from __future__ import annotations

from comptroller.errors import ComptrollerError


class FocusValidationError(ComptrollerError):
    """Unreadable file, unsupported format or unsupported FOCUS version."""

    code = "focus_validation_error"
