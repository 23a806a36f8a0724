"""Gateway overhead and throughput: our gateway against the LiteLLM proxy, same mock upstream.

One run starts, on loopback:
- the mock provider (``comptroller.mock_provider``, OpenAI wire format, fixed latency),
- our gateway (``comptroller gateway``) with a virtual key, a budget, a rate limit, PII redaction
  and the spend spool switched on,
- the LiteLLM proxy from its own virtualenv (``make bench-gateway`` creates it), with a master key
  and no database: its database mode (virtual keys, budgets, spend logs) downloads Prisma engines
  at start-up and cannot run offline, so the comparison is ours with everything on against
  LiteLLM with almost nothing on,
and drives each with a load generator in its own process (asyncio + aiohttp, fixed concurrency).
Added latency is the gateway's latency minus the latency of calling the mock directly at the same
concurrency, in the same run. CPU per request is the gateway process tree's CPU seconds over the
requests it served. Prints a Markdown table and the ratios ours/LiteLLM.

    .venv/bin/python bench/gateway.py                        # levels 1, 50, 100, 300
    .venv/bin/python bench/gateway.py --levels 1,50,100,300,1000
    .venv/bin/python bench/gateway.py --quick                # levels 1 and 50, fewer requests
    .venv/bin/python bench/gateway.py --soak 200000          # plus RSS over a long run (ours only)
    .venv/bin/python bench/gateway.py --soak 200000 --soak-only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path

import yaml

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetPeriod, BudgetScope
from comptroller.gateway.snapshot import RateLimit, Snapshot, VirtualKey, hash_key
from comptroller.gateway.snapshot_publish import write_snapshot_file

ROOT = Path(__file__).resolve().parent.parent
LITELLM = ROOT / ".bench" / "litellm-venv" / "bin" / "litellm"
MODEL = "gpt-4o-mini"
OUR_KEY = "sk-cmp-bench-0123456789abcdefghijklmnopqrstuv"
LITELLM_KEY = "sk-litellm-bench-master"
REQUEST_TIMEOUT_S = 30
BODY = {
    "model": MODEL,
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Summarise our cloud bill for March in three bullet points, please."},
    ],
    "max_tokens": 64,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- process accounting ---------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (LiteLLM and uvicorn workers fork)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children.get(p, [])
    return tree


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_mib(pid: int, key: str = "VmRSS") -> float:
    """Sum over the process tree of VmRSS (now) or VmHWM (peak), in MiB."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


# --- servers --------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    headers: dict[str, str]
    started_s: float


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float = 60) -> float:
    import httpx

    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy in {timeout_s} s")


def spawn(cmd: list[str], env: dict[str, str] | None, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_mock(work: Path, latency_ms: int) -> Server:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "comptroller.mock_provider",
        "--port",
        str(port),
        "--latency-ms",
        str(latency_ms),
    ]
    process = spawn(cmd, None, work / "mock.log")
    url = f"http://127.0.0.1:{port}"
    started = wait_healthy(url + "/v1/models", process)
    return Server("direct", url, process, {"authorization": "Bearer sk-mock"}, started)


