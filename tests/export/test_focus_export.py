"""The FOCUS export conforms to FOCUS 1.2 rule by rule and keeps every cent."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from comptroller.attribution.specs import AllocationSpec, Attribution, RuleSpec
from comptroller.export.focus_export import export_focus
from comptroller.focus_validation import read_focus_file, validate_file
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import Pricer

HEADER = (
    "BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,"
    "ChargeCategory,ChargeClass,ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,"
    "ContractedCost,EffectiveCost,InvoiceIssuerName,ListCost,PricingQuantity,PricingUnit,ProviderName,"
    "PublisherName,ServiceCategory,ServiceName,SubAccountName,ResourceId,Tags,ResourceGroup"
)


def focus_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """rows: (cost, sub account, resource id, tags json)"""
    lines = [HEADER]
    for cost, sub, resource, tags in rows:
        quoted = '"' + tags.replace('"', '""') + '"' if tags else "NULL"
        lines.append(
            f"{cost},acct-1,Acct,USD,2025-04-01T00:00:00Z,2025-03-01T00:00:00Z,Usage,NULL,GPU hours,Usage-Based,"
            f"2025-03-02T00:00:00Z,2025-03-01T00:00:00Z,{cost},{cost},AWS,{cost},2,Hours,AWS,AWS,Compute,"
            f"Amazon EC2,{sub},{resource},{quoted},rg-1"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def loaded(ledger, tmp_path):
    rows = [
        ("10.123456789012", "Atlas Nimbus", "i-1", '{"team":"search"}'),
        ("4.5", "Orion Data", "i-2", '{"team":"growth"}'),
        ("6", "Shared", "i-shared-1", '{"cost_pool":"platform"}'),
        ("3", "Shared", "i-shared-2", '{"cost_pool":"platform"}'),
    ]
    ingest_focus(ledger, [focus_csv(tmp_path / "aws.csv", rows)])
    calls = pa.Table.from_pylist(
        [
            {
                "event_id": f"e{i}",
                "timestamp": datetime(2025, 3, 1, 9 + i),
                "source": "gateway",
                "provider": p,
                "model": m,
                "uncached_input_tokens": 1200,
                "cache_read_tokens": 300,
                "output_tokens": 80,
                "team": "search",
            }
            for i, (p, m) in enumerate(
                [("openai", "gpt-4o"), ("anthropic", "claude-3-5-haiku-20241022"), ("x", "mystery")]
            )
        ]
    )
    ingest_usage_events(ledger, calls, Pricer())
    return ledger


def ledger_total(ledger) -> Decimal:
    return ledger.execute('SELECT sum("BilledCost") FROM cost_lines')[0][0]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_conforms_to_focus_1_2(loaded, tmp_path, fmt):
    out = tmp_path / f"focus.{fmt}"
    result = export_focus(loaded, Attribution(), out, fmt)
    report = validate_file(out, "1.2")
    assert report.ok, report.summary()
    table = read_focus_file(out)
    assert table.num_rows == result.rows == loaded.execute("SELECT count(*) FROM cost_lines")[0][0]
    custom = [c for c in table.column_names if not c[0].isupper()]
    assert custom and all(c.startswith("x_") for c in custom)
    assert "x_ResourceGroup" in table.column_names
    assert "AllocatedMethodId" not in table.column_names
    assert "ServiceProviderName" not in table.column_names
    total = sum(Decimal(str(v)) for v in table["BilledCost"].to_pylist())
    assert abs(total - ledger_total(loaded)) < Decimal("0.000001")


def test_export_dates_are_utc_iso_8601(loaded, tmp_path):
    out = export_focus(loaded, Attribution(), tmp_path / "f.csv").path
    first = out.read_text().splitlines()[1]
    assert "2025-03-01T00:00:00Z" in first
    stamps = pq.read_schema(export_focus(loaded, Attribution(), tmp_path / "f.parquet", "parquet").path)
    assert str(stamps.field("ChargePeriodStart").type) == "timestamp[us, tz=UTC]"


def test_export_carries_resolved_attribution(loaded, tmp_path):
    rules = Attribution(
        rules=(
            RuleSpec(
                dimension="team", value="data", condition="SubAccountName = 'Orion Data'", override=True
            ),
        )
    )
    out = export_focus(loaded, rules, tmp_path / "f.parquet", "parquet").path
    table = pq.read_table(out).to_pylist()
    orion = [r for r in table if r["SubAccountName"] == "Orion Data"]
    assert orion and {r["x_Team"] for r in orion} == {"data"}


def test_allocated_export_adds_1_3_columns_and_ratios_sum_to_one(loaded, tmp_path):
    allocation = AllocationSpec(
        name="platform",
        condition="tag('cost_pool') = 'platform'",
        dimension="team",
        method="fixed",
        weights={"search": 2, "growth": 1},
    )
    out = export_focus(loaded, Attribution(allocations=(allocation,)), tmp_path / "a.parquet", "parquet").path
    report = validate_file(out, "1.3")
    assert report.ok, report.summary()
    rows = pq.read_table(out).to_pylist()
    ratios: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["AllocatedMethodId"] == "platform":
            ratios[row["ResourceId"]] += Decimal(
                str(json.loads(row["AllocatedMethodDetails"])["Elements"][0]["AllocatedRatio"])
            )
    assert set(ratios) == {"i-shared-1", "i-shared-2"}
    assert all(abs(r - 1) < Decimal("1e-9") for r in ratios.values())
    total = sum((Decimal(str(r["EffectiveCost"])) for r in rows), Decimal(0))
    assert round(total, 2) == round(ledger_total(loaded), 2)
    shares = defaultdict(Decimal)
    for r in rows:
        if r["AllocatedMethodId"] == "platform":
            shares[r["x_Team"]] += Decimal(str(r["EffectiveCost"]))
    assert round(shares["search"], 6) == Decimal("6.000000")
    assert round(shares["growth"], 6) == Decimal("3.000000")
