"""A real uvicorn server on loopback over a given home, and signed-in clients of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from comptroller.api.app import create_app
from comptroller.config import Settings
from tests.api.conftest import issue_token
from tests.live_server import serve as serve_app


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    with serve_app(create_app(settings)) as url:
        yield url


def client(base_url: str, settings: Settings, username: str, roles: tuple[str, ...]) -> httpx.Client:
    token = issue_token(settings, username, roles)
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
