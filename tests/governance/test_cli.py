"""``comptroller users|tokens|use-cases`` end to end on an embedded home."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.context import Context
from comptroller.governance import users

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_users_and_tokens(home):
    invoke("users", "create", "ann", "--role", "viewer", "--password", "ann-password")
    invoke("users", "grant", "ann", "--role", "team_owner", "--team", "search")
    out = invoke("tokens", "create", "ann", "--name", "ci", "--scope", "ingest")
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("cmp_")
    listed = json.loads(invoke("tokens", "list", "--json"))
    assert [(t["username"], t["name"], t["scope"]) for t in listed] == [("ann", "ci", "ingest")]
    with Context() as ctx, ctx.state.session() as s, s.begin():
        principal = users.authenticate(s, secret)
        assert principal is not None and principal.teams == {"search"}
    invoke("tokens", "revoke", listed[0]["id"])
    with Context() as ctx, ctx.state.session() as s, s.begin():
        assert users.authenticate(s, secret) is None
    invoke("users", "revoke", "ann", "--role", "viewer")
    assert json.loads(invoke("users", "list", "--json"))[0]["roles"] == ["team_owner"]
    bad = runner.invoke(app, ["users", "grant", "ann", "--role", "root"])
    assert bad.exit_code == 2 and "root" in bad.output and "admin" in bad.output


def test_use_case_lifecycle(home, tmp_path):
    invoke("users", "create", "ann", "--role", "approver")
    spec = tmp_path / "uc.yaml"
    spec.write_text(
        "name: Claims summariser\npurpose: Summarises claims\nowner: olga@example.com\nteam: claims\n"
        "vendor: anthropic\nmodel: claude-3-5-sonnet\ndata_classes: [regulated]\nexpected_monthly_cost: 800\n"
    )
    created = json.loads(
        invoke("use-cases", "create", "--file", str(spec), "--dimension", "team=claims", "--json")
    )
    assert (created["risk"]["tier"], created["links"]["dimensions"]) == ("high", {"team": "claims"})
    uid = str(created["id"])
    assert json.loads(invoke("use-cases", "submit", uid, "--json"))["status"] == "in_review"
    assert json.loads(invoke("use-cases", "approve", uid, "--as", "ann", "--json"))["status"] == "approved"
    assert json.loads(invoke("use-cases", "transition", uid, "live", "--json"))["status"] == "live"
    shown = json.loads(invoke("use-cases", "show", uid, "--json"))
    assert shown["spend"]["actual_month_to_date"] == 0.0 and shown["spend"]["expected_monthly_cost"] == 800.0
    assert [c["id"] for c in json.loads(invoke("use-cases", "list", "--status", "live", "--json"))] == [
        int(uid)
    ]
    missing = runner.invoke(app, ["use-cases", "create", "--name", "x"])
    assert missing.exit_code == 2 and "purpose" in missing.output
    assert "intact" in invoke("audit", "verify")
