"""A real uvicorn server on loopback, shared by the API and OTLP receiver tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from comptroller.api.app import create_app
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.ingest.focus_ingest import ingest_focus
from tests.export.test_focus_export import focus_csv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env(tmp_path / "home")


@pytest.fixture
def server(tmp_path, settings) -> Iterator[str]:
    with Context(settings) as ctx:
        ingest_focus(
            ctx.ledger,
            [
                focus_csv(
                    tmp_path / "aws.csv",
                    [("10", "Atlas Nimbus", "i-1", ""), ("5", "Orion", "i-2", '{"team":"growth"}')],
                )
            ],
        )
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)
