"""Usage events: priced once, stored once, rolled up into FOCUS token lines per day."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from comptroller.errors import IngestError
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import Pricer, TokenUsage

KINDS = ("uncached_input", "cache_read", "cache_write", "output", "reasoning")


def events(rows: list[dict]) -> pa.Table:
    base = {"source": "gateway", "provider": "openai", "model": "gpt-4o"}
    full = [{**base, **r} for r in rows]
    return pa.Table.from_pylist(full)


def call(event_id: str, hour: int = 10, day: int = 1, **tokens: int) -> dict:
    return {
        "event_id": event_id,
        "timestamp": datetime(2025, 3, day, hour),
        **{f"{k}_tokens": v for k, v in tokens.items()},
    }


def total_billed(ledger) -> Decimal:
    return ledger.execute('SELECT COALESCE(sum("BilledCost"), 0) FROM cost_lines')[0][0]


def expected_cost(provider: str, model: str, at: datetime, **tokens: int) -> Decimal:
    priced = Pricer().price(provider, model, TokenUsage(**tokens), at)
    assert priced.contracted_cost is not None
    return priced.contracted_cost


def test_rollup_prices_each_token_kind_once(ledger):
    table = events([call("e1", uncached_input=1000, cache_read=400, output=120, reasoning=0)])
    result = ingest_usage_events(ledger, table, Pricer())
    assert result.new_events == 1
    want = expected_cost(
        "openai", "gpt-4o", datetime(2025, 3, 1, 10), uncached_input=1000, cache_read=400, output=120
    )
    assert abs(total_billed(ledger) - want) < Decimal("1e-12")
    lines = ledger.execute(
        'SELECT "SkuPriceDetails", "ConsumedQuantity", "PricingUnit", "ServiceCategory", "x_TokenKind" '
        'FROM cost_lines ORDER BY "x_TokenKind"'
    )
    kinds = {row[4]: row for row in lines}
    assert set(kinds) == {"uncached_input", "cache_read", "output"}
    details = json.loads(kinds["cache_read"][0])
    assert details == {
        "ModelId": "gpt-4o",
        "TokenDirection": "Input",
        "TokenCacheAction": "Read",
        "x_TokenKind": "cache_read",
    }
    assert kinds["cache_read"][1] == 400
    assert {r[2] for r in lines} == {"1000000 Tokens"}
    assert {r[3] for r in lines} == {"AI and Machine Learning"}


def test_replayed_events_are_not_counted_twice(ledger):
    table = events([call("e1", uncached_input=1000, output=10), call("e2", uncached_input=50, output=5)])
    ingest_usage_events(ledger, table, Pricer())
    before = total_billed(ledger)
    again = ingest_usage_events(ledger, table, Pricer())
    assert again.new_events == 0
    assert total_billed(ledger) == before
    assert ledger.execute("SELECT count(*) FROM usage_events")[0][0] == 2


def test_late_event_rebuilds_its_day(ledger):
    ingest_usage_events(ledger, events([call("e1", uncached_input=1000, output=10)]), Pricer())
    before = total_billed(ledger)
    ingest_usage_events(ledger, events([call("e2", hour=23, uncached_input=2000, output=20)]), Pricer())
    late = expected_cost("openai", "gpt-4o", datetime(2025, 3, 1, 23), uncached_input=2000, output=20)
    assert abs(total_billed(ledger) - (before + late)) < Decimal("1e-12")
    days = ledger.execute('SELECT count(DISTINCT "ChargePeriodStart") FROM cost_lines')[0][0]
    assert days == 1


def test_unknown_model_is_flagged_not_silently_free(ledger):
    table = events(
        [{**call("e1", uncached_input=100, output=10), "provider": "openai", "model": "northwind-ft-9"}]
    )
    result = ingest_usage_events(ledger, table, Pricer())
    assert result.unpriced_events == 1
    flags = ledger.execute('SELECT DISTINCT "x_PricingFlag", "ListUnitPrice" FROM cost_lines')
    assert flags == [("unknown_model", None)]
    assert ledger.execute("SELECT pricing_flag, list_cost FROM usage_events") == [("unknown_model", None)]


def test_timezone_aware_timestamps_are_stored_in_utc(ledger):
    row = call("e1", uncached_input=10, output=1)
    row["timestamp"] = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    ingest_usage_events(ledger, events([row]), Pricer())
    assert ledger.execute("SELECT timestamp FROM usage_events")[0][0] == datetime(2025, 3, 1, 23, 30)


@pytest.mark.parametrize(
    ("bad", "column", "row"),
    [
        ({"output_tokens": -5}, "output_tokens", 2),
        ({"event_id": None}, "event_id", 2),
        ({"uncached_input_tokens": "many"}, "uncached_input_tokens", 2),
    ],
)
def test_bad_event_is_rejected_naming_row_and_field(ledger, bad, column, row):
    ingest_usage_events(ledger, events([call("e0", uncached_input=10, output=1)]), Pricer())
    before = total_billed(ledger)
    good = {**call("e1", uncached_input=10, output=1)}
    broken = {**call("e2", uncached_input=10, output=1), **bad}
    rows = [good, broken]
    if isinstance(bad.get("uncached_input_tokens"), str):
        rows = [{k: str(v) if k == "uncached_input_tokens" else v for k, v in r.items()} for r in rows]
    with pytest.raises(IngestError) as raised:
        ingest_usage_events(ledger, events(rows), Pricer(), origin="batch.parquet")
    problem = raised.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("batch.parquet", row, column)
    assert total_billed(ledger) == before
    assert ledger.execute("SELECT count(*) FROM usage_events")[0][0] == 1


def test_missing_required_field_is_named(ledger):
    table = pa.table(
        {"event_id": ["x"], "timestamp": [datetime(2025, 3, 1)], "source": ["otlp"], "provider": ["openai"]}
    )
    with pytest.raises(IngestError, match="model"):
        ingest_usage_events(ledger, table, Pricer())


def test_reprice_applies_an_override_to_stored_history(ledger):
    from datetime import date

    from comptroller.ingest.usage_events import reprice_usage_events
    from comptroller.pricing import ContractOverride

    ingest_usage_events(
        ledger, events([call("e1", uncached_input=1000, output=100), call("e2", day=2, output=10)]), Pricer()
    )
    before = total_billed(ledger)
    discount = ContractOverride(
        id="ea", provider="openai", model="gpt-4o*", effective_from=date(2025, 3, 2), discount_pct=50
    )
    result = reprice_usage_events(ledger, Pricer([discount]), start=date(2025, 3, 2))
    assert result.received == 1 and result.days == (date(2025, 3, 2),)
    day2 = expected_cost("openai", "gpt-4o", datetime(2025, 3, 2, 10), output=10)
    assert abs(total_billed(ledger) - (before - day2 / 2)) < Decimal("1e-12")
    assert ledger.execute("SELECT count(*) FROM usage_events")[0][0] == 2
    assert (
        ledger.execute("SELECT count(*) FROM cost_lines WHERE \"x_PriceVersion\" LIKE '%+override:ea'")[0][0]
        == 1
    )
