"""The demo goes through the real ingest paths and its export conforms to FOCUS."""

from __future__ import annotations

from datetime import date

import pytest

from comptroller.config import Settings
from comptroller.context import Context
from comptroller.demo.loader import load_demo
from comptroller.export.focus_export import export_focus
from comptroller.focus_validation import validate_file
from comptroller.reports.coverage import unowned_spend
from comptroller.reports.spend import SpendQuery, spend


@pytest.fixture(scope="module")
def demo_context(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo-home")
    with Context(Settings.from_env(home)) as ctx:
        load_demo(ctx, end=date(2026, 11, 23), months=2, scale=0.05)
        yield ctx


def test_demo_spans_all_four_cost_layers(demo_context):
    layers = {
        r["cost_layer"]
        for r in spend(demo_context.ledger, demo_context.attribution(), SpendQuery(by=("cost_layer",))).rows
    }
    assert {"infrastructure", "model_api", "ai_platform", "saas_seats"} <= layers


def test_demo_load_is_idempotent(demo_context):
    attribution = demo_context.attribution()
    before = spend(demo_context.ledger, attribution, SpendQuery(allocate=False)).total
    load_demo(demo_context, end=date(2026, 11, 23), months=2, scale=0.05)
    assert spend(demo_context.ledger, demo_context.attribution(), SpendQuery(allocate=False)).total == before
    assert len(demo_context.attribution().rules) == len(attribution.rules)


def test_allocation_keeps_totals_to_the_cent(demo_context):
    attribution = demo_context.attribution()
    allocated = spend(demo_context.ledger, attribution, SpendQuery(by=("team",)))
    unallocated = spend(demo_context.ledger, attribution, SpendQuery(by=("team",), allocate=False))
    assert attribution.allocations
    assert round(allocated.total, 2) == round(unallocated.total, 2)
    assert allocated.rows != unallocated.rows


def test_demo_has_unowned_spend_to_work_down(demo_context):
    rows = unowned_spend(demo_context.ledger, demo_context.attribution())
    assert rows and rows == sorted(rows, key=lambda r: r.cost, reverse=True)


def test_demo_export_conforms(demo_context, tmp_path):
    out = export_focus(
        demo_context.ledger, demo_context.attribution(), tmp_path / "demo.parquet", "parquet"
    ).path
    report = validate_file(out, "1.3")
    assert report.ok, report.summary()
