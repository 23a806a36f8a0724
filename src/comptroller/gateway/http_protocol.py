"""Uvicorn's httptools protocol, sending a response's head and its first body bytes in one write.

Uvicorn writes the status line and headers the moment ``http.response.start`` is sent, then the
body in a second write. On a keep-alive connection each write is a syscall that wakes the caller,
who reads the head, finds no body yet and sleeps again; at concurrency 1 uvicorn's two writes
were about a sixth of the gateway's busy time in a profile. Here the head waits for the next write
on the connection, and never longer than the current turn of the event loop, so a stream whose
first event is slow to come still shows its head at once. Bytes and their order are unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeadCoalescingTransport:
    """A transport whose write of a response head is joined to the write after it."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data.startswith(b"HTTP/1.1 "):
            # Anything that looks like a head is held; a body that happens to start the same
            # way is merely sent a little later, still in order.
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GatewayHttpProtocol(HttpToolsProtocol):
    """The protocol ``serve`` runs: uvicorn's own, over a head-coalescing transport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        wrapped = HeadCoalescingTransport(transport, self.loop)
        super().connection_made(wrapped)  # type: ignore[arg-type]
