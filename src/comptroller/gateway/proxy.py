"""The gateway proper: one request from admission through the upstream call to the spend event.

Fallbacks: a connection error, a timeout, a 429 or a 5xx moves on to the next candidate (and
puts the failed deployment in cooldown) until ``retries.attempts`` extra attempts are used; the
last upstream error response is passed through in the provider's own shape. A stream falls back
only before its first byte reaches the client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from comptroller.gateway.caching import CacheLayer
from comptroller.gateway.call import Call
from comptroller.gateway.client import JSON, Client, Headers
from comptroller.gateway.errors import GatewayError
from comptroller.gateway.events import Outcome
from comptroller.gateway.pipeline import Admission
from comptroller.gateway.routing import Candidate
from comptroller.gateway.streams import SseSplitter, tracker_for
from comptroller.gateway.upstream import UpstreamTargets, new_session
from comptroller.gateway.wire import Endpoint, tool_calls_in_response, usage_from_response

log = logging.getLogger(__name__)

_PASSED_HEADERS = frozenset(
    {"content-type", "retry-after", "x-request-id", "request-id", "openai-processing-ms"}
)
_PASSED_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
_BLOCKS = frozenset(
    {
        Outcome.BLOCKED_BUDGET,
        Outcome.BLOCKED_APPROVAL,
        Outcome.BLOCKED_RATE_LIMIT,
        Outcome.BLOCKED_KILL_SWITCH,
        Outcome.BLOCKED_POLICY,
    }
)


class Gateway:
    def __init__(self, admission: Admission, cache: CacheLayer | None = None) -> None:
        self.admission = admission
        self.config = admission.config
        self.cache = cache if admission.config.cache.enabled else None
        self.targets = UpstreamTargets()
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.admission.start_pricing()
        if self.session is None:
            self.session = new_session()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def handle(
        self, endpoint: Endpoint, headers: Mapping[str, str], raw: bytes, client: Client
    ) -> None:
        adm = self.admission
        call = adm.new_call(endpoint)
        try:
            adm.parse(call, raw)
            index = adm.authenticate(call, headers)
            adm.check_kill_switch(call)
            candidates = adm.plan(call, headers)
            adm.estimate(call, len(raw))
            await adm.acquire_limits(call, index)
            await adm.reserve(call, index, candidates)
            if not await self._serve_cached(call, candidates[0], headers, client):
                await self._forward(call, candidates, raw, headers, client)
        except GatewayError as err:
            call.outcome = err.outcome
            if err.outcome in _BLOCKS:
                call.block_reason = err.code
                call.approval_request_id = err.approval_request_id
                call.blocked_budget_id = err.budget_id
            else:
                call.error_type = err.code
            if not client.started:
                await client.error(err, endpoint.family, self._our_headers(call, None))
        except asyncio.CancelledError:
            call.outcome = Outcome.CLIENT_DISCONNECT
            adm.close_out_later(call)
            raise
        except Exception:
            log.exception("request %s failed inside the gateway", call.request_id)
            call.outcome = Outcome.UPSTREAM_ERROR if call.candidate else Outcome.BLOCKED_POLICY
            call.error_type = "gateway_internal_error"
            if not client.started:
                err = GatewayError(
                    500, "gateway_internal_error", f"internal error; request id {call.request_id}"
                )
                await client.error(err, endpoint.family, self._our_headers(call, None))
        await adm.close_out(call)

    # -- cache ----------------------------------------------------------------------------------
    async def _serve_cached(
        self, call: Call, first: Candidate, headers: Mapping[str, str], client: Client
    ) -> bool:
        """Answer from the cache when the request may be; otherwise note where to store it."""
        if self.cache is None:
            return False
        found = await self.cache.lookup(call, headers)
        if found is None:
            return False
        hit, kind = found
        call.outcome = Outcome.CACHE_HIT
        call.candidate = first
        call.route = f"cache ({kind})"
        call.avoided_cost = hit.cost
        if hit.chunks is not None:
            tracker = tracker_for(call.endpoint.operation)
            for chunk in hit.chunks:
                tracker.feed(chunk)
            call.tool_calls = tracker.tool_calls
        else:
            data = _loads(hit.body or b"")
            if data is not None:
                call.tool_calls = tool_calls_in_response(call.endpoint, data)
        reply_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in hit.headers]
        reply_headers += self._our_headers(call, "0")
        reply_headers.append((b"x-comptroller-cache", kind.encode()))
        if hit.chunks is not None:
            await client.start(hit.status, reply_headers)
            for chunk in hit.chunks:
                await client.chunk(chunk)
            await client.chunk(b"", more=False)
        else:
            await client.respond(hit.status, reply_headers, hit.body or b"")
        return True

    async def _store(
        self, call: Call, status: int, headers: Headers, body: bytes | None, chunks: list[bytes] | None
    ) -> None:
        if self.cache is not None:
            await self.cache.store(call, status, headers, body, chunks)

    # -- upstream -------------------------------------------------------------------------------
    def _injects_usage(self, call: Call) -> bool:
        if not call.stream or call.endpoint.operation != "chat":
            return False
        options = call.body.get("stream_options")
        return not (isinstance(options, dict) and options.get("include_usage"))

    async def _forward(
        self, call: Call, candidates: list[Candidate], raw: bytes, headers: Mapping[str, str], client: Client
    ) -> None:
        adm = self.admission
        assert self.session is not None, "the gateway was not started"
        inject = self._injects_usage(call)
        redacted = False
        if adm.redactor.enabled:
            redacted = adm.redactor.redact_request(call.endpoint.operation, call.body) > 0
        bodies: dict[str, bytes] = {}

        def body_for(upstream_model: str) -> bytes:
            if not redacted and not inject and upstream_model == call.model:
                return raw
            body = bodies.get(upstream_model)
            if body is None:
                data = dict(call.body)
                data["model"] = upstream_model
                if inject:
                    options = data.get("stream_options")
                    data["stream_options"] = {
                        **(options if isinstance(options, dict) else {}),
                        "include_usage": True,
                    }
                body = bodies[upstream_model] = orjson.dumps(data)
            return body

        attempts = 1 + self.config.retries.attempts
        plan = [candidates[i % len(candidates)] for i in range(attempts)]
        failures: list[str] = []
        for attempt, candidate in enumerate(plan):
            last = attempt == len(plan) - 1
            deployment = candidate.deployment
            call.candidate = candidate
            call.retries = attempt
            call.attribution["vendor"] = candidate.provider
            call.route = (
                f"{deployment.name} ({candidate.reason}"
                + (f", attempt {attempt + 1}" if attempt else "")
                + ")"
            )
            url = self.targets.url(deployment, call.endpoint, candidate.upstream_model)
            upstream_headers = self.targets.headers(deployment, headers)
            timeout = self.targets.timeout(deployment, call.stream)
            sent = time.perf_counter()
            try:
                response = await self.session.post(
                    url, data=body_for(candidate.upstream_model), headers=upstream_headers, timeout=timeout
                )
                retryable = response.status == 429 or response.status >= 500
                if not call.stream or retryable or response.status >= 300:
                    body = await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                call.upstream_s += time.perf_counter() - sent
                adm.router.cool_down(deployment)
                kind = "timeout" if isinstance(exc, TimeoutError) else "connection_error"
                failures.append(f"{deployment.name}: {kind}")
                if last:
                    status, code = (
                        (504, "upstream_timeout") if kind == "timeout" else (502, "upstream_unavailable")
                    )
                    raise GatewayError(
                        status, code, "no upstream answered: " + "; ".join(failures), Outcome.UPSTREAM_ERROR
                    ) from None
                continue
            if retryable and not last:
                call.upstream_s += time.perf_counter() - sent
                adm.router.cool_down(deployment, _retry_after(response) if response.status == 429 else None)
                failures.append(f"{deployment.name}: HTTP {response.status}")
                continue
            if call.stream and response.status < 300:
                await self._relay_stream(call, response, client, sent, inject)
            else:
                call.upstream_s += time.perf_counter() - sent
                await self._relay_body(call, response, body, client)
            return

    async def _relay_body(
        self, call: Call, response: aiohttp.ClientResponse, body: bytes, client: Client
    ) -> None:
        adm = self.admission
        status = response.status
        passed = _passed_headers(response)
        if 200 <= status < 300:
            data = _loads(body)
            usage = usage_from_response(call.endpoint, data) if data is not None else None
            if usage is not None:
                adm.price(call, usage)
            else:
                call.pricing_flag = "no_usage_reported"
            if data is not None:
                call.tool_calls = tool_calls_in_response(call.endpoint, data)
            call.outcome = Outcome.OK
        else:
            call.outcome = Outcome.UPSTREAM_ERROR
            call.error_type = f"http_{status}"
        cost = "unknown" if call.contracted_cost is None else f"{call.contracted_cost:.8f}"
        await client.respond(status, passed + self._our_headers(call, cost), body)
        if status == 200:
            await self._store(call, status, passed, body, None)

    async def _relay_stream(
        self, call: Call, response: aiohttp.ClientResponse, client: Client, sent: float, inject: bool
    ) -> None:
        call.upstream_s += time.perf_counter() - sent
        passed = _passed_headers(response)
        await client.start(
            response.status, [*passed, (b"cache-control", b"no-cache"), *self._our_headers(call, None)]
        )
        client.watch()
        tracker = tracker_for(call.endpoint.operation, strip_usage_chunk=inject)
        splitter = SseSplitter()
        events: list[bytes] | None = [] if call.cache_key is not None else None
        # Events from the closing one on are held back and sent with the cost comment and the
        # end of the body: one write to the caller instead of two.
        held: list[bytes] = []
        complete = False
        try:
            waiting = time.perf_counter()
            async for chunk in response.content.iter_any():
                now = time.perf_counter()
                call.upstream_s += now - waiting
                if call.ttft_ms is None:
                    call.ttft_ms = (now - call.started) * 1000
                ready = splitter.feed(chunk)
                if ready:
                    out = b"".join(e for e in ready if tracker.feed(e))
                    if out:
                        if events is not None:
                            events.append(out)
                        if tracker.finished:
                            held.append(out)
                        else:
                            await client.chunk(out)
                if client.disconnected:
                    break
                waiting = time.perf_counter()
            else:
                complete = True
        except (aiohttp.ClientError, TimeoutError) as exc:
            call.error_type = "stream_interrupted" if not isinstance(exc, TimeoutError) else "stream_timeout"
        finally:
            if complete:
                response.release()
            else:
                response.close()  # stop the upstream generating tokens nobody will read
            await client.close()
        call.tool_calls = tracker.tool_calls
        self.admission.price(call, tracker.billed_usage(call.estimated_input))
        if client.disconnected:
            call.outcome = Outcome.CLIENT_DISCONNECT
            return
        call.outcome = Outcome.OK if complete else Outcome.UPSTREAM_ERROR
        held.append(splitter.rest())
        cost = "unknown" if call.contracted_cost is None else f"{call.contracted_cost:.8f}"
        held.append(f": x-comptroller-cost={cost}\n\n".encode())
        await client.chunk(b"".join(held), more=False)
        if complete and events is not None and response.status == 200:
            await self._store(call, response.status, passed, None, events)

    def _our_headers(self, call: Call, cost: str | None) -> Headers:
        headers = [
            (b"x-comptroller-request-id", call.request_id.encode()),
            (b"x-comptroller-overhead-ms", f"{call.overhead_ms():.3f}".encode()),
        ]
        if cost is not None:
            headers.append((b"x-comptroller-cost", cost.encode()))
        if call.route:
            headers.append((b"x-comptroller-route", call.route.encode("latin-1", "replace")))
        return headers


def _loads(body: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _passed_headers(response: aiohttp.ClientResponse) -> Headers:
    out: Headers = []
    for name, value in response.headers.items():
        lower = name.lower()
        if lower in _PASSED_HEADERS or lower.startswith(_PASSED_PREFIXES):
            out.append((lower.encode(), value.encode("latin-1", "replace")))
    if not any(name == b"content-type" for name, _ in out):
        out.append((b"content-type", JSON))
    return out


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
