"""The mock provider's aiohttp application.

Faults are asked for in one of three ways, first found wins: a path prefix ``/fault/<kind>``
before ``/v1/...`` (so a gateway deployment can point its base_url at a failing mock), an
``x-mock-fault`` header, or a model named ``fault-<kind>...``. Kinds: ``429`` (with
``retry-after: 1``), ``500``, ``503``, ``hang`` (never answers), ``cut`` (a stream that stops
half-way, connection closed), ``slow`` (50 ms between stream chunks). Every request is recorded in ``app[RECORDED]`` so tests can see
exactly what reached the provider (e.g. that PII was redacted).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from comptroller.mock_provider import anthropic_format, openai_format
from comptroller.mock_provider.usage import MockUsage, usage_for

RECORDED: web.AppKey[deque[dict[str, Any]]] = web.AppKey("recorded", deque)
FAULTS = ("429", "500", "503", "hang", "cut", "slow")
MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "o3-mini",
    "text-embedding-3-small",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
]
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class MockSettings:
    latency_ms: float = 0.0
    chunk_delay_ms: float = 0.0
    record: int = 1000  # how many recent requests to keep for inspection


SETTINGS: web.AppKey[MockSettings] = web.AppKey("settings", MockSettings)


Builder = Callable[[dict[str, Any], MockUsage], bytes]
Streamer = Callable[[dict[str, Any], MockUsage], Iterator[bytes]]

_ROUTES: dict[str, tuple[bool, Builder, Streamer | None]] = {
    "/v1/chat/completions": (False, openai_format.chat_completion, openai_format.chat_chunks),
    "/v1/responses": (False, openai_format.response, openai_format.response_events),
    "/v1/embeddings": (False, openai_format.embeddings, None),
    "/v1/messages": (True, anthropic_format.message, anthropic_format.message_events),
}


def _fault(request: web.Request, body: dict[str, Any]) -> str | None:
    fault = request.match_info.get("fault") or request.headers.get("x-mock-fault")
    if fault:
        return fault
    model = str(body.get("model", ""))
    if model.startswith("fault-"):
        return model[len("fault-") :].split("-", 1)[0]
    return None


async def _handle(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    path = "/v1/" + request.match_info["rest"]  # Azure's /openai/deployments/<name>/... maps here too
    route = _ROUTES.get(path)
    if route is None:
        return web.Response(
            status=404, body=openai_format.error(404, f"unknown path {path}"), content_type=JSON
        )
    anthropic, build, stream_events = route
    raw = await request.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return web.Response(status=400, body=openai_format.error(400, "invalid JSON"), content_type=JSON)
    request.app[RECORDED].append(
        {"path": path, "url": str(request.rel_url), "headers": dict(request.headers), "body": body}
    )
    if settings.latency_ms:
        await asyncio.sleep(settings.latency_ms / 1000)
    fault = _fault(request, body)
    error_body = anthropic_format.error if anthropic else openai_format.error
    if fault == "hang":
        # Hold the request until the caller gives up, then let the handler end.
        while request.transport is not None and not request.transport.is_closing():
            await asyncio.sleep(0.05)
        return web.Response(status=504)
    if fault in ("429", "500", "503"):
        status = int(fault)
        headers = {"retry-after": "1"} if status == 429 else {}
        return web.Response(
            status=status, body=error_body(status, f"mock fault {fault}"), content_type=JSON, headers=headers
        )
    usage = usage_for(body, anthropic)
    if body.get("stream") and stream_events is not None:
        delay_ms = 50.0 if fault == "slow" else settings.chunk_delay_ms
        return await _stream(request, stream_events(body, usage), delay_ms, cut=fault == "cut")
    return web.Response(body=build(body, usage), content_type=JSON)


async def _stream(
    request: web.Request, events: Iterator[bytes], delay_ms: float, cut: bool
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
    await response.prepare(request)
    chunks = list(events)
    if cut:
        chunks = chunks[: max(2, len(chunks) // 2)]
    for chunk in chunks:
        await response.write(chunk)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
    if cut:
        transport = request.transport
        if transport is not None:
            transport.close()
        return response
    await response.write_eof()
    return response


async def _models(request: web.Request) -> web.Response:
    return web.Response(body=openai_format.models(MODELS), content_type=JSON)


def create_app(settings: MockSettings | None = None) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    settings = settings or MockSettings()
    app[SETTINGS] = settings
    app[RECORDED] = deque(maxlen=settings.record)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/{rest:.+}", _handle)
    app.router.add_post("/fault/{fault}/v1/{rest:.+}", _handle)
    app.router.add_post("/openai/deployments/{deployment}/{rest:.+}", _handle)
    app.router.add_post("/openai/{rest:responses}", _handle)
    return app
