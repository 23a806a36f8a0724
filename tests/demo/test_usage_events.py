"""Usage events look like real gateway/OTLP traffic and fit the ledger's usage-event schema."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from comptroller.ledger.schema import USAGE_EVENT_COLUMNS, Kind

PRICED_AT_INGEST = {"price_version", "pricing_flag", "delivery_id"}
ARROW = {
    Kind.DECIMAL: pa.decimal128(38, 12),  # gateway-only money columns (avoided_cost), null in the demo
    Kind.STRING: pa.string(),
    Kind.JSON: pa.string(),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.INTEGER: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
}


@pytest.fixture(scope="module")
def events(demo):
    return demo.usage_events


def col(events, name):
    return events.column(name).to_numpy(zero_copy_only=False)


def total_input(events):
    return sum(col(events, f"{k}_tokens") for k in ("uncached_input", "cache_read", "cache_write"))


def test_columns_are_the_schema_minus_what_ingest_adds(events):
    expected = [
        c
        for c in USAGE_EVENT_COLUMNS
        if c.name not in PRICED_AT_INGEST and not c.name.startswith(("list_cost", "contracted_cost"))
    ]
    assert events.column_names == [c.name for c in expected]
    for c in expected:
        assert events.schema.field(c.name).type == ARROW[c.kind], c.name
        if not c.nullable:
            assert events.column(c.name).null_count == 0, c.name


def test_token_shapes_match_public_traces(events):
    ok = col(events, "status") == "ok"
    inputs, outputs = total_input(events), col(events, "output_tokens")
    assert 1_000 <= np.median(inputs) <= 1_500
    assert 13 <= np.median(outputs) <= 130
    assert 13 <= np.median(outputs[ok]) <= 130
    assert np.percentile(inputs, 99) > 5 * np.median(inputs)  # heavy tail
    for name in ("uncached_input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"):
        assert (col(events, name) >= 0).all()


def test_failed_calls_produce_nothing(events):
    failed = col(events, "status") != "ok"
    assert set(col(events, "status")) == {"ok", "error", "rate_limited"}
    assert (col(events, "output_tokens")[failed] == 0).all()
    assert (col(events, "reasoning_tokens")[failed] == 0).all()
    assert all(col(events, "error_type")[failed] != None)  # noqa: E711  (object array)


def test_models_and_token_kinds_by_provider(events):
    models = set(col(events, "model"))
    assert {
        "gpt-4o",
        "gpt-4o-mini",
        "o4-mini",
        "text-embedding-3-small",
        "claude-sonnet-4-20250514",
        "claude-3-5-haiku-20241022",
        "claude-opus-4-20250514",
        "gemini-2.0-flash",
        "gemini-1.5-pro",
        "northwind-llama-ft-v2",
    } <= models
    provider, model = col(events, "provider"), col(events, "model")
    reasoning = col(events, "reasoning_tokens")
    assert reasoning[model == "o4-mini"].sum() > 0 and reasoning[model != "o4-mini"].sum() == 0
    writes = col(events, "cache_write_tokens")
    assert writes[provider == "anthropic"].sum() > 0 and writes[provider == "openai"].sum() == 0
    assert col(events, "cache_read_tokens")[provider == "openai"].sum() > 0
    embeddings = col(events, "operation") == "embeddings"
    assert embeddings.any() and (col(events, "output_tokens")[embeddings] == 0).all()


def test_daily_and_weekly_rhythm(events):
    ts = events.column("timestamp")
    hours = np.bincount(pc.hour(ts).to_numpy(), minlength=24)
    assert hours.max() > 2.5 * hours.min()
    days = pc.day_of_week(ts).to_numpy()  # Monday = 0
    dates = pc.strftime(ts, "%Y-%m-%d").to_numpy(zero_copy_only=False)
    per_day = {d: (dates == d).sum() for d in set(dates)}
    weekend = [n for d, n in per_day.items() if days[dates == d][0] >= 5]
    weekday = [n for d, n in per_day.items() if days[dates == d][0] < 5]
    assert np.median(weekend) < 0.6 * np.median(weekday)


def test_sources_ids_and_tags(events):
    source = col(events, "source")
    assert (source == "gateway").mean() > 0.75 and (source == "otlp").any()
    assert col(events, "event_id").size == len(set(col(events, "event_id")))
    assert (col(events, "api_key_id")[source == "otlp"] == None).all()  # noqa: E711
    for tag in set(col(events, "tags")) - {None}:
        assert isinstance(json.loads(tag), dict)
    assert set(col(events, "environment")) == {"prod", "staging", "dev"}
    assert {"enterprise", "smb", "consumer"} <= set(col(events, "customer_segment"))
    assert set(col(events, "currency")) == {"USD"}
    times = events.column("timestamp").to_numpy()
    assert (np.diff(times) >= np.timedelta64(0, "us")).all()


def test_attribution_mostly_present_but_not_everywhere(events):
    team = col(events, "team")
    missing = (team == None).mean()  # noqa: E711
    assert 0 < missing < 0.05
    assert {"support-triage-agent", "code-review-agent", "invoice-agent"} <= set(col(events, "agent"))
