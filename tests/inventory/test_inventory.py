"""Inventory: every AI vendor, product, model and agent seen anywhere, matched to use cases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from comptroller.attribution.specs import Attribution, RuleSpec
from comptroller.ingest.expenses import ingest_expenses
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.inventory.discover import discover
from comptroller.inventory.items import known_vs_found
from comptroller.inventory.matching import RegisteredUse
from comptroller.pricing import Pricer
from tests.focus_fixtures import write_focus

EXPENSES = """date,merchant,amount,currency,employee,cost centre,description
2025-01-05,MIDJOURNEY INC,30.00,USD,ana@example.com,Marketing,image plan
2025-01-20,MIDJOURNEY INC,30.00,USD,ben@example.com,Marketing,image plan
2025-01-09,PERPLEXITY.AI,20.00,USD,ana@example.com,Marketing,research
2025-01-11,OFFICE DEPOT,80.00,USD,cy@example.com,Ops,paper
"""


@pytest.fixture
def loaded(ledger, tmp_path):
    write_focus(
        tmp_path / "bill.csv",
        [
            {
                "ProviderName": "Pinecone",
                "PublisherName": "Pinecone",
                "ServiceName": "Pinecone Serverless",
                "cost": "500",
                "ChargePeriodStart": "2025-01-03T00:00:00Z",
                "ChargePeriodEnd": "2025-01-04T00:00:00Z",
            },
            {
                "ProviderName": "Pinecone",
                "PublisherName": "Pinecone",
                "ServiceName": "Pinecone Serverless",
                "cost": "250",
                "ChargePeriodStart": "2025-01-17T00:00:00Z",
                "ChargePeriodEnd": "2025-01-18T00:00:00Z",
            },
            {
                "ProviderName": "Anysphere",
                "PublisherName": "Anysphere",
                "ServiceName": "Cursor Business",
                "cost": "400",
                "x_SeatsAssigned": "20",
            },
        ],
    )
    ingest_focus(ledger, [tmp_path / "bill.csv"])
    (tmp_path / "cards.csv").write_text(EXPENSES)
    ingest_expenses(ledger, [tmp_path / "cards.csv"])
    calls = [
        {
            "event_id": f"e{i}",
            "timestamp": datetime(2025, 1, 2 + i),
            "source": "gateway",
            "provider": "openai",
            "model": "gpt-4o",
            "agent": "triage-bot" if i % 2 else None,
            "api_key_id": f"key-{i % 3}",
            "uncached_input_tokens": 1000,
            "output_tokens": 100,
        }
        for i in range(6)
    ]
    calls.append(
        {
            "event_id": "o1",
            "timestamp": datetime(2025, 1, 8),
            "source": "otlp",
            "provider": "anthropic",
            "model": "claude-3-5-haiku-20241022",
            "uncached_input_tokens": 500,
            "output_tokens": 50,
        }
    )
    ingest_usage_events(ledger, pa.Table.from_pylist(calls), Pricer())
    return ledger


USES = [
    RegisteredUse(
        "uc-1",
        "Support triage",
        "live",
        vendors=frozenset({"OpenAI"}),
        models=frozenset({"gpt-4o"}),
        agents=frozenset({"triage-bot"}),
    ),
    RegisteredUse("uc-2", "Semantic search", "in_review", vendors=frozenset({"pinecone"})),
    RegisteredUse("uc-3", "Old pilot", "retired", vendors=frozenset({"Anthropic"})),
]


def by_name(items):
    return {(i.kind, i.name): i for i in items}


def test_every_source_is_seen_and_matched(loaded):
    items = by_name(discover(loaded, Attribution(), USES))
    midjourney = items[("vendor", "Midjourney")]
    assert midjourney.shadow and midjourney.sources == {"expenses"}
    assert midjourney.spend == Decimal(60)
    assert midjourney.users == 2  # two cardholders
    assert midjourney.first_seen == date(2025, 1, 5) and midjourney.last_seen == date(2025, 1, 20)
    assert ("vendor", "Office Depot") not in items  # not an AI vendor: never ingested

    openai = items[("vendor", "OpenAI")]
    assert openai.status == "registered" and openai.use_cases == ("uc-1",)
    assert "gateway" in openai.sources
    assert openai.users == 3  # three calling keys
    assert openai.spend > 0  # the rolled-up token lines, counted once
    assert items[("agent", "triage-bot")].status == "registered"
    assert items[("model", "gpt-4o")].status == "registered"

    pinecone = items[("vendor", "Pinecone")]
    assert pinecone.status == "in_review" and pinecone.spend == Decimal(750)
    assert items[("product", "Pinecone Serverless")].status == "in_review"  # registered through its vendor

    # A retired use case accounts for nothing: Anthropic traffic seen only in OTLP is shadow AI.
    anthropic = items[("vendor", "Anthropic")]
    assert anthropic.shadow and anthropic.sources == {"otlp"}
    assert items[("product", "Cursor Business")].users == 20  # seats


def test_spend_is_not_counted_twice(loaded):
    items = discover(loaded, Attribution(), USES)
    total = loaded.execute('SELECT sum("EffectiveCost") FROM cost_lines')[0][0]
    assert sum((i.spend for i in items if i.kind == "vendor"), Decimal(0)) == total


def test_rules_resolve_the_names_the_inventory_uses(loaded):
    rule = RuleSpec(dimension="agent", value="card-agent", condition="x_Employee = 'ana@example.com'")
    items = by_name(discover(loaded, Attribution(rules=(rule,)), USES))
    assert items[("agent", "card-agent")].spend == Decimal(50)


def test_known_vs_found_counts(loaded):
    summary = {s.kind: s for s in known_vs_found(discover(loaded, Attribution(), USES))}
    vendors = summary["vendor"]
    assert vendors.found == vendors.registered + vendors.in_review + vendors.unregistered
    assert (vendors.registered, vendors.in_review) == (1, 1)
    assert vendors.unregistered_spend >= Decimal(110)  # Midjourney 60 + Perplexity 20 + Cursor seats ...


def test_period_bounds_what_is_seen(loaded):
    items = by_name(discover(loaded, Attribution(), USES, start=date(2025, 1, 15), end=date(2025, 1, 31)))
    assert items[("vendor", "Midjourney")].spend == Decimal(30)
    assert ("vendor", "Perplexity") not in items
