"""OTLP receiver throughput: spans/s through ``POST /v1/traces`` into a DuckDB ledger.

Builds N chat spans (with gen_ai usage and cache attributes, random ids, one day of start times)
as protobuf ExportTraceServiceRequest bodies of ``--batch`` spans each, starts the real app under
uvicorn in a thread on loopback, and posts the bodies one after another, as one exporter would.
The clock covers HTTP, decoding, pricing, storage and the day's rollup. Goal: >= 5,000 spans/s.
One small export of other spans goes first, off the clock, as a running receiver has already
loaded its imports and price catalog; its events stay in the ledger the timed ones join.
Writes only under ``bench/.data/`` and deletes it afterwards.

    .venv/bin/python bench/otlp.py                 # 20,000 spans in batches of 1,000
    .venv/bin/python bench/otlp.py --spans 2000    # quick
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from comptroller.api.app import create_app
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.governance import users

GOAL_SPANS_PER_SECOND = 5_000
WARM_UP_SPANS = 20
DATA = Path(__file__).with_name(".data") / "otlp"
MODELS = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5")]
DAY_START_NS = 1_764_000_000 * 10**9


def _kv(key: str, value: str | int) -> KeyValue:
    any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def build_bodies(spans: int, batch: int, seed: int = 7) -> list[bytes]:
    """Serialized requests, built up front so only the receiver is on the clock."""
    rng = random.Random(seed)
    resource = [_kv("service.name", "bench-app"), _kv("deployment.environment", "prod")]
    bodies = []
    for first in range(0, spans, batch):
        out = []
        for _ in range(first, min(first + batch, spans)):
            provider, model = rng.choice(MODELS)
            start = DAY_START_NS + rng.randrange(0, 20 * 3600 * 10**9)
            prompt = rng.randrange(200, 4000)
            attrs = [
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.provider.name", provider),
                _kv("gen_ai.request.model", model),
                _kv("gen_ai.usage.input_tokens", prompt),
                _kv("gen_ai.usage.cache_read.input_tokens", prompt // 3),
                _kv("gen_ai.usage.output_tokens", rng.randrange(10, 800)),
                _kv("comptroller.team", rng.choice(["search", "support", "growth"])),
            ]
            out.append(
                Span(
                    trace_id=rng.randbytes(16),
                    span_id=rng.randbytes(8),
                    name=f"chat {model}",
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + rng.randrange(200, 9000) * 10**6,
                    attributes=attrs,
                )
            )
        request = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(resource={"attributes": resource}, scope_spans=[ScopeSpans(spans=out)])
            ]
        )
        bodies.append(request.SerializeToString())
    return bodies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ingest_token(settings: Settings) -> str:
    """What a collector holds: a token of a finops user, limited to the OTLP receiver."""
    with Context(settings) as ctx, ctx.state.session() as session, session.begin():
        users.create_user(session, "collector", actor="bench", roles=("finops",))
        return users.create_token(session, "collector", actor="bench", scope="ingest").secret


def run(spans: int, batch: int) -> float:
    """Post every body to a fresh server; return spans per second."""
    bodies = build_bodies(spans, batch)
    shutil.rmtree(DATA, ignore_errors=True)
    settings = Settings.from_env(DATA / "home")
    token = ingest_token(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {token}"}
            for body in build_bodies(WARM_UP_SPANS, WARM_UP_SPANS, seed=-1):
                client.post("/v1/traces", content=body, headers=headers).raise_for_status()
            started, cpu_started = time.perf_counter(), time.process_time()
            for body in bodies:
                client.post("/v1/traces", content=body, headers=headers).raise_for_status()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        server.should_exit = True
        thread.join(10)
        shutil.rmtree(DATA, ignore_errors=True)
    rate = spans / seconds
    verdict = "met" if rate >= GOAL_SPANS_PER_SECOND else "missed"
    print(f"{spans:,} spans in {len(bodies)} requests of <= {batch:,}: {seconds:.2f} s, {rate:,.0f} spans/s")
    # Process CPU (server, DuckDB threads and the client together) moves less with other load
    # on the machine than the wall clock does.
    print(f"cpu {cpu:.2f} s: {spans / cpu:,.0f} spans per CPU-second")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"goal >= {GOAL_SPANS_PER_SECOND:,} spans/s: {verdict}  (nproc {os.cpu_count()}, load average {load})"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    run(args.spans, args.batch)


if __name__ == "__main__":
    main()
