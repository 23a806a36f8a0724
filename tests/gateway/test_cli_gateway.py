"""``comptroller gateway`` as a user runs it: a separate process serving real SDK calls."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from comptroller.ledger.store import open_ledger
from tests.gateway.harness import default_snapshot, gateway_config, secret


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gateway_module_serves_and_spools(stack, tmp_path):
    """``python -m comptroller.gateway``: the quick-starting entry point replicas use."""
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(default_snapshot().model_dump_json())
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(gateway_config(stack.mock_url, tmp_path / "spool", snapshot)))
    port = _free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "comptroller.gateway", "--config", str(config), "--port", str(port)],
        env={**os.environ, "COMPTROLLER_HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        while time.monotonic() - started < 20:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("gateway did not become ready")
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=secret("main"), max_retries=0)
        reply = client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=10)[0].decode()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal for the exit status.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output, output
    segments = list(Path(tmp_path / "spool").glob("*.seg")) + list(Path(tmp_path / "spool").glob("*.open"))
    assert segments, "the spend event reached the spool"


def _wait_ready(url: str, process: subprocess.Popen, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0].decode()
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("gateway did not become ready")


def _usage_event(ledger_url: str, event_id: str) -> dict | None:
    with open_ledger(ledger_url) as ledger:
        rows = ledger.usage_events().to_pyarrow().to_pylist()
    return next((row for row in rows if row["event_id"] == event_id), None)


@pytest.mark.parametrize("ledger_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_comptroller_gateway_drains_its_spend_into_the_ledger(stack, tmp_path, ledger_url):
    """``comptroller gateway`` loads its own spool into the ledger while it serves, and drains
    what is left when it is stopped."""
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(default_snapshot().model_dump_json())
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(gateway_config(stack.mock_url, tmp_path / "spool", snapshot)))
    port = _free_port()
    cli = [sys.executable, "-c", "from comptroller.cli.main import app; app()"]
    process = subprocess.Popen(
        [*cli, "gateway", "--config", str(config), "--port", str(port), "--drain-interval", "0.2"],
        env={**os.environ, "COMPTROLLER_HOME": str(tmp_path / "home"), "COMPTROLLER_LEDGER_URL": ledger_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process)
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=secret("main"), max_retries=0)
        first = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        first_id = first.headers["x-comptroller-request-id"]
        # The spool seals a segment after at most 5 s; the drainer loads it on its next round.
        deadline = time.monotonic() + 30
        row = None
        while row is None and time.monotonic() < deadline:
            time.sleep(0.25)
            row = _usage_event(ledger_url, first_id)
        assert row is not None, "the spend event reached usage_events while the gateway ran"
        assert row["model"] == "gpt-4o-mini"
        assert row["status"] == "ok"
        assert process.poll() is None
        last = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "bye"}]
        )
        last_id = last.headers["x-comptroller-request-id"]
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    # Stopped well inside the spool's 5 s sealing age: the final drain loaded the last event.
    assert _usage_event(ledger_url, last_id) is not None, output
    assert not list((tmp_path / "spool").glob("*.seg"))


def test_comptroller_gateway_command_refuses_several_workers_without_redis(tmp_path, stack):
    from typer.testing import CliRunner

    from comptroller.cli.main import app

    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(gateway_config(stack.mock_url, tmp_path / "spool", tmp_path / "s.json")))
    result = CliRunner().invoke(app, ["gateway", "--config", str(config), "--workers", "2"])
    assert result.exit_code == 2
    assert "2 workers need redis_url" in result.output
