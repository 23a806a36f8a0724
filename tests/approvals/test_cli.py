"""``comptroller alerts``, ``alerts channels`` and ``approvals`` as an operator drives them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from comptroller.cli.main import app
from tests.notify.receivers import WebhookReceiver

runner = CliRunner()


def run(*args: str, actor: str = "cli:ops"):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COMPTROLLER_ACTOR": actor})


def test_channels_checks_and_approvals_from_the_shell(home):
    with WebhookReceiver() as hook:
        added = run(
            "alerts",
            "channels",
            "add",
            "ops",
            "--type",
            "webhook",
            "--config",
            json.dumps({"url": hook.url + "/t0k3n"}),
        )
        assert added.exit_code == 0, added.output
        listed = json.loads(run("alerts", "channels", "list", "--json").output)
        assert listed[0]["config"]["url"] == hook.url + "/****0k3n"
        created = run(
            "budgets", "create", "--id", "search", "--name", "Search", "--scope", "team", "--value", "search",
            "--amount", "100", "--behaviour", "approval",
        )  # fmt: skip
        assert created.exit_code == 0, created.output
        requested = run(
            "approvals",
            "request",
            "--budget",
            "search",
            "--amount",
            "180",
            "--reason",
            "launch",
            actor="cli:owner",
        )
        assert requested.exit_code == 0, requested.output
        [pending] = json.loads(run("approvals", "list", "--status", "pending", "--json").output)
        own = run("approvals", "approve", pending["id"], actor="cli:owner")
        assert own.exit_code == 2 and "someone else must decide" in own.output
        approved = run("approvals", "approve", pending["id"], "--note", "ok")
        assert approved.exit_code == 0 and "budget search is now 180" in approved.output
        checked = json.loads(run("alerts", "check", "--json").output)
        assert checked["fired"] == [] and checked["approvals_opened"] == []
        bad = run("approvals", "deny", pending["id"])
        assert bad.exit_code == 2 and "not pending" in bad.output
    kinds = [r.json()["kind"] for r in hook.received]
    assert kinds == ["approval"]
    digest = run("alerts", "digest", "--dry-run")
    assert "Budget digest for" in digest.output and "Search: USD 0.00 of 180.00" in digest.output
