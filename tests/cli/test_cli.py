"""The command line as a user drives it: ingest, spend, rules, export, errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from comptroller.cli.main import app
from tests.export.test_focus_export import focus_csv

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def export_file(home: Path) -> Path:
    return focus_csv(
        home / "aws.csv",
        [
            ("10", "Atlas Nimbus", "i-1", ""),
            ("5", "Orion Data", "i-2", '{"team":"growth"}'),
        ],
    )


def test_ingest_then_spend_json(home):
    assert run("ingest", str(export_file(home))).exit_code == 0
    result = run("spend", "--by", "team,SubAccountName", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["currency"] == "USD"
    assert data["total"] == 15.0
    assert {"team": None, "SubAccountName": "Atlas Nimbus", "cost": 10.0} in data["rows"]
    assert {"team": "growth", "SubAccountName": "Orion Data", "cost": 5.0} in data["rows"]


def test_adding_a_rule_reattributes_history(home):
    run("ingest", str(export_file(home)))
    added = run("rules", "add", "team=search", "--when", "SubAccountName = 'Atlas Nimbus'")
    assert added.exit_code == 0, added.stdout
    rows = json.loads(run("spend", "--by", "team", "--json").stdout)["rows"]
    assert {"team": "search", "cost": 10.0} in rows
    run("rules", "remove", "1")
    rows = json.loads(run("spend", "--by", "team", "--json").stdout)["rows"]
    assert {"team": None, "cost": 10.0} in rows


def test_reingest_is_idempotent(home):
    path = export_file(home)
    run("ingest", str(path))
    run("ingest", str(path))
    assert json.loads(run("spend", "--json").stdout)["total"] == 15.0


def test_bad_file_exits_2_and_names_row_and_column(home):
    run("ingest", str(export_file(home)))
    bad = home / "bad.csv"
    bad.write_text(export_file(home).read_text().replace("5,acct-1", "5 USD,acct-1"))
    result = runner.invoke(app, ["ingest", str(bad)])
    assert result.exit_code == 2
    assert "row 2" in result.stderr and "BilledCost" in result.stderr
    assert json.loads(run("spend", "--json").stdout)["total"] == 15.0


def test_unknown_dimension_is_a_clear_error(home):
    run("ingest", str(export_file(home)))
    result = runner.invoke(app, ["spend", "--by", "colour"])
    assert result.exit_code == 2
    assert "unknown dimension 'colour'" in result.stderr


def test_export_focus_writes_a_file(home):
    run("ingest", str(export_file(home)))
    out = home / "out.parquet"
    result = run("export", "focus", "--out", str(out), "--format", "parquet")
    assert result.exit_code == 0
    assert out.exists() and "2 rows" in result.stdout


def test_date_range_filters(home):
    run("ingest", str(export_file(home)))
    inside = json.loads(run("spend", "--from", "2025-03-01", "--to", "2025-03-01", "--json").stdout)
    outside = json.loads(run("spend", "--from", "2025-03-02", "--json").stdout)
    assert inside["total"] == 15.0
    assert outside["total"] == 0.0


def test_changes_from_the_shell_are_audited_and_the_chain_verifies(home):
    assert run("ingest", str(export_file(home))).exit_code == 0
    assert run("rules", "add", "team=search", "--when", "SubAccountName = 'Atlas Nimbus'").exit_code == 0
    assert run("owners", "set", "team=search", "dana@example.com").exit_code == 0
    assert run("owners", "assign", "--match", "SubAccountName=Orion Data", "erin@example.com").exit_code == 0
    assert run("rules", "remove", "1").exit_code == 0
    entries = json.loads(run("audit", "list", "--json").stdout)
    actions = [e["action"] for e in sorted(entries, key=lambda e: e["seq"])]
    assert actions == ["rule.create", "owner.set", "unowned.assign", "rule.delete"]
    assert all(e["actor"].startswith("cli:") for e in entries)
    assert run("audit", "verify").exit_code == 0
