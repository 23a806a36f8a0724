"""Where each AI vendor, product, model and agent shows up in the ledger, and what it cost.

Two reads, each one grouped query: attributed cost lines (billing exports, CUR, seats, expenses and
the daily token lines rolled up from telemetry) give spend, first/last day and people; usage events
give the traffic sources (gateway, OTLP, provider exports) and the keys that called. Spend is taken
from cost lines only, because telemetry already reaches them through the rollup: counting events'
cost as well would count it twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import ibis

from comptroller.attribution.specs import Attribution
from comptroller.ingest.usage_rollup import ROLLUP_SOURCE
from comptroller.ledger.store import Ledger
from comptroller.reports.dimensions import cost_column
from comptroller.reports.spend import SpendQuery, attributed_lines

SOURCE_LABELS: dict[str, str] = {
    "focus": "billing",
    "aws_cur": "billing",
    "openai_usage": "provider export",
    "anthropic_usage": "provider export",
    "expenses": "expenses",
    "seats": "seats",
}
"""Ledger ``x_Source`` / event ``source`` -> the source named in the inventory; others keep their name."""

PEOPLE_COLUMNS: tuple[str, ...] = ("x_Employee",)
"""Extra cost-line columns that name a person (expense and card exports carry the cardholder)."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One combination of vendor, product, model and agent seen in one source."""

    source: str
    vendor: str | None
    product: str | None
    model: str | None
    agent: str | None
    first_seen: date
    last_seen: date
    spend: Decimal
    people: frozenset[str]
    seats: int
    keys: frozenset[str]


def label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def cost_line_sightings(
    ledger: Ledger, attribution: Attribution, *, start: date | None, end: date | None, cost: str = "effective"
) -> Iterator[Sighting]:
    amount = cost_column(cost)
    columns = set(ledger.columns())
    table = attributed_lines(
        ledger,
        attribution,
        ["vendor", "model", "agent"],
        SpendQuery(start=start, end=end, cost=cost, allocate=False),
        [amount],
    )
    people = [c for c in PEOPLE_COLUMNS if c in columns]
    seats = table["x_SeatsAssigned"].cast("int64").max() if "x_SeatsAssigned" in columns else ibis.literal(0)
    grouped = table.group_by(
        source=table["x_Source"],
        vendor=ibis.coalesce(table["vendor"], table["ProviderName"]),
        product=table["ServiceName"],
        model=table["model"],
        agent=table["agent"],
        **{f"person_{i}": table[c] for i, c in enumerate(people)},
    ).aggregate(
        first_seen=table["ChargePeriodStart"].min(),
        last_seen=table["ChargePeriodStart"].max(),
        spend=table[amount].sum(),
        seats=seats,
    )
    for row in grouped.to_pyarrow().to_pylist():
        names = frozenset(row[f"person_{i}"] for i in range(len(people)) if row[f"person_{i}"])
        yield Sighting(
            # The rollup's own source is "telemetry"; the event sources say where it came from.
            source="" if row["source"] == ROLLUP_SOURCE else label(row["source"]),
            vendor=row["vendor"],
            product=row["product"],
            model=row["model"],
            agent=row["agent"],
            first_seen=_day(row["first_seen"]),
            last_seen=_day(row["last_seen"]),
            spend=row["spend"] or Decimal(0),
            people=names,
            seats=int(row["seats"] or 0),
            keys=frozenset(),
        )


def usage_event_sightings(ledger: Ledger, *, start: date | None, end: date | None) -> Iterator[Sighting]:
    events = ledger.usage_events()
    if start:
        events = events.filter(events["timestamp"] >= datetime.combine(start, datetime.min.time()))
    if end:
        events = events.filter(events["timestamp"] < datetime.combine(end, datetime.max.time()))
    grouped = events.group_by(
        source=events["source"],
        vendor=events["provider"],
        model=events["model"],
        agent=events["agent"],
        key=events["api_key_id"],
    ).aggregate(first_seen=events["timestamp"].min(), last_seen=events["timestamp"].max())
    for row in grouped.to_pyarrow().to_pylist():
        yield Sighting(
            source=label(row["source"]),
            vendor=row["vendor"],
            product=None,
            model=row["model"],
            agent=row["agent"],
            first_seen=_day(row["first_seen"]),
            last_seen=_day(row["last_seen"]),
            spend=Decimal(0),
            people=frozenset(),
            seats=0,
            keys=frozenset({row["key"]}) if row["key"] else frozenset(),
        )
