"""Budgets from the shell and over REST, with this period's spend beside each one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.gateway.snapshot import Snapshot
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.keys.snapshot_builder import snapshot_path
from tests.api.conftest import issue_token
from tests.keys.api_server import client, serve

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def spend_now(settings: Settings, team: str) -> Decimal:
    """One gateway call for ``team`` an hour ago (this period, whatever today is); its cost."""
    event = {
        "event_id": f"now-{team}",
        "timestamp": datetime.now(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None),
        "source": "gateway",
        "provider": "openai",
        "model": "gpt-4o",
        "team": team,
        "uncached_input_tokens": 1_000_000,
        "output_tokens": 100_000,
    }
    with Context(settings) as ctx:
        ingest_usage_events(ctx.ledger, pa.Table.from_pylist([event]), ctx.pricer())
        return Decimal(ctx.ledger.execute("SELECT sum(contracted_cost) FROM usage_events")[0][0])


def test_cli_create_list_show_update_delete(home):
    cost = spend_now(Settings.from_env(), "search")
    assert (
        run(
            "budgets", "create", "--id", "org", "--name", "Org", "--scope", "portfolio", "--amount", "1000"
        ).exit_code
        == 0
    )
    created = run(
        "budgets", "create", "--id", "search", "--name", "Search", "--scope", "team", "--value", "search",
        "--amount", "100", "--parent", "org", "--behaviour", "alert", "--threshold", "0.5", "--threshold", "0.9",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    listed = {b["id"]: b for b in json.loads(run("budgets", "list", "--json").stdout)}
    search = listed["search"]
    assert Decimal(search["spent"]) == cost.quantize(Decimal("0.0001"))
    assert Decimal(search["remaining"]) == Decimal(100) - Decimal(search["spent"])
    assert Decimal(search["percent_used"]) == (Decimal(search["spent"]) * 100 / 100).quantize(Decimal("0.01"))
    assert search["thresholds"] == ["0.5", "0.9"] and search["behaviour"] == "alert"
    assert Decimal(listed["org"]["spent"]) == Decimal(search["spent"])
    shown = json.loads(run("budgets", "show", "org", "--json").stdout)
    assert [c["id"] for c in shown["children"]] == ["search"]
    snapshot = Snapshot.model_validate_json(snapshot_path(Settings.from_env()).read_text())
    assert {b.id for b in snapshot.budgets} == {"org", "search"}
    assert snapshot.budget_spent["search"] == cost

    assert run("budgets", "update", "search", "--amount", "200", "--disabled").exit_code == 0
    shown = " ".join(run("budgets", "show", "search").stdout.split())
    assert "search (off)" in shown and "$200.00" in shown and "alert" in shown
    refused = run("budgets", "delete", "org")
    assert refused.exit_code == 2 and "child budgets ('search')" in refused.stderr
    assert run("budgets", "delete", "search").exit_code == 0
    assert run("budgets", "delete", "org").exit_code == 0
    assert json.loads(run("budgets", "list", "--json").stdout) == []


def test_cli_errors_name_the_field(home):
    cases = [
        (
            ("budgets", "create", "--name", "x", "--scope", "team", "--amount", "5"),
            "scope_value: a team budget needs",
        ),
        (
            ("budgets", "create", "--name", "x", "--scope", "team", "--value", "a", "--amount", "-5"),
            "amount: Input",
        ),
        (
            ("budgets", "create", "--name", "x", "--scope", "galaxy", "--amount", "5"),
            "scope: Input should be",
        ),
        (("budgets", "create", "--name", "x", "--scope", "portfolio"), "amount: give the limit"),
        (
            ("budgets", "create", "--name", "x", "--scope", "portfolio", "--amount", "5", "--parent", "no"),
            "parent_id:",
        ),
        (("budgets", "show", "nope"), "no budget with id 'nope'"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, args
        assert message in " ".join(result.stderr.split()), (args, result.stderr)


@pytest.fixture
def api(tmp_path) -> Iterator[tuple[httpx.Client, Settings]]:
    settings = Settings.from_env(tmp_path / "home")
    with serve(settings) as url, client(url, settings, "fin", ("finops",)) as finops:
        yield finops, settings


def test_rest_crud_with_spend(api):
    finops, settings = api
    cost = spend_now(settings, "growth")
    created = finops.post(
        "/api/v1/budgets",
        json={"id": "growth", "name": "Growth", "scope": "team", "scope_value": "growth", "amount": "50"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert Decimal(body["spent"]) == cost.quantize(Decimal("0.0001"))
    assert Decimal(body["remaining"]) == Decimal(50) - Decimal(body["spent"])
    assert (
        body["snapshot_version"] == Snapshot.model_validate_json(snapshot_path(settings).read_text()).version
    )
    generated = finops.post("/api/v1/budgets", json={"name": "All", "scope": "portfolio", "amount": 500})
    assert generated.status_code == 201 and len(generated.json()["id"]) == 12
    patched = finops.patch("/api/v1/budgets/growth", json={"amount": 40, "parent_id": generated.json()["id"]})
    assert patched.status_code == 200 and Decimal(patched.json()["amount"]) == 40
    replaced = finops.put(
        "/api/v1/budgets/growth",
        json={
            "name": "Growth daily",
            "scope": "team",
            "scope_value": "growth",
            "amount": 5,
            "period": "daily",
        },
    )
    assert replaced.json()["period"] == "daily" and replaced.json()["parent_id"] is None
    assert {b["id"] for b in finops.get("/api/v1/budgets").json()} == {"growth", generated.json()["id"]}
    assert finops.get("/api/v1/budgets/growth").json()["children"] == []
    assert finops.delete("/api/v1/budgets/growth").status_code == 204
    assert finops.get("/api/v1/budgets/growth").status_code == 404


def test_rest_errors_name_the_field(api):
    finops, _ = api
    bad = finops.post("/api/v1/budgets", json={"name": "x", "scope": "team", "amount": 5})
    assert bad.status_code == 422 and "scope_value" in bad.json()["detail"][0]["msg"]
    negative = finops.post("/api/v1/budgets", json={"name": "x", "scope": "portfolio", "amount": -1})
    assert negative.status_code == 422 and negative.json()["detail"][0]["loc"] == ["body", "amount"]
    orphan = finops.post(
        "/api/v1/budgets", json={"name": "x", "scope": "portfolio", "amount": 1, "parent_id": "no"}
    )
    assert orphan.status_code == 400 and orphan.json()["error"]["message"].startswith("parent_id: ")
    finops.post("/api/v1/budgets", json={"id": "p", "name": "P", "scope": "portfolio", "amount": 10})
    child = finops.post(
        "/api/v1/budgets",
        json={"name": "c", "scope": "team", "scope_value": "t", "amount": 11, "parent_id": "p"},
    )
    assert child.status_code == 400 and child.json()["error"]["message"].startswith("amount: 11 exceeds")
    duplicate = finops.post(
        "/api/v1/budgets", json={"id": "p", "name": "P", "scope": "portfolio", "amount": 10}
    )
    assert duplicate.status_code == 422 and duplicate.json()["detail"][0]["loc"] == ["body", "id"]
    patch = finops.patch("/api/v1/budgets/p", json={"scope": "team"})
    assert patch.status_code == 422 and "scope_value" in patch.json()["detail"][0]["msg"]
    with client(str(finops.base_url), api[1], "val", ("viewer",)) as viewer:
        assert viewer.get("/api/v1/budgets").status_code == 200
        assert viewer.delete("/api/v1/budgets/p").status_code == 403


def test_team_owners_see_their_teams_budgets_only(api):
    finops, settings = api
    for team in ("search", "growth"):
        body = {"id": team, "name": team, "scope": "team", "scope_value": team, "amount": 5}
        assert finops.post("/api/v1/budgets", json=body).status_code == 201
    token = issue_token(settings, "sam", ("team_owner",), ("search",))
    with httpx.Client(base_url=finops.base_url, headers={"Authorization": f"Bearer {token}"}) as owner:
        assert [b["id"] for b in owner.get("/api/v1/budgets").json()] == ["search"]
        assert owner.get("/api/v1/budgets/growth").status_code == 404
        assert owner.post("/api/v1/budgets", json={}).status_code == 403
