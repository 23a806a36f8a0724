"""`comptroller seats`: contracts and activity in, monthly seat lines and idle seats out."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from comptroller.cli.main import app

runner = CliRunner()
SEATS = Path(__file__).parents[1] / "ingest" / "fixtures" / "seats"


def test_seat_contracts_become_spend(home):
    result = runner.invoke(
        app,
        [
            "seats",
            "ingest",
            "--contracts",
            str(SEATS / "contracts.csv"),
            "--activity",
            str(SEATS / "chatgpt_enterprise_users.csv"),
            "--as-of",
            "2025-03-15",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    layers = json.loads(runner.invoke(app, ["spend", "--by", "cost_layer", "--json"]).stdout)
    seats = json.loads(runner.invoke(app, ["spend", "--by", "ServiceName", "--json"]).stdout)
    assert {r["cost_layer"] for r in layers["rows"]} == {"saas_seats"}
    assert seats["total"] == layers["total"] > 0


def test_idle_seats_are_listed(home):
    result = runner.invoke(
        app,
        [
            "seats",
            "utilization",
            str(SEATS / "chatgpt_enterprise_users.csv"),
            "--as-of",
            "2025-03-15",
            "--json",
        ],
        catch_exceptions=False,
    )
    rows = json.loads(result.stdout)
    idle = [r["email"] for r in rows if not r["active_last_30d"]]
    assert rows and idle and len(idle) < len(rows)


def test_bad_contract_file_is_named(home, tmp_path):
    bad = tmp_path / "contracts.csv"
    bad.write_text((SEATS / "contracts.csv").read_text().replace(",5,60,", ",-5,60,"))
    result = runner.invoke(app, ["seats", "ingest", "--contracts", str(bad), "--as-of", "2025-03-15"])
    assert result.exit_code == 2
    assert "contracts.csv" in result.stderr and "row 1" in result.stderr
