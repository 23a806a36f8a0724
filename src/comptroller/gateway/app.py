"""The gateway as a plain ASGI application: a dict lookup per path, no middleware stack.

``/v1/chat/completions``, ``/v1/responses``, ``/v1/embeddings`` (OpenAI) and ``/v1/messages``
(Anthropic) go through the proxy; ``GET /v1/models`` lists what the caller's key may use;
``/healthz`` answers while the process runs, ``/readyz`` once start-up finished and a snapshot
with keys is loaded; ``/metrics`` is the Prometheus text format.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from comptroller.gateway.auth import secret_from_headers
from comptroller.gateway.client import JSON, Client
from comptroller.gateway.errors import GatewayError
from comptroller.gateway.proxy import Gateway
from comptroller.gateway.wire import ENDPOINTS

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]
_PROMETHEUS = b"text/plain; version=0.0.4; charset=utf-8"
_MAX_BODY = 32 * 1024 * 1024


class GatewayApp:
    def __init__(self, gateway: Gateway, on_start: Sequence[Hook] = (), on_stop: Sequence[Hook] = ()) -> None:
        self.gateway = gateway
        self._on_start = (*on_start, gateway.start)
        self._on_stop = (gateway.close, *on_stop)
        self.started = False
        self._created = int(time.time())

    async def startup(self) -> None:
        for hook in self._on_start:
            await hook()
        self.started = True

    async def shutdown(self) -> None:
        self.started = False
        for hook in self._on_stop:
            try:
                await hook()
            except Exception:
                log.exception("gateway shutdown step %r failed", hook)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("gateway start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        client = Client(receive, send)
        endpoint = ENDPOINTS.get(path)
        if endpoint is not None:
            if method != "POST":
                await _plain(client, 405, b"method not allowed")
                return
            raw = await _read_body(receive)
            if raw is None:
                err = GatewayError(413, "body_too_large", "the request body is larger than 32 MiB")
                await client.error(err, endpoint.family, [])
                return
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            await self.gateway.handle(endpoint, headers, raw, client)
        elif path == "/v1/models" and method == "GET":
            await self._models(scope, client)
        elif path == "/healthz":
            await client.respond(200, [(b"content-type", JSON)], b'{"status":"ok"}')
        elif path == "/readyz":
            ready = self.started and self._snapshot_loaded()
            body = b'{"status":"ready"}' if ready else b'{"status":"starting"}'
            await client.respond(200 if ready else 503, [(b"content-type", JSON)], body)
        elif path == "/metrics":
            admission = self.gateway.admission
            body = admission.metrics.render(await admission.budget_remaining())
            await client.respond(200, [(b"content-type", _PROMETHEUS)], body)
        else:
            err = GatewayError(404, "not_found", f"no route {method} {path}")
            await client.error(err, "anthropic" if path.startswith("/v1/messages") else "openai", [])

    def _snapshot_loaded(self) -> bool:
        snapshot = self.gateway.admission.snapshots.current()
        return snapshot.version > 0 or bool(snapshot.keys)

    async def _models(self, scope: dict[str, Any], client: Client) -> None:
        """The models and aliases the key may call, in the caller's dialect (Anthropic's SDK
        sends ``anthropic-version``)."""
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        dialect = "anthropic" if "anthropic-version" in headers else "openai"
        admission = self.gateway.admission
        try:
            key = admission.index().authenticate(secret_from_headers(headers))
        except GatewayError as err:
            await client.error(err, dialect, [])
            return
        models = [m for m in admission.config.public_models() if key.allows(m)]
        if dialect == "anthropic":
            created = datetime.fromtimestamp(self._created, UTC).isoformat().replace("+00:00", "Z")
            data: list[dict[str, Any]] = [
                {"type": "model", "id": m, "display_name": m, "created_at": created} for m in models
            ]
            first, last = (models[0], models[-1]) if models else (None, None)
            body = orjson.dumps({"data": data, "has_more": False, "first_id": first, "last_id": last})
        else:
            data = [
                {"id": m, "object": "model", "created": self._created, "owned_by": "comptroller"}
                for m in models
            ]
            body = orjson.dumps({"object": "list", "data": data})
        overhead = f"{(time.perf_counter() - started) * 1000:.3f}".encode()
        await client.respond(200, [(b"content-type", JSON), (b"x-comptroller-overhead-ms", overhead)], body)


async def _read_body(receive: Any) -> bytes | None:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body
    parts = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            return None
        parts.append(chunk)
    return b"".join(parts)


async def _plain(client: Client, status: int, text: bytes) -> None:
    await client.respond(status, [(b"content-type", b"text/plain")], text)