def start_ours(work: Path, upstream: str) -> Server:
    """Our gateway with keys, a budget, a rate limit, PII redaction and the spool on."""
    port = free_port()
    snapshot_file = work / "gateway-snapshot.json"
    key = VirtualKey(
        id="bench",
        key_hash=hash_key(OUR_KEY),
        name="bench",
        attribution={"team": "bench", "product": "load-test"},
    )
    budget = Budget(
        id="bench-team",
        name="bench team monthly",
        scope=BudgetScope.TEAM,
        scope_value="bench",
        period=BudgetPeriod.MONTHLY,
        amount=Decimal(1_000_000),
        behaviour=BudgetBehaviour.HARD_CAP,
    )
    limit = RateLimit(id="bench-rpm", scope="key", scope_value="bench", requests_per_minute=10_000_000)
    write_snapshot_file(
        snapshot_file,
        Snapshot(
            version=1, generated_at=datetime.now(UTC), keys=[key], budgets=[budget], rate_limits=[limit]
        ),
    )
    config = {
        "deployments": [
            {
                "name": "mock",
                "provider": "openai_compatible",
                "base_url": upstream + "/v1",
                "api_key_env": "BENCH_UPSTREAM_KEY",
                "models": {MODEL: MODEL},
                "pricing_provider": "openai",
            }
        ],
        "pii": {"detectors": ["email", "card"]},
        "spool_dir": str(work / "spool"),
        "snapshot": {"file": str(snapshot_file)},
    }
    (work / "gateway.yaml").write_text(yaml.safe_dump(config))
    # The data plane's own entry point: it imports none of the control plane.
    cmd = [
        sys.executable,
        "-m",
        "comptroller.gateway",
        "--config",
        str(work / "gateway.yaml"),
        "--port",
        str(port),
    ]
    env = {"BENCH_UPSTREAM_KEY": "sk-mock", "COMPTROLLER_HOME": str(work / "home")}
    process = spawn(cmd, env, work / "ours.log")
    url = f"http://127.0.0.1:{port}"
    started = wait_healthy(url + "/healthz", process)
    return Server("ours", url, process, {"authorization": f"Bearer {OUR_KEY}"}, started)


def start_litellm(work: Path, upstream: str) -> Server:
    port = free_port()
    config = {
        "model_list": [
            {
                "model_name": MODEL,
                "litellm_params": {
                    "model": f"openai/{MODEL}",
                    "api_base": upstream + "/v1",
                    "api_key": "sk-mock",
                },
            }
        ],
        "general_settings": {"master_key": LITELLM_KEY},
        "litellm_settings": {"drop_params": True, "telemetry": False},
    }
    (work / "litellm.yaml").write_text(yaml.safe_dump(config))
    cmd = [str(LITELLM), "--config", str(work / "litellm.yaml"), "--port", str(port), "--num_workers", "1"]
    process = spawn(cmd, {"LITELLM_LOG": "ERROR"}, work / "litellm.log")
    url = f"http://127.0.0.1:{port}"
    started = wait_healthy(url + "/health/liveliness", process, timeout_s=120)
    return Server("litellm", url, process, {"authorization": f"Bearer {LITELLM_KEY}"}, started)


# --- load generator (its own process) -------------------------------------------------------------


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0
    first_error: str = ""

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _drive(
    url: str, headers: dict, body: bytes, stream: bool, concurrency: int, total: int
) -> LoadResult:
    import aiohttp

    result = LoadResult()
    remaining = total
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    # A gateway that cannot keep up must show up as errors, not stall the run for minutes.
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                try:
                    async with session.post(
                        url, data=body, headers={"content-type": "application/json"}
                    ) as r:
                        if stream:
                            async for _ in r.content.iter_any():
                                pass
                        else:
                            await r.read()
                        if r.status != 200:
                            result.errors += 1
                            result.first_error = result.first_error or f"HTTP {r.status}: {await r.text()}"
                            continue
                except (aiohttp.ClientError, TimeoutError) as exc:
                    result.errors += 1
                    result.first_error = result.first_error or repr(exc)
                    continue
                result.latencies_ms.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.wall_s = time.perf_counter() - started
    return result


def _load_process(
    conn: Connection, url: str, headers: dict, stream: bool, concurrency: int, total: int
) -> None:
    import uvloop

    body = json.dumps(
        {**BODY, "stream": stream} | ({"stream_options": {"include_usage": True}} if stream else {})
    )
    result = uvloop.run(_drive(url, headers, body.encode(), stream, concurrency, total))
    conn.send((result.latencies_ms, result.errors, result.wall_s, result.first_error))
    conn.close()


def run_load(server: Server, stream: bool, concurrency: int, total: int) -> tuple[LoadResult, float]:
    """Drive ``server`` from a separate process; returns the result and the server's CPU seconds."""
    parent, child = mp.Pipe(duplex=False)
    url = server.url + "/v1/chat/completions"
    proc = mp.get_context("spawn").Process(
        target=_load_process, args=(child, url, server.headers, stream, concurrency, total)
    )
    cpu_before = cpu_seconds(server.process.pid)
    proc.start()
    child.close()  # else a load process that dies leaves recv() waiting forever
    try:
        latencies, errors, wall, first_error = parent.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"the load generator died (exit code {proc.exitcode})") from None
    proc.join()
    cpu = cpu_seconds(server.process.pid) - cpu_before
    return LoadResult(latencies, errors, wall, first_error), cpu


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Row:
    gateway: str
    stream: bool
    level: int
    result: LoadResult
    cpu_s: float
    direct: LoadResult

    def added(self, q: float) -> float:
        return self.result.percentile(q) - self.direct.percentile(q)

    @property
    def cpu_ms_per_request(self) -> float:
        served = len(self.result.latencies_ms) + self.result.errors
        return 1000 * self.cpu_s / served if served else float("nan")


