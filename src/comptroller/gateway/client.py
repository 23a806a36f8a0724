"""The downstream side of one request: sending an ASGI response and noticing a disconnect."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from comptroller.gateway.errors import GatewayError

Headers = list[tuple[bytes, bytes]]
JSON = b"application/json"


class Client:
    """Wraps ASGI ``send``/``receive``; ``disconnected`` turns true once the caller goes away.

    Uvicorn drops writes to a closed connection silently, so a streaming response learns of a
    disconnect only by listening for ``http.disconnect`` on ``receive`` beside it.
    """

    __slots__ = ("_receive", "_send", "_watcher", "disconnected", "started")

    def __init__(self, receive: Any, send: Any) -> None:
        self._receive = receive
        self._send = send
        self._watcher: asyncio.Task[None] | None = None
        self.disconnected = False
        self.started = False

    async def respond(self, status: int, headers: Headers, body: bytes) -> None:
        """A whole body at once; its length is sent so the server need not chunk it."""
        self.started = True
        headers = [*headers, (b"content-length", b"%d" % len(body))]
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})

    async def error(self, err: GatewayError, dialect: str, extra: Headers) -> None:
        headers = [(b"content-type", JSON), *err.headers(), *extra]
        await self.respond(err.status, headers, err.body(dialect))

    async def start(self, status: int, headers: Headers) -> None:
        self.started = True
        await self._send({"type": "http.response.start", "status": status, "headers": headers})

    async def chunk(self, data: bytes, more: bool = True) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    def watch(self) -> None:
        self._watcher = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                return

    async def close(self) -> None:
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
