"""``comptroller agents register|list|runs``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from comptroller.agents import checks, registry
from comptroller.cli.main import app
from comptroller.context import Context

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_register_list_and_runs(home):
    spec = home / "agent.yaml"
    spec.write_text(
        "id: triage-bot\nname: Triage bot\nowner: ann\nteam: support\n"
        "allowed_tools: [search, refund]\napproval_tools: [refund]\nbudget_per_run: 2.5\n"
    )
    registered = run("agents", "register", str(spec))
    assert registered.exit_code == 0 and "registered agent triage-bot" in registered.output
    assert "updated agent triage-bot" in run("agents", "register", str(spec)).output
    [agent] = json.loads(run("agents", "list", "--json").output)
    assert agent["approval_tools"] == ["refund"] and agent["budget_per_run"] == "2.5"
    with Context() as ctx, ctx.state.session() as session, session.begin():
        checks.start_run(session, registry.get_agent(session, "triage-bot"), actor="user:bot", detail={})
    [listed] = json.loads(run("agents", "runs", "--agent", "triage-bot", "--json").output)
    assert listed["status"] == "running" and listed["started_by"] == "user:bot"
    bad = home / "bad.yaml"
    bad.write_text("id: triage-bot\nname: x\nowner: ann\napproval_tools: [refund]\nallowed_tools: [search]\n")
    refused = run("agents", "register", str(bad))
    assert refused.exit_code == 2 and "approval_tools" in refused.output
