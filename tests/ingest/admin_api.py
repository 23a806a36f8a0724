"""A loopback server speaking the providers' organisation admin APIs, shared by the pull tests.

What both providers have in common lives here: admin-key checks (OpenAI's bearer token,
Anthropic's ``x-api-key`` plus ``anthropic-version``), one 429 before the first real answer,
opaque ``next_page`` tokens, and the request log the tests inspect. Each test module supplies
the buckets its endpoints return.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest

OPENAI_KEY = "sk-admin-good"
ANTHROPIC_KEY = "sk-ant-admin-good"
PER_PAGE = 2

Query = dict[str, list[str]]


class AdminAPI(ThreadingHTTPServer):
    """Subclasses route by overriding ``respond``; the base checks keys and logs requests."""

    openai_paths: frozenset[str] = frozenset()
    anthropic_paths: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), AdminHandler)
        self.requests: list[tuple[str, Query, dict[str, str]]] = []
        self.rate_limited = False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def of(self, path: str) -> list[Query]:
        return [query for p, query, _ in self.requests if p == path]

    def respond(self, handler: AdminHandler, path: str, query: Query) -> None:
        raise NotImplementedError

    def rate_limit_once(self, handler: AdminHandler) -> bool:
        """Answer the first real request with a 429, as a provider under load would."""
        if self.rate_limited:
            return False
        self.rate_limited = True
        handler.answer(429, {"error": "slow down"}, {"Retry-After": "0"})
        return True


class AdminHandler(BaseHTTPRequestHandler):
    server: AdminAPI

    def log_message(self, *args: object) -> None:
        pass

    def answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.requests.append((url.path, query, dict(self.headers)))
        if url.path in self.server.openai_paths:
            if self.headers.get("Authorization") != f"Bearer {OPENAI_KEY}":
                return self.answer(401, {"error": {"message": "Invalid admin key"}})
        elif url.path in self.server.anthropic_paths:
            if self.headers.get("x-api-key") != ANTHROPIC_KEY:
                return self.answer(401, {"type": "error", "error": {"type": "authentication_error"}})
            if self.headers.get("anthropic-version") != "2023-06-01":
                return self.answer(400, {"type": "error", "error": {"type": "invalid_request_error"}})
        else:
            return self.answer(404, {"error": "not found"})
        return self.server.respond(self, url.path, query)


def window_start(query: Query) -> datetime:
    """The requested start: OpenAI sends unix seconds, Anthropic an RFC 3339 string."""
    if "start_time" in query:
        return datetime.fromtimestamp(int(query["start_time"][0]), UTC)
    return datetime.fromisoformat(query["starting_at"][0])


T = TypeVar("T")


def page(
    items: Sequence[T], query: Query, bucket: Callable[[T], dict[str, Any]], *, openai: bool
) -> dict[str, Any]:
    """One page of ``items`` from the ``page`` token on, PER_PAGE at a time."""
    offset = int(query.get("page", ["cursor-0"])[0].removeprefix("cursor-"))
    chunk = items[offset : offset + PER_PAGE]
    more = offset + PER_PAGE < len(items)
    body: dict[str, Any] = {"data": [bucket(item) for item in chunk], "has_more": more}
    body["next_page"] = f"cursor-{offset + PER_PAGE}" if more else None
    if openai:
        body["object"] = "page"
    return body


S = TypeVar("S", bound=AdminAPI)


@contextmanager
def serving(server: S, monkeypatch: pytest.MonkeyPatch) -> Iterator[S]:
    """Run ``server`` in a thread and point the CLI's pulls at it with good admin keys."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("COMPTROLLER_OPENAI_BASE_URL", server.base)
    monkeypatch.setenv("COMPTROLLER_ANTHROPIC_BASE_URL", server.base + "/")
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", ANTHROPIC_KEY)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
