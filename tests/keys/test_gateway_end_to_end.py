"""The control plane drives a real gateway: a key made with the CLI works, a kill switch engaged
with the CLI stops it within a second, and a revoked key is refused."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import openai
import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.config import Settings
from comptroller.keys.snapshot_builder import snapshot_path
from tests.gateway.harness import Stack

runner = CliRunner()
MESSAGES = [{"role": "user", "content": "hello"}]


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def within(seconds: float, check: Callable[[], bool]) -> float:
    """How long ``check`` took to hold; fails after ``seconds``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds}s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_cli_changes_reach_a_running_gateway(home, tmp_path):
    secret = re.findall(
        r"sk-cmp-[A-Za-z0-9_-]{43}", run("keys", "create", "--name", "triage", "--agent", "triage")
    )[0]
    (tmp_path / "gateway").mkdir()
    stack = Stack(tmp_path / "gateway")
    stack.snapshot_file = snapshot_path(Settings.from_env())
    stack.start()
    try:
        client = openai.OpenAI(base_url=f"{stack.url}/v1", api_key=secret, max_retries=0)

        def status() -> int:
            try:
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            except openai.APIStatusError as exc:
                return exc.status_code
            return 200

        assert status() == 200
        run("kill", "engage", "--scope", "agent", "--value", "triage", "--reason", "loops")
        assert within(1.0, lambda: status() == 403) < 1.0
        switch_id = re.findall(r"[0-9a-f]{12}", run("kill", "list", "--json"))[0]
        run("kill", "release", switch_id)
        within(1.0, lambda: status() == 200)
        key_id = re.findall(r'"id": "([0-9a-f]{12})"', run("keys", "list", "--json"))[0]
        run("keys", "revoke", key_id)
        within(1.0, lambda: status() == 401)
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def _no_redis(monkeypatch):
    """The embedded path under test: the file, not Redis."""
    monkeypatch.delenv("COMPTROLLER_REDIS_URL", raising=False)