def requests_for(level: int, quick: bool) -> int:
    return max(200 if quick else 500, level * (5 if quick else 10))


@contextmanager
def servers(work: Path, latency_ms: int, with_litellm: bool) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        mock = start_mock(work, latency_ms)
        started.append(mock)
        started.append(start_ours(work, mock.url))
        if with_litellm:
            started.append(start_litellm(work, mock.url))
        yield started
    finally:
        for server in reversed(started):
            stop(server.process)


def measure(latency_ms: int, levels: list[int], quick: bool, with_litellm: bool) -> tuple[list[Row], dict]:
    work = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    rows: list[Row] = []
    facts: dict = {}
    try:
        with servers(work, latency_ms, with_litellm) as running:
            direct, gateways = running[0], running[1:]
            for g in gateways:
                facts[g.name] = {"startup_s": g.started_s}
                run_load(g, False, 8, 200)  # warm-up: connections, caches, JIT-free but lazy imports
            for stream in (False, True):
                for level in levels:
                    total = requests_for(level, quick)
                    baseline, _ = run_load(direct, stream, level, total)
                    for g in gateways:
                        result, cpu = run_load(g, stream, level, total)
                        rows.append(Row(g.name, stream, level, result, cpu, baseline))
                        print(
                            f"  {g.name} stream={stream} c={level}: {result.throughput:,.0f} req/s, "
                            f"{1000 * cpu / max(1, total):.2f} ms CPU/req, {result.errors} errors",
                            file=sys.stderr,
                            flush=True,
                        )
            for g in gateways:
                facts[g.name]["peak_rss_mib"] = rss_mib(g.process.pid, "VmHWM")
                facts[g.name]["rss_mib"] = rss_mib(g.process.pid)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows, facts


