"""A real uvicorn server on loopback over a given home, and signed-in clients of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from comptroller.api.app import create_app
from comptroller.config import Settings
from tests.api.conftest import free_port, issue_token


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def client(base_url: str, settings: Settings, username: str, roles: tuple[str, ...]) -> httpx.Client:
    token = issue_token(settings, username, roles)
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
