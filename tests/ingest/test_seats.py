"""SaaS seat contracts and activity exports become monthly FOCUS Purchase lines, atomically."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from comptroller.attribution.specs import Attribution
from comptroller.errors import IngestError
from comptroller.export.focus_export import export_focus
from comptroller.focus_validation import read_focus_file, validate_file, validate_table
from comptroller.ingest.seats import ingest_seats, seat_utilization
from comptroller.ledger.schema import FOCUS_1_2_COLUMNS
from tests.focus_fixtures import ledger_totals

FIXTURES = Path(__file__).parent / "fixtures" / "seats"
CONTRACTS = FIXTURES / "contracts.csv"
CHATGPT = FIXTURES / "chatgpt_enterprise_users.csv"
GITHUB = FIXTURES / "github_copilot_seats.csv"
M365 = FIXTURES / "m365_copilot_usage.csv"
ACTIVITY = [CHATGPT, GITHUB, M365]
AS_OF = date(2025, 3, 15)

# From contracts.csv: (seats, price per seat per month, first month); months run to March 2025.
EXPECTED = {
    "ChatGPT Enterprise": (5, Decimal(60), date(2025, 1, 1)),
    "GitHub Copilot": (4, Decimal(19), date(2025, 2, 1)),
    "Microsoft 365 Copilot": (3, Decimal(360) / 12, date(2024, 11, 1)),
}
LINE_COLUMNS = (
    '"ServiceName", "BillingPeriodStart", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", '
    '"PricingQuantity", "ListUnitPrice", "ContractedUnitPrice", "ChargeCategory", "ChargeFrequency", '
    '"PricingUnit", "ProviderName", "ServiceCategory", "x_SeatsAssigned", "x_SeatsActive30d", "x_RenewalDate"'
)


def lines(ledger) -> dict[tuple[str, date], tuple]:
    rows = ledger.execute(f"SELECT {LINE_COLUMNS} FROM cost_lines WHERE \"x_Source\" = 'seats'")
    return {(r[0], r[1].date()): r for r in rows}


def ingest(ledger, contracts: Path = CONTRACTS, activity: list[Path] | None = None):
    return ingest_seats(ledger, contracts, ACTIVITY if activity is None else activity, as_of=AS_OF)


def write_contracts(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "contracts.csv"
    text = CONTRACTS.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_one_purchase_line_per_contract_and_month(ledger):
    result = ingest(ledger)
    got = lines(ledger)
    expected_keys = set()
    for product, (_, _, first) in EXPECTED.items():
        month = first
        while month <= date(2025, 3, 1):
            expected_keys.add((product, month))
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    assert set(got) == expected_keys
    assert result.rows == len(expected_keys) == 10
    assert result.months == tuple(sorted({m for _, m in expected_keys}))
    for (product, _), row in got.items():
        seats, price, _ = EXPECTED[product]
        assert row[2] == row[3] == row[4] == row[5] == seats * price
        assert row[6] == seats and row[7] == row[8] == price
        assert (row[9], row[10], row[11], row[13]) == (
            "Purchase",
            "Recurring",
            "Seats",
            "AI and Machine Learning",
        )
    assert got[("GitHub Copilot", date(2025, 3, 1))][12] == "GitHub"
    assert got[("Microsoft 365 Copilot", date(2024, 11, 1))][16] == "2025-11-15"
    assert ledger_totals(ledger) == (10, Decimal(1502), Decimal(1502))


def test_active_counts_follow_the_activity_dates(ledger):
    result = ingest(ledger)
    got = lines(ledger)
    # March (window 2025-02-14..2025-03-15): alice and carol; octocat and monalisa (a -05:00
    # timestamp that is 2025-03-15 in UTC); ada (last active 2025-02-20).
    assert got[("ChatGPT Enterprise", date(2025, 3, 1))][14:16] == ("4", "2")
    assert got[("GitHub Copilot", date(2025, 3, 1))][14:16] == ("4", "2")
    assert got[("Microsoft 365 Copilot", date(2025, 3, 1))][14:16] == ("3", "1")
    # February: ada was active in the window ending 2025-02-28 and nobody's activity is later.
    assert got[("Microsoft 365 Copilot", date(2025, 2, 1))][14:16] == ("3", "1")
    # Assigned counts follow the assignment dates: carol 2025-02-20, mona 2025-03-01.
    assert got[("ChatGPT Enterprise", date(2025, 1, 1))][14] == "3"
    assert got[("GitHub Copilot", date(2025, 2, 1))][14] == "3"
    # A later last activity hides whether the user was active then: unknown, not zero.
    assert got[("ChatGPT Enterprise", date(2025, 2, 1))][15] is None
    assert got[("Microsoft 365 Copilot", date(2025, 1, 1))][15] is None
    summary = {p.product: (p.seats, p.assigned, p.active_30d) for p in result.products}
    assert summary == {
        "ChatGPT Enterprise": (5, 4, 2),
        "GitHub Copilot": (4, 4, 2),
        "Microsoft 365 Copilot": (3, 3, 1),
    }
    assert result.unmatched_users == 0


def test_lines_without_activity_leave_the_seat_counts_empty(ledger):
    ingest(ledger, activity=[])
    assert {row[14:16] for row in lines(ledger).values()} == {(None, None)}


def test_seat_utilization_facts():
    table = seat_utilization(GITHUB, AS_OF)
    facts = {r["user"]: r for r in table.to_pylist()}
    assert table.column_names == [
        "user",
        "email",
        "department",
        "product",
        "assigned",
        "last_active",
        "active_last_30d",
        "days_since_last_active",
        "activity_count",
    ]
    assert {r["product"] for r in facts.values()} == {"GitHub Copilot"}
    assert facts["monalisa"]["last_active"] == date(2025, 3, 15)
    assert facts["hubot"]["active_last_30d"] is False and facts["hubot"]["days_since_last_active"] == 33
    assert facts["mona"]["last_active"] is None and facts["mona"]["active_last_30d"] is False
    chatgpt = {r["email"]: r for r in seat_utilization(CHATGPT, AS_OF).to_pylist()}
    assert chatgpt["alice@acme.example"]["department"] == "Engineering"
    assert chatgpt["alice@acme.example"]["activity_count"] == 120
    m365 = seat_utilization(M365, date(2025, 2, 1)).to_pylist()
    assert [r["active_last_30d"] for r in m365] == [None, True, False]
    assert m365[0]["product"] == "Microsoft 365 Copilot"


def test_reingest_is_idempotent(ledger):
    ingest(ledger)
    before = ledger_totals(ledger), lines(ledger)
    second = ingest(ledger)
    assert second.delivery is not None and second.delivery.replaced_rows == 10
    assert (ledger_totals(ledger), lines(ledger)) == before


def test_corrected_contract_replaces_its_months(ledger, tmp_path):
    ingest(ledger)
    corrected = write_contracts(tmp_path, "copilot-business,4,19", "copilot-business,6,19")
    ingest(ledger, corrected)
    got = lines(ledger)
    assert len(got) == 10
    assert got[("GitHub Copilot", date(2025, 3, 1))][2] == 6 * 19
    assert ledger_totals(ledger)[1] == Decimal(1502 + 2 * 2 * 19)


def test_licence_column_matches_contracts_and_counts_the_rest(ledger, tmp_path):
    cursor = tmp_path / "cursor_members.csv"
    cursor.write_text(
        "Name,Email,Role,Plan,Last Active At,Requests\n"
        "Eve,eve@acme.example,member,Copilot Business,2025-03-01T10:00:00Z,12\n"
        "Finn,finn@acme.example,member,Cursor Business,2025-03-02T10:00:00Z,40\n"
    )
    result = ingest(ledger, activity=[cursor])
    assert result.unmatched_users == 1
    assert lines(ledger)[("GitHub Copilot", date(2025, 3, 1))][14:16] == ("1", "1")


def test_annual_contracts_stop_at_as_of_and_at_their_term(ledger, tmp_path):
    contracts = write_contracts(tmp_path, "2024-11-15,2025-11-14", "2024-11-15,2024-12-20")
    ingest_seats(ledger, contracts, [], as_of=date(2026, 6, 1))
    months = sorted(m for p, m in lines(ledger) if p == "Microsoft 365 Copilot")
    assert months == [date(2024, 11, 1), date(2024, 12, 1)]


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "words"),
    [
        ("Price per seat", "Cost", None, "price_per_seat", "missing required column"),
        ("2025-02-01,2026-01-31", "2025-02-31,2026-01-31", 2, "Term start", "ISO 8601 date"),
        ("copilot-business,4,19", "copilot-business,4,19.x", 2, "Price per seat", "not a number"),
        ("copilot-business,4,19", "copilot-business,-4,19", 2, "Seats", "whole number"),
        ("USD,Monthly", "USD,Fortnightly", 2, "Billing period", "monthly, annual"),
        ("2024-11-15,2025-11-14", "2025-11-15,2025-11-14", 3, "Term end", "ends before"),
    ],
)
def test_bad_contracts_are_rejected_and_change_nothing(ledger, tmp_path, old, new, row, column, words):
    ingest(ledger)
    before = ledger_totals(ledger), lines(ledger)
    bad = write_contracts(tmp_path, old, new)
    with pytest.raises(IngestError) as caught:
        ingest(ledger, bad)
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (str(bad), row, column)
    assert words in problem.message
    assert (ledger_totals(ledger), lines(ledger)) == before


def test_bad_activity_is_rejected_and_changes_nothing(ledger, tmp_path):
    bad = tmp_path / "github.csv"
    bad.write_text(GITHUB.read_text().replace("2025-02-10T08:00:00Z,JetBrains", "yesterday,JetBrains"))
    missing = tmp_path / "no_last_active.csv"
    missing.write_text("email,plan\nx@acme.example,GitHub Copilot\n")
    with pytest.raises(IngestError) as caught:
        ingest(ledger, activity=[CHATGPT, bad, missing])
    problems = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert problems == {(str(bad), 2, "last_activity_at"), (str(missing), None, "last_active")}
    assert ledger_totals(ledger)[0] == 0


def test_activity_export_of_unknown_shape_needs_a_licence_column(ledger, tmp_path):
    odd = tmp_path / "members.csv"
    odd.write_text("email,last seen\nx@acme.example,2025-03-01\n")
    with pytest.raises(IngestError) as caught:
        ingest(ledger, activity=[odd])
    assert [(p.file, p.column) for p in caught.value.problems] == [(str(odd), "licence")]


def test_seat_lines_conform_to_focus_1_2(ledger, tmp_path):
    ingest(ledger)
    out = export_focus(ledger, Attribution(), tmp_path / "focus.parquet", "parquet").path
    report = validate_file(out, "1.2")
    assert report.ok, report.summary()
    table = read_focus_file(out)
    assert {"x_SeatsAssigned", "x_SeatsActive30d", "x_RenewalDate"} <= set(table.column_names)
    assert set(table["x_CostLayer"].to_pylist()) == {"saas_seats"}
    # The lines as stored, before the export fills any conditional column, conform too.
    stored = ledger.cost_lines().filter(lambda t: t.x_Source == "seats").to_pyarrow()
    report = validate_table(stored.select([c.name for c in FOCUS_1_2_COLUMNS]))
    assert report.ok, report.summary()
    assert {v.rule_id.rsplit("/", 1)[1] for v in report.warnings} <= {"datetime-format"}
