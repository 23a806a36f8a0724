"""``comptroller keys|kill|limits`` as a user drives them."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.config import Settings
from comptroller.gateway.snapshot import Snapshot
from comptroller.keys.snapshot_builder import snapshot_path

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def on_disk() -> Snapshot:
    return Snapshot.model_validate_json(snapshot_path(Settings.from_env()).read_text())


def test_create_prints_the_secret_once_and_list_never(home, monkeypatch):
    monkeypatch.setenv("COMPTROLLER_ACTOR", "user:ana")
    created = run(
        "keys", "create", "--name", "support bot", "--team", "search", "--agent", "triage",
        "--attr", "function=support", "--model", "gpt-4o", "--model", "gpt-4o-mini", "--expires", "2099-01-01",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    secrets = re.findall(r"sk-cmp-[A-Za-z0-9_-]{43}", created.stdout)
    assert len(secrets) == 1
    listed = run("keys", "list", "--json")
    assert secrets[0] not in listed.stdout and secrets[0][7:] not in listed.stdout
    (key,) = json.loads(listed.stdout)
    assert key["prefix"] == secrets[0][7:11] and key["status"] == "active" and key["created_by"] == "user:ana"
    assert key["attribution"] == {"team": "search", "agent": "triage", "function": "support"}
    assert key["models"] == ["gpt-4o", "gpt-4o-mini"] and key["expires_at"].startswith("2099-01-01")
    assert secrets[0] not in run("keys", "list").stdout
    (published,) = on_disk().keys
    assert published.id == key["id"] and published.usable()
    revoked = run("keys", "revoke", key["id"])
    assert revoked.exit_code == 0 and not on_disk().keys[0].usable()
    assert json.loads(run("keys", "list", "--json", "--active").stdout) == []


def test_kill_switch_reaches_the_snapshot_within_the_command(home):
    engaged = run("kill", "engage", "--scope", "agent", "--value", "triage", "--reason", "loops", "--json")
    assert engaged.exit_code == 0, engaged.output
    switch = json.loads(engaged.stdout)
    snapshot = on_disk()
    assert snapshot.version == switch["snapshot_version"]
    assert [(k.id, k.scope_value) for k in snapshot.kill_switches] == [(switch["id"], "triage")]
    assert "triage" in run("kill", "list").stdout
    released = run("kill", "release", switch["id"])
    assert released.exit_code == 0 and on_disk().kill_switches == []
    assert json.loads(run("kill", "list", "--json").stdout) == []
    assert json.loads(run("kill", "list", "--all", "--json").stdout)[0]["engaged"] is False
    again = run("kill", "release", switch["id"])
    assert again.exit_code == 2 and "was released already" in again.stderr


def test_rate_limits_and_manual_publish(home):
    created = run("limits", "create", "--scope", "team", "--value", "search", "--rpm", "60", "--json")
    limit = json.loads(created.stdout)
    assert on_disk().rate_limits[0].requests_per_minute == 60
    run("limits", "update", limit["id"], "--scope", "team", "--value", "search", "--tpm", "9000")
    assert json.loads(run("limits", "list", "--json").stdout)[0]["tokens_per_minute"] == 9000
    before = on_disk().version
    published = json.loads(run("keys", "publish", "--json").stdout)
    assert published["version"] == before + 1 and published["redis_published"] is False
    assert run("limits", "delete", limit["id"]).exit_code == 0 and on_disk().rate_limits == []


def test_bad_input_names_the_field(home):
    cases = [
        (
            ("keys", "create", "--name", "x", "--attr", "colour=red"),
            "attribution: unknown dimension 'colour'",
        ),
        (
            ("keys", "create", "--name", "x", "--expires", "2020-01-01"),
            "expires_at: 2020-01-01T00:00:00+00:00 is not",
        ),
        (("kill", "engage", "--scope", "planet", "--value", "x", "--reason", "r"), "scope: Input should be"),
        (
            ("kill", "engage", "--scope", "key", "--value", "k0", "--reason", "r"),
            "no virtual key with id 'k0'",
        ),
        (("limits", "create", "--scope", "team", "--value", "x"), "requests_per_minute: set at least one"),
        (("keys", "revoke", "nope"), "no virtual key with id 'nope'"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, args
        assert message in " ".join(result.stderr.split()), (args, result.stderr)
