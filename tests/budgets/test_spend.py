"""budget_spend against a small ledger on DuckDB and PostgreSQL: FOCUS lines plus gateway events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from comptroller.attribution.specs import Attribution, RuleSpec
from comptroller.budgets.model import Budget
from comptroller.budgets.spend import budget_spend
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import Pricer
from tests.export.test_focus_export import focus_csv

MID_MARCH = datetime(2025, 3, 15, 12, tzinfo=UTC)


def budget(budget_id: str, scope: str, value: str | None, period: str = "monthly", **extra) -> Budget:
    return Budget(
        id=budget_id,
        name=budget_id,
        scope=scope,
        scope_value=value,
        period=period,
        amount=Decimal(100),
        **extra,
    )


@pytest.fixture(scope="module")
def loaded(module_ledger, tmp_path_factory):
    """Cloud lines on 1 March (search 10, growth 4.5, untagged 3) and two gateway calls on
    2 March with key k1 for team search, one call with key k2 for growth."""
    rows = [
        ("10", "Atlas Nimbus", "i-1", '{"team":"search"}'),
        ("4.5", "Orion Data", "i-2", '{"team":"growth"}'),
        ("3", "Shared", "i-3", ""),
    ]
    ledger = module_ledger
    ingest_focus(ledger, [focus_csv(tmp_path_factory.mktemp("focus") / "aws.csv", rows)])
    calls = [
        ("e1", "k1", "search", "support-bot"),
        ("e2", "k1", "search", "support-bot"),
        ("e3", "k2", "growth", "outreach"),
    ]
    events = pa.Table.from_pylist(
        [
            {
                "event_id": event_id,
                "timestamp": datetime(2025, 3, 2, 10 + i),
                "source": "gateway",
                "provider": "openai",
                "model": "gpt-4o",
                "api_key_id": key,
                "team": team,
                "agent": agent,
                "uncached_input_tokens": 100_000,
                "output_tokens": 20_000,
            }
            for i, (event_id, key, team, agent) in enumerate(calls)
        ]
    )
    ingest_usage_events(ledger, events, Pricer())
    per_key = dict(
        ledger.execute("SELECT api_key_id, sum(contracted_cost) FROM usage_events GROUP BY api_key_id")
    )
    return ledger, {key: Decimal(value) for key, value in per_key.items()}


def test_each_scope_reads_its_own_spend_once(loaded):
    ledger, costs = loaded
    k1, k2 = costs["k1"], costs["k2"]
    assert k1 > 0 and k2 > 0
    budgets = [
        budget("all", "portfolio", None),
        budget("search", "team", "search"),
        budget("growth", "team", "growth"),
        budget("key1", "key", "k1"),
        budget("key2", "key", "k2"),
        budget("bot", "agent", "support-bot"),
        budget("nobody", "team", "nobody"),
        budget("model", "model", "gpt-4o"),
    ]
    spent = budget_spend(ledger, budgets, MID_MARCH)
    # Gateway events sit in the ledger twice (as events and as their telemetry roll-up) and are
    # counted once: a team's budget is its cloud lines plus its calls, not plus them again.
    assert spent["search"] == Decimal(10) + k1
    assert spent["growth"] == Decimal("4.5") + k2
    assert spent["all"] == Decimal("17.5") + k1 + k2
    assert spent["key1"] == k1 and spent["key2"] == k2
    assert spent["bot"] == k1
    assert spent["model"] == k1 + k2
    assert spent["nobody"] == 0


def test_only_the_current_period_counts(loaded):
    ledger, costs = loaded
    k1 = costs["k1"]
    start_2nd = datetime(2025, 3, 2).date()
    budgets = [
        budget("search-day", "team", "search", "daily"),
        budget("key-day", "key", "k1", "daily"),
        budget("since-2nd", "team", "search", "total", starts_on=start_2nd),
        budget("week", "team", "search", "weekly"),
    ]
    assert budget_spend(ledger, budgets, datetime(2025, 3, 2, 23, tzinfo=UTC)) == {
        "search-day": k1,
        "key-day": k1,
        "since-2nd": k1,
        "week": Decimal(10) + k1,  # Sat 1 and Sun 2 March are in the week of Mon 24 Feb
    }
    next_day = budget_spend(
        ledger, [*budgets[:2], budget("march", "team", "search")], datetime(2025, 4, 1, tzinfo=UTC)
    )
    assert next_day == {"search-day": 0, "key-day": 0, "march": 0}


def test_rules_and_currency_decide_what_counts(loaded):
    ledger, costs = loaded
    rule = RuleSpec(dimension="team", value="search", condition="SubAccountName = 'Shared'")
    attribution = Attribution(rules=(rule,))
    spent = budget_spend(
        ledger,
        [budget("search", "team", "search"), budget("eur", "portfolio", None, currency="EUR")],
        MID_MARCH,
        attribution=attribution,
    )
    assert spent == {"search": Decimal(13) + costs["k1"], "eur": 0}
