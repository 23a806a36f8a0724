"""``comptroller agents``: register agents, list them, and look at their runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError

from comptroller.agents import registry, runs
from comptroller.agents.specs import AgentSpec
from comptroller.cli.changes import JsonOpt, cli_actor, invalid
from comptroller.cli.output import console, fail, money, print_json, table
from comptroller.context import Context
from comptroller.errors import ComptrollerError, ConfigError

agents_app = typer.Typer(help="The agent registry and agent runs.")


@agents_app.command("register")
def register(
    file: Annotated[Path, typer.Argument(help="YAML or JSON with the agent's fields (see AgentSpec).")],
) -> None:
    """Register an agent from a file, or replace the one with the same id."""
    try:
        data = yaml.safe_load(file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise fail(ConfigError(f"{file}: {exc}")) from exc
    if not isinstance(data, dict):
        raise fail(ConfigError(f"{file}: expected a mapping of agent fields"))
    try:
        spec = AgentSpec.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from exc
    with Context() as ctx:
        try:
            with ctx.state.session() as session, session.begin():
                _, created = registry.save_agent(session, spec, actor=cli_actor())
        except ComptrollerError as exc:
            raise fail(exc) from exc
    console.print(f"{'registered' if created else 'updated'} agent {spec.id}")


@agents_app.command("list")
def list_command(team: Annotated[str | None, typer.Option()] = None, as_json: JsonOpt = False) -> None:
    """Registered agents with their autonomy level, tools and budgets."""
    with Context() as ctx, ctx.state.session() as session:
        data = [registry.agent_json(r) for r in registry.list_agents(session, team=team)]
    if as_json:
        print_json(data)
        return
    table(
        "agents",
        ["id", "name", "owner", "team", "autonomy", "tools", "per run", "per period"],
        [
            [
                a["id"],
                a["name"],
                a["owner"],
                a["team"],
                a["autonomy_level"],
                ", ".join(a["allowed_tools"]) or "any",
                money(a["budget_per_run"]) if a["budget_per_run"] else "-",
                f"{money(a['budget_per_period'])}/{a['period']}" if a["budget_per_period"] else "-",
            ]
            for a in data
        ],
    )


@agents_app.command("runs")
def runs_command(
    agent: Annotated[str | None, typer.Option(help="Only this agent's runs.")] = None,
    status: Annotated[str | None, typer.Option(help="running | ended | rolled_back")] = None,
    limit: int = 50,
    as_json: JsonOpt = False,
) -> None:
    """Recent runs: steps, tool calls, cost, outcome and why a check last stopped them."""
    with Context() as ctx, ctx.state.session() as session:
        data = [runs.run_json(r) for r in runs.list_runs(session, agent_id=agent, status=status, limit=limit)]
    if as_json:
        print_json(data)
        return
    table(
        "agent runs",
        ["run", "agent", "status", "started", "outcome", "stopped by", "steps", "tools", "cost"],
        [
            [
                r["id"][:12],
                r["agent_id"],
                r["status"],
                r["started_at"][:19],
                r["outcome"],
                r["stop_reason"],
                r["steps"],
                r["tool_calls"],
                money(r["cost"]),
            ]
            for r in data
        ],
        right=3,
    )
