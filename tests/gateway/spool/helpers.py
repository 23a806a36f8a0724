"""Spend events for spool and drain tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from comptroller.gateway.events import Outcome, SpendEvent

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def spend_event(n: int, *, status: Outcome = Outcome.OK, **fields: object) -> SpendEvent:
    """A priced gpt-4o-mini call: 1,000 input and 100 output tokens, list cost as the gateway
    would compute it (0.15 and 0.60 USD per million)."""
    values: dict[str, object] = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "operation": "chat",
        "uncached_input_tokens": 1_000,
        "output_tokens": 100,
        "list_cost": Decimal("0.00021"),
        "contracted_cost": Decimal("0.00021"),
        "price_version": "gateway-test",
        "attribution": {"team": "search", "agent": "triage", "region": "eu"},
        "latency_ms": 120.5,
        "time_to_first_token_ms": 40.0,
        "overhead_ms": 0.4,
        "route": "openai-east (alias fast)",
        "api_key_id": "key-1",
    }
    values.update(fields)
    return SpendEvent(event_id=f"evt-{n:06d}", timestamp=NOON, status=status, **values)  # type: ignore[arg-type]
