"""The mock provider on its own, as ``python -m comptroller.mock_provider`` runs it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import anthropic
import httpx
import openai
import pytest


@pytest.fixture(scope="module")
def mock_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "comptroller.mock_provider", "--port", str(port), "--latency-ms", "50"]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/v1/models")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)


def test_openai_wire_format_with_fixed_latency(mock_url):
    client = openai.OpenAI(base_url=f"{mock_url}/v1", api_key="unused", max_retries=0)
    started = time.monotonic()
    completion = client.chat.completions.create(model="o3-mini", messages=[{"role": "user", "content": "hi"}])
    assert time.monotonic() - started >= 0.05
    assert completion.object == "chat.completion" and completion.id.startswith("chatcmpl-")
    assert completion.usage.completion_tokens_details.reasoning_tokens > 0
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert {m.id for m in client.models.list()} >= {"gpt-4o", "claude-sonnet-4-5"}


def test_anthropic_wire_format(mock_url):
    client = anthropic.Anthropic(base_url=mock_url, api_key="unused", max_retries=0)
    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        kinds = [event.type for event in stream]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert {"content_block_start", "content_block_delta", "content_block_stop", "message_delta"} <= set(kinds)


@pytest.mark.parametrize(("how", "status"), [("header", 429), ("model", 500), ("path", 503)])
def test_fault_injection(mock_url, how, status):
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}
    url, headers = f"{mock_url}/v1/chat/completions", {}
    if how == "header":
        headers["x-mock-fault"] = str(status)
    elif how == "model":
        body["model"] = f"fault-{status}"
    else:
        url = f"{mock_url}/fault/{status}/v1/chat/completions"
    response = httpx.post(url, json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["message"] == f"mock fault {status}"
    if status == 429:
        assert response.headers["retry-after"] == "1"
