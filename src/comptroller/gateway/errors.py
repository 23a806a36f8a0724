"""Errors the gateway itself returns, rendered in the caller's dialect.

Each has a stable ``code`` and HTTP status. Budget blocks use 402 rather than 429: the official
SDKs retry 429 automatically, and a spent budget does not come back in a few seconds.
"""

from __future__ import annotations

import orjson

from comptroller.errors import ComptrollerError
from comptroller.gateway.events import Outcome

# HTTP status -> (OpenAI error type, Anthropic error type)
_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "invalid_request_error"),
    401: ("authentication_error", "authentication_error"),
    402: ("insufficient_quota", "billing_error"),
    403: ("permission_error", "permission_error"),
    404: ("not_found_error", "not_found_error"),
    429: ("rate_limit_error", "rate_limit_error"),
    502: ("api_error", "api_error"),
    503: ("api_error", "overloaded_error"),
    504: ("api_error", "api_error"),
}


class GatewayError(ComptrollerError):
    """A request the gateway answers itself, with the outcome its spend event records."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        outcome: Outcome = Outcome.BLOCKED_POLICY,
        *,
        retry_after_s: float | None = None,
        approval_request_id: str | None = None,
        budget_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.outcome = outcome
        self.retry_after_s = retry_after_s
        self.approval_request_id = approval_request_id
        self.budget_id = budget_id  # the budget that refused the request, if one did

    def body(self, dialect: str) -> bytes:
        openai_type, anthropic_type = _TYPES.get(self.status, ("api_error", "api_error"))
        if dialect == "anthropic":
            error: dict[str, object] = {"type": anthropic_type, "message": self.message, "code": self.code}
            if self.approval_request_id:
                error["approval_request_id"] = self.approval_request_id
            if self.budget_id:
                error["budget_id"] = self.budget_id
            return orjson.dumps({"type": "error", "error": error})
        detail: dict[str, object] = {
            "message": self.message,
            "type": openai_type,
            "code": self.code,
            "param": None,
        }
        if self.approval_request_id:
            detail["approval_request_id"] = self.approval_request_id
        if self.budget_id:
            detail["budget_id"] = self.budget_id
        return orjson.dumps({"error": detail})

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.retry_after_s is None:
            return []
        return [(b"retry-after", str(max(1, round(self.retry_after_s + 0.499))).encode())]
