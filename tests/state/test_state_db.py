"""The state database migrates to head on SQLite and PostgreSQL, and every model round-trips."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from comptroller.state.db import StateDB, alembic_config
from comptroller.state.models import (
    AllocationRule,
    AttributionRule,
    Delivery,
    OwnerAssignment,
    PriceOverride,
)
from comptroller.state.schema import metadata


def heads(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def test_migrates_to_head(state):
    with state.engine.connect() as con:
        assert set(MigrationContext.configure(con).get_current_heads()) == heads(state.url)
        assert set(inspect(con).get_table_names()) == {*metadata.tables, "alembic_version"}


def test_migrated_schema_matches_the_models(state):
    with state.engine.connect() as con:
        differences = compare_metadata(MigrationContext.configure(con), metadata)
    assert differences == []


def test_opening_a_migrated_database_again_is_harmless(state_url):
    first = StateDB(state_url)
    with first.session() as s, s.begin():
        s.add(OwnerAssignment(dimension="team", value="search", owner="alice"))
    first.close()
    second = StateDB(state_url)
    try:
        with second.session() as s:
            assert s.scalars(select(OwnerAssignment.owner)).all() == ["alice"]
    finally:
        second.close()


def test_every_model_round_trips(state):
    started = datetime(2025, 1, 2, 3, 4, 5)
    rows = [
        Delivery(
            id="d" * 32,
            source="focus",
            files=[{"path": "/data/jan.csv", "rows": 3, "focus_version": "1.2"}],
            rows=3,
            replaced_rows=1,
            status="committed",
            message="ok",
            started_at=started,
            seconds=0.25,
        ),
        AttributionRule(
            position=1,
            dimension="team",
            value="search",
            condition="tag('env') = 'prod'",
            override=True,
            enabled=False,
            description="prod lines",
        ),
        OwnerAssignment(dimension="team", value="search", owner="alice@example.com"),
        AllocationRule(
            name="platform",
            position=1,
            condition="tag('pool') = 'platform'",
            dimension="team",
            method="fixed",
            targets=["search", "growth"],
            weights={"search": 0.25, "growth": 0.75},
            metric=None,
        ),
        PriceOverride(
            id="acme-2025",
            provider="anthropic",
            model="claude-x",
            effective_from=date(2025, 1, 1),
            effective_to=date(2025, 12, 31),
            discount_pct=Decimal("12.5000"),
            unit_prices={"input": "2.75"},
            note="contract",
        ),
    ]
    with state.session() as s, s.begin():
        s.add_all(rows)

    with state.session() as s:
        delivery = s.get(Delivery, "d" * 32)
        assert (delivery.source, delivery.files, delivery.rows, delivery.replaced_rows) == (
            "focus",
            [{"path": "/data/jan.csv", "rows": 3, "focus_version": "1.2"}],
            3,
            1,
        )
        assert (delivery.status, delivery.message, delivery.started_at, delivery.seconds) == (
            "committed",
            "ok",
            started,
            0.25,
        )

        rule = s.scalars(select(AttributionRule)).one()
        assert (rule.position, rule.dimension, rule.value, rule.condition) == (
            1,
            "team",
            "search",
            "tag('env') = 'prod'",
        )
        assert (rule.override, rule.enabled, rule.description) == (True, False, "prod lines")
        assert isinstance(rule.created_at, datetime) and isinstance(rule.updated_at, datetime)

        owner = s.scalars(select(OwnerAssignment)).one()
        assert (owner.dimension, owner.value, owner.owner) == ("team", "search", "alice@example.com")

        allocation = s.scalars(select(AllocationRule)).one()
        assert (allocation.name, allocation.method, allocation.targets, allocation.weights) == (
            "platform",
            "fixed",
            ["search", "growth"],
            {"search": 0.25, "growth": 0.75},
        )
        assert (allocation.metric, allocation.enabled) == (None, True)

        override = s.get(PriceOverride, "acme-2025")
        assert (override.provider, override.model, override.effective_from, override.effective_to) == (
            "anthropic",
            "claude-x",
            date(2025, 1, 1),
            date(2025, 12, 31),
        )
        assert override.discount_pct == Decimal("12.5")
        assert (override.unit_prices, override.note) == ({"input": "2.75"}, "contract")
