"""A FOCUS export restates a billing period per account: re-ingesting replaces, never adds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptroller.errors import IngestError
from comptroller.ingest.focus_ingest import ingest_focus
from tests.focus_fixtures import ledger_totals, write_focus

FEBRUARY = {
    "BillingPeriodStart": "2025-02-01T00:00:00Z",
    "BillingPeriodEnd": "2025-03-01T00:00:00Z",
    "ChargePeriodStart": "2025-02-10T00:00:00Z",
    "ChargePeriodEnd": "2025-02-11T00:00:00Z",
}


def january(tmp_path, name="jan.csv", costs=("10", "2.5")):
    return write_focus(tmp_path / name, [{"cost": c, "ResourceId": f"r{i}"} for i, c in enumerate(costs)])


def test_ingesting_the_same_file_twice_does_not_double_count(ledger, tmp_path):
    path = january(tmp_path)
    first = ingest_focus(ledger, [path])
    once = ledger_totals(ledger)

    second = ingest_focus(ledger, [path])

    assert once == (2, Decimal("12.5"), Decimal("12.5"))
    assert ledger_totals(ledger) == once
    assert second.replaced_rows == 2
    assert second.delivery_id != first.delivery_id
    assert ledger.execute('SELECT DISTINCT "x_DeliveryId" FROM cost_lines') == [(second.delivery_id,)]


def test_corrected_re_export_replaces_its_period_and_account(ledger, tmp_path):
    ingest_focus(ledger, [january(tmp_path, "jan.csv", ("10", "2.5", "7"))])
    corrected = january(tmp_path, "jan_corrected.parquet", ("9.75", "2.5"))

    result = ingest_focus(ledger, [corrected])

    assert result.replaced_rows == 3
    assert ledger_totals(ledger) == (2, Decimal("12.25"), Decimal("12.25"))
    assert ledger.execute('SELECT DISTINCT "x_SourceFile" FROM cost_lines') == [("jan_corrected.parquet",)]


def test_a_different_billing_period_adds(ledger, tmp_path):
    ingest_focus(ledger, [january(tmp_path)])
    feb = write_focus(tmp_path / "feb.csv", [{"cost": "4", "ResourceId": "f1", **FEBRUARY}])

    result = ingest_focus(ledger, [feb])

    assert result.replaced_rows == 0
    assert ledger_totals(ledger) == (3, Decimal("16.5"), Decimal("16.5"))


def test_a_different_billing_account_adds(ledger, tmp_path):
    ingest_focus(ledger, [january(tmp_path)])
    other = write_focus(tmp_path / "acct2.csv", [{"cost": "4", "BillingAccountId": "acct-2"}])

    ingest_focus(ledger, [other])

    assert ledger_totals(ledger) == (3, Decimal("16.5"), Decimal("16.5"))


def test_a_different_source_does_not_replace(ledger, tmp_path):
    path = january(tmp_path)
    ingest_focus(ledger, [path], source="aws")
    ingest_focus(ledger, [path], source="azure")
    assert ledger_totals(ledger) == (4, Decimal(25), Decimal(25))
    ingest_focus(ledger, [path], source="aws")
    assert ledger_totals(ledger) == (4, Decimal(25), Decimal(25))


def test_re_export_replaces_only_the_periods_it_restates(ledger, tmp_path):
    both = write_focus(
        tmp_path / "jan_feb.csv",
        [{"cost": "10", "ResourceId": "j"}, {"cost": "20", "ResourceId": "f", **FEBRUARY}],
    )
    ingest_focus(ledger, [both])
    feb_again = write_focus(tmp_path / "feb.csv", [{"cost": "21", "ResourceId": "f", **FEBRUARY}])

    ingest_focus(ledger, [feb_again])

    assert ledger_totals(ledger) == (2, Decimal(31), Decimal(31))


def test_two_files_in_one_call_are_one_delivery(ledger, tmp_path):
    """Both parts of a split export restate the same period: neither replaces the other."""
    part1 = write_focus(tmp_path / "part-1.csv", [{"cost": "1", "ResourceId": "a"}])
    part2 = write_focus(tmp_path / "part-2.csv.gz", [{"cost": "2", "ResourceId": "b"}])

    result = ingest_focus(ledger, [part1, part2])

    assert result.rows == 2
    assert [f.rows for f in result.files] == [1, 1]
    assert result.replaced_rows == 0
    assert ledger_totals(ledger) == (2, Decimal(3), Decimal(3))
    assert ledger.execute('SELECT DISTINCT "x_DeliveryId" FROM cost_lines') == [(result.delivery_id,)]

    again = ingest_focus(ledger, [part1, part2])

    assert again.replaced_rows == 2
    assert ledger_totals(ledger) == (2, Decimal(3), Decimal(3))


def test_a_later_delivery_of_one_part_replaces_the_whole_period(ledger, tmp_path):
    part1 = write_focus(tmp_path / "part-1.csv", [{"cost": "1", "ResourceId": "a"}])
    part2 = write_focus(tmp_path / "part-2.csv", [{"cost": "2", "ResourceId": "b"}])
    ingest_focus(ledger, [part1, part2])

    ingest_focus(ledger, [part1])

    assert ledger_totals(ledger) == (1, Decimal(1), Decimal(1))


def test_a_rejected_re_export_keeps_the_previous_one(ledger, tmp_path):
    ingest_focus(ledger, [january(tmp_path)])
    before = ledger_totals(ledger)
    bad = write_focus(tmp_path / "jan_bad.csv", [{"cost": "99"}, {"cost": "1", "BillingCurrency": "dollars"}])

    with pytest.raises(IngestError):
        ingest_focus(ledger, [bad])

    assert ledger_totals(ledger) == before