def saturation(latency_ms: int, with_litellm: bool, total: int) -> dict[str, dict[str, float]]:
    """Throughput per worker when the upstream answers at once and concurrency is high enough to
    keep the gateway busy; CPU per request from the same run."""
    work = Path(tempfile.mkdtemp(prefix="bench-gateway-sat-"))
    out: dict[str, dict[str, float]] = {}
    try:
        with servers(work, latency_ms, with_litellm) as running:
            for g in running[1:]:
                run_load(g, False, 8, 200)
                for stream in (False, True):
                    result, cpu = run_load(g, stream, 64, total)
                    out.setdefault(g.name, {})["stream" if stream else "plain"] = result.throughput
                    out[g.name][("stream" if stream else "plain") + "_cpu_ms"] = 1000 * cpu / max(1, total)
                    out[g.name][("stream" if stream else "plain") + "_errors"] = result.errors
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def soak(latency_ms: int, total: int) -> list[tuple[int, float]]:
    """RSS of our gateway every tenth of a ``total``-request run at concurrency 100."""
    work = Path(tempfile.mkdtemp(prefix="bench-gateway-soak-"))
    samples = []
    try:
        with servers(work, latency_ms, False) as running:
            ours = running[1]
            step = total // 10
            for i in range(10):
                run_load(ours, False, 100, step)
                samples.append(((i + 1) * step, rss_mib(ours.process.pid)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return samples


def print_report(rows: list[Row], facts: dict, sat: dict, latency_ms: int) -> None:
    print(f"\nUpstream latency {latency_ms} ms; added latency = gateway − direct at the same concurrency.\n")
    print(
        "| gateway | stream | concurrency | req/s | added p50 ms | added p95 ms | added p99 ms | CPU ms/req | errors |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.gateway} | {'yes' if r.stream else 'no'} | {r.level} | {r.result.throughput:,.0f} | "
            f"{r.added(0.5):.2f} | {r.added(0.95):.2f} | {r.added(0.99):.2f} | {r.cpu_ms_per_request:.2f} | "
            f"{r.result.errors} |"
        )
        if r.result.first_error:
            print(f"|   first error: {r.result.first_error[:160]} |")
    print()
    for name, f in facts.items():
        print(
            f"{name}: start-up {f['startup_s']:.2f} s, RSS {f['rss_mib']:.0f} MiB, peak {f['peak_rss_mib']:.0f} MiB"
        )
    if sat:
        print("\nSaturated throughput, one worker, upstream at 0 ms, concurrency 64:")
        for name, s in sat.items():
            print(
                f"  {name}: {s['plain']:,.0f} req/s ({s['plain_cpu_ms']:.2f} ms CPU/req), streaming "
                f"{s['stream']:,.0f} req/s ({s['stream_cpu_ms']:.2f} ms CPU/req)"
            )
    if "litellm" in facts:
        print("\nRatios ours/LiteLLM:")
        for stream in (False, True):
            for level in sorted({r.level for r in rows}):
                ours = next(
                    r for r in rows if r.gateway == "ours" and r.stream == stream and r.level == level
                )
                theirs = next(
                    r for r in rows if r.gateway == "litellm" and r.stream == stream and r.level == level
                )
                print(
                    f"  {'stream' if stream else 'plain '} c={level:>4}: added p50 "
                    f"{ratio(ours.added(0.5), theirs.added(0.5))}, p99 {ratio(ours.added(0.99), theirs.added(0.99))}, "
                    f"CPU/req {ratio(ours.cpu_ms_per_request, theirs.cpu_ms_per_request)}, "
                    f"throughput {ratio(ours.result.throughput, theirs.result.throughput)}"
                )
        if sat:
            for kind in ("plain", "stream"):
                print(f"  saturated {kind}: {ratio(sat['ours'][kind], sat['litellm'][kind])} (goal ≥ 5×)")
        print(f"  start-up: {ratio(facts['ours']['startup_s'], facts['litellm']['startup_s'])}")
        print(f"  peak RSS: {ratio(facts['ours']['peak_rss_mib'], facts['litellm']['peak_rss_mib'])}")


def print_soak(total: int, samples: list[tuple[int, float]]) -> None:
    first, last = samples[0][1], samples[-1][1]
    print(
        f"\nSoak of {total:,} requests, RSS (MiB) every tenth: " + ", ".join(f"{m:.1f}" for _, m in samples)
    )
    print(f"  growth after the first tenth: {100 * (last - first) / first:+.1f}% (goal within 10%)")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b and b == b and a == a else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--levels", default="1,50,100,300")
    parser.add_argument("--quick", action="store_true", help="levels 1 and 50, fewer requests")
    parser.add_argument("--saturation-requests", type=int, default=5000)
    parser.add_argument("--soak", type=int, default=0, help="requests for the RSS soak (ours only)")
    parser.add_argument("--soak-only", action="store_true", help="run only the RSS soak")
    parser.add_argument("--no-litellm", action="store_true")
    args = parser.parse_args()
    if args.soak_only:
        print_soak(args.soak or 200_000, soak(args.latency_ms, args.soak or 200_000))
        return
    with_litellm = not args.no_litellm
    if with_litellm and not LITELLM.exists():
        sys.exit(f"{LITELLM} is missing: `make bench-gateway` installs LiteLLM into its own virtualenv")
    levels = [1, 50] if args.quick else [int(x) for x in args.levels.split(",")]
    rows, facts = measure(args.latency_ms, levels, args.quick, with_litellm)
    sat = saturation(0, with_litellm, 1000 if args.quick else args.saturation_requests)
    print_report(rows, facts, sat, args.latency_ms)
    if args.soak:
        print_soak(args.soak, soak(args.latency_ms, args.soak))
    median_ms = statistics.median(r.cpu_ms_per_request for r in rows if r.gateway == "ours")
    print(f"\nOurs: median CPU per request over all levels {median_ms:.2f} ms (goal ≤ 1 ms)")


if __name__ == "__main__":
    main()
