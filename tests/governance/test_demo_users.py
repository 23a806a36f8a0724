"""``comptroller demo`` creates users with documented passwords, once."""

from __future__ import annotations

from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.context import Context
from comptroller.governance import users
from comptroller.governance.demo_users import DEMO_USERS
from comptroller.ingest.focus_ingest import ingest_focus
from tests.export.test_focus_export import focus_csv


def test_demo_creates_users_that_can_sign_in(home):
    with Context() as ctx:
        ingest_focus(ctx.ledger, [focus_csv(home / "aws.csv", [("1", "Atlas", "i-1", "")])])
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    for user in DEMO_USERS:
        assert f"{user.username} / {user.password}" in first.output
    assert runner.invoke(app, ["demo", "--if-empty"]).exit_code == 0
    with Context() as ctx, ctx.state.session() as s, s.begin():
        listed = {u.username: (u.roles, u.teams) for u in users.list_users(s)}
        assert listed["search-owner"] == (["team_owner"], ["search"])
        assert {r for roles, _ in listed.values() for r in roles} == {
            "admin",
            "finops",
            "approver",
            "team_owner",
            "viewer",
        }
        assert users.login(s, "viewer", "viewer-demo") is not None
    assert len(listed) == len(DEMO_USERS)
