"""Stored event costs are what pricing each event alone gives, now that a delivery is priced as one batch."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow as pa

from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import ContractOverride, Pricer, TokenUsage
from comptroller.pricing.usage import TOKEN_KINDS
from tests.usage.mixed import mixed_events

SIXTEEN_PLACES = Decimal(1).scaleb(-16)


def fit(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(SIXTEEN_PLACES)


def test_stored_costs_match_pricing_each_event_alone(ledger):
    # A discount with many places makes costs finer than the ledger's sixteen places: they are
    # rounded exactly as a single event's would be.
    discount = ContractOverride(
        id="ea",
        provider="openai",
        model="gpt-4o*",
        effective_from=datetime(2025, 3, 2).date(),
        discount_pct=Decimal("33.33333333"),
    )
    rows = mixed_events()
    ingest_usage_events(ledger, pa.Table.from_pylist(rows), Pricer([discount]))
    kinds = ", ".join(f"list_cost_{k}, contracted_cost_{k}" for k in TOKEN_KINDS)
    stored = {
        r[0]: r[1:]
        for r in ledger.execute(
            f"SELECT event_id, list_cost, contracted_cost, price_version, pricing_flag, {kinds} FROM usage_events"
        )
    }
    pricer = Pricer([discount])
    flags = set()
    finer = False
    for row in rows:
        usage = TokenUsage(*(row[f"{k}_tokens"] for k in TOKEN_KINDS))
        alone = pricer.price(
            row["provider"],
            row["model"],
            usage,
            row["timestamp"],
            row["service_tier"],
            requests=row["requests"],
        )
        per_kind = []
        for kind in TOKEN_KINDS:
            charge = alone.charge(kind) if alone.list_cost is not None else None
            per_kind += [fit(charge and charge.list_cost), fit(charge and charge.contracted_cost)]
        want = (fit(alone.list_cost), fit(alone.contracted_cost), alone.price_version, alone.flag, *per_kind)
        assert stored[row["event_id"]] == want, row
        flags.add(alone.flag)
        finer |= alone.contracted_cost is not None and alone.contracted_cost != fit(alone.contracted_cost)
    assert finer
    # The batch held priced, partly priceable and unknown models alike.
    assert {None, "no_price_for_output", "unknown_model"} <= flags
