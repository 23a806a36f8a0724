"""Per-call AI usage events: what the gateway and OTLP exporters would have recorded.

Shapes follow public traces (Azure LLM inference 2023, BurstGPT): lognormal token counts with
heavy tails, median prompts of 1,000-1,500 tokens, short answers, a diurnal and weekly rhythm
with bursts, and failed calls that produced no output. Everything is vectorised with numpy so
150,000 events take about half a second; costs and delivery ids are left to pricing and ingest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import pyarrow as pa

from comptroller.demo import enterprise as org
from comptroller.demo import waste
from comptroller.demo.writer import Period
from comptroller.ledger.schema import USAGE_EVENT_COLUMNS, Kind

EVENTS_PER_DAY = 150_000 / 91
BLOCKING_BUDGET = ("team-search", "Search team")
"""The approval budget (id, name) the search team's gateway traffic ran past on the last day."""
BLOCKED_WORKFLOW = "semantic-search"
BLOCKED_MODEL = "gpt-4o-mini"
BLOCKED_CALLS = 3
BLOCK_HOURS = (dt.time(15, 0), dt.time(17, 0))
AT_INGEST = ("price_version", "pricing_flag", "delivery_id")


def _made_at_ingest(name: str) -> bool:
    """Costs (list_cost, contracted_cost and their per-token-kind splits), price version and
    delivery id are written by pricing and ingest; the demo leaves exactly those out."""
    return name in AT_INGEST or name.startswith(("list_cost", "contracted_cost"))


COLUMNS = [c for c in USAGE_EVENT_COLUMNS if not _made_at_ingest(c.name)]
US = 1_000_000

# model -> provider, time to first token (ms), ms per generated token, cache style, median reasoning
MODELS: dict[str, tuple[str, float, float, str, float]] = {
    "gpt-4o": ("openai", 450, 12, "openai", 0),
    "gpt-4o-mini": ("openai", 300, 7, "openai", 0),
    "o4-mini": ("openai", 900, 8, "openai", 350),
    "text-embedding-3-small": ("openai", 0, 0, "none", 0),
    "claude-sonnet-4-20250514": ("anthropic", 700, 14, "anthropic", 0),
    "claude-3-5-haiku-20241022": ("anthropic", 400, 8, "anthropic", 0),
    "claude-opus-4-20250514": ("anthropic", 1200, 30, "anthropic", 0),
    "gemini-2.0-flash": ("google", 250, 4, "google", 0),
    "gemini-1.5-pro": ("google", 600, 15, "google", 0),
    "northwind-llama-ft-v2": ("self-hosted", 200, 10, "none", 0),
}
Block = dict[str, np.ndarray]
# provider -> prefix of project ids, prefix of provider request ids
ID_PREFIXES = {
    "openai": ("proj_", "chatcmpl-"),
    "anthropic": ("wrkspc_", "msg_01"),
    "google": ("nw-genai-", "gen-"),
    "self-hosted": ("sm-", "req-"),
}


def _obj(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _hex(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    raw = rng.bytes(n * width // 2).hex()
    return _obj([raw[i * width : (i + 1) * width] for i in range(n)])


def _timestamps(rng: np.random.Generator, period: Period, n: int) -> np.ndarray:
    """Arrival times: a US-heavy diurnal curve in UTC, quiet weekends, growth, and a few bursts."""
    days = period.days
    hour = np.arange(24)
    diurnal = 0.2 + np.exp(-(((hour - 17.5) / 4.0) ** 2)) + 0.4 * np.exp(-(((hour - 9.5) / 2.5) ** 2))
    weekday = np.array([0.32 if d.weekday() >= 5 else 1.0 for d in days])
    trend = 1.0 + 0.35 * np.arange(len(days)) / max(len(days) - 1, 1)
    weights = (weekday * trend)[:, None] * diurnal[None, :]
    weights = weights.ravel()
    bursts = rng.choice(weights.size, size=max(1, len(days) // 8), replace=False)
    weights[bursts] *= rng.uniform(3.0, 6.0, size=bursts.size)
    counts = rng.multinomial(n, weights / weights.sum())
    start = np.datetime64(dt.datetime.combine(days[0], dt.time()), "us")
    hours = start + np.arange(weights.size) * np.timedelta64(3600 * US, "us")
    return np.repeat(hours, counts) + rng.integers(0, 3600 * US, size=n).astype("timedelta64[us]")


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.round(rng.lognormal(np.log(max(median, 1e-9)), sigma, n)), lo, hi).astype(np.int64)


def _split_cache(rng: np.random.Generator, style: str, total: np.ndarray, share: float) -> tuple:
    """Total prompt tokens into disjoint uncached / cache-read / cache-write counts, per provider."""
    n = total.size
    read = np.zeros(n, np.int64)
    write = np.zeros(n, np.int64)
    if style == "anthropic":
        hit = rng.random(n) < share
        read = np.where(hit, (total * rng.uniform(0.5, 0.85, n)).astype(np.int64), 0)
        new = ~hit & (rng.random(n) < 0.06)
        write = np.where(new, (total * rng.uniform(0.4, 0.8, n)).astype(np.int64), 0)
    elif style == "openai":
        hit = (total >= 1024) & (rng.random(n) < share)
        read = np.where(hit, (total * rng.uniform(0.3, 0.8, n)).astype(np.int64) // 128 * 128, 0)
    elif style == "google":
        hit = rng.random(n) < share * 0.5
        read = np.where(hit, (total * rng.uniform(0.3, 0.7, n)).astype(np.int64), 0)
    return total - read - write, read, write


def _traces(rng: np.random.Generator, ts: np.ndarray, agent: bool, run_mean: float = 4.0) -> np.ndarray:
    """Agent calls share a trace per run (consecutive calls of the workflow); others get their own."""
    n = ts.size
    if not agent or n == 0:
        return _hex(rng, n, 32)
    order = np.argsort(ts, kind="stable")
    sizes = rng.geometric(1.0 / run_mean, size=n)
    run = np.repeat(np.arange(n), sizes)[:n]
    ids = _hex(rng, int(run[-1]) + 1, 32)
    out = np.empty(n, dtype=object)
    out[order] = ids[run]
    return out


def _calls(
    rng: np.random.Generator, wf: org.Workflow, ts: np.ndarray, model: str, in_med: float, out_med: float
) -> Block:
    """Events of one workflow on one model: tokens, outcome and timing."""
    n = ts.size
    provider, ttft_ms, ms_tok, style, reasoning_med = MODELS[model]
    embed = wf.operation == "embeddings"
    total_in = _lognormal(rng, in_med, 0.75, n, 8, 128_000)
    out_sigma, out_hi = (0.5, 24) if wf.name == waste.PREMIUM_WORKFLOW else (0.95, 8192)
    output = np.zeros(n, np.int64) if embed else _lognormal(rng, out_med, out_sigma, n, 1, out_hi)
    reasoning = _lognormal(rng, reasoning_med, 0.9, n, 0, 20_000) if reasoning_med else np.zeros(n, np.int64)
    uncached, read, write = _split_cache(rng, style, total_in, wf.cache_share)

    draw = rng.random(n)
    status = np.where(draw < 0.975, "ok", np.where(draw < 0.99, "error", "rate_limited")).astype(object)
    kinds = np.array(["server_error", "timeout", "context_length_exceeded"], dtype=object)
    error_type = np.where(status == "error", kinds[rng.choice(3, n, p=[0.5, 0.35, 0.15])], None)
    error_type = np.where(status == "rate_limited", "rate_limit_exceeded", error_type)
    gateway = wf.source == "gateway"
    cache_hit = gateway & (status == "ok") & (rng.random(n) < (0.0 if embed else 0.03))
    failed = status != "ok"
    output[failed | cache_hit] = 0
    reasoning[failed | cache_hit] = 0
    for arr in (uncached, read, write):
        arr[(status == "rate_limited") | cache_hit] = 0

    ttft = ttft_ms * rng.lognormal(0, 0.35, n) + (uncached + read + write) * 0.02
    latency = ttft + (output + reasoning) * ms_tok * rng.lognormal(0, 0.2, n)
    if embed:
        latency = 40 + total_in * 0.04 * rng.lognormal(0, 0.3, n)
    latency = np.where(error_type == "timeout", 30_000 + rng.uniform(0, 500, n), latency)
    latency = np.where(status == "rate_limited", rng.uniform(15, 80, n), latency)
    latency = np.where(cache_hit, rng.uniform(3, 15, n), latency)
    ttft = np.where(failed | cache_hit | embed, np.nan, ttft)

    tier = np.full(n, "default", dtype=object)
    if embed:
        tier[rng.random(n) < 0.4] = "batch"
    if model == "o4-mini":
        tier[rng.random(n) < 0.1] = "flex"
    route = np.full(n, "private-local" if provider == "self-hosted" else "primary", dtype=object)
    route[(rng.random(n) < 0.02) & (provider != "self-hosted")] = "fallback"
    return {
        "timestamp": ts,
        "provider": np.full(n, provider, dtype=object),
        "model": np.full(n, model, dtype=object),
        "uncached_input_tokens": uncached,
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "output_tokens": output,
        "reasoning_tokens": reasoning,
        "latency_ms": np.round(latency, 1),
        "time_to_first_token_ms": np.round(ttft, 1),
        "status": status,
        "error_type": error_type,
        "retries": np.where(rng.random(n) < 0.035, rng.integers(1, 3, n), 0).astype(np.int64),
        "tool_calls": rng.poisson(wf.tools_mean, n).astype(np.int64) if wf.agent else np.zeros(n, np.int64),
        "service_tier": tier,
        "route": route if gateway else np.full(n, None, dtype=object),
        "cache_hit": cache_hit.astype(object) if gateway else np.full(n, None, dtype=object),
    }


def _attribute(
    rng: np.random.Generator, wf: org.Workflow, block: Block, trace: np.ndarray, planted: bool = False
) -> Block:
    """Business dimensions, ids and keys, which all follow from the workflow that made the call.

    A few ordinary gateway calls come through a legacy shared key and carry no team: the
    unattributed usage every real estate has. Planted incidents run in prod on the team's own key,
    so that a finding about them is about one thing only."""
    n = block["timestamp"].size
    team = org.TEAM_BY_NAME[wf.team]
    env = np.array(org.ENVIRONMENTS, dtype=object)[rng.choice(3, n, p=wf.environments)]
    if planted:
        env[:] = "prod"
    if wf.segments is None:
        segment = customer = np.full(n, None, dtype=object)
    else:
        segment = np.array(org.SEGMENTS, dtype=object)[
            rng.choice(3, n, p=np.array(wf.segments) / sum(wf.segments))
        ]
        customer = np.full(n, None, dtype=object)
        for seg in ("enterprise", "smb"):
            mask = segment == seg
            customer[mask] = np.array(org.CUSTOMERS[seg], dtype=object)[
                rng.integers(0, len(org.CUSTOMERS[seg]), mask.sum())
            ]
    gateway = wf.source == "gateway"
    legacy = gateway & (rng.random(n) < (0.0 if planted else 0.02))
    provider = block["provider"][0] if n else "openai"
    project, request = ID_PREFIXES[provider]
    operation = "generate_content" if provider == "google" and wf.operation == "chat" else wf.operation
    tags = np.full(n, None, dtype=object)
    tagged = rng.random(n) < 0.2
    versions = _obj([json.dumps({"prompt_version": f"{wf.feature}-v{v}"}) for v in range(1, 5)])
    tags[tagged] = versions[rng.integers(0, 4, int(tagged.sum()))]

    def constant(value: str | None) -> np.ndarray:
        return np.where(legacy, None, value).astype(object)

    return block | {
        "source": np.full(n, wf.source, dtype=object),
        "operation": np.full(n, operation, dtype=object),
        "billing_account_id": np.full(n, org.PROVIDER_ACCOUNTS[provider], dtype=object),
        "project_id": np.full(n, project + wf.team, dtype=object),
        "api_key_id": np.where(
            legacy, "gk_legacy_shared", np.char.add(f"gk_{wf.team}_", env.astype(str))
        ).astype(object)
        if gateway
        else np.full(n, None, dtype=object),
        "request_id": _obj([request + h for h in _hex(rng, n, 24)]),
        "trace_id": trace,
        "team": constant(wf.team),
        "product": constant(team.product),
        "function": constant(team.function),
        "customer_segment": segment,
        "workflow": np.full(n, wf.name, dtype=object),
        "risk_tier": np.full(n, wf.risk_tier, dtype=object),
        "environment": env,
        "owner": constant(team.owner),
        "feature": np.full(n, wf.feature, dtype=object),
        "agent": np.full(n, wf.agent, dtype=object),
        "customer": customer,
        "tags": tags,
        "currency": np.full(n, "USD", dtype=object),
    }


def _workflow_block(rng: np.random.Generator, wf: org.Workflow, ts: np.ndarray) -> list[Block]:
    models = [m for m, _ in wf.models]
    pick = rng.choice(len(models), ts.size, p=[w for _, w in wf.models])
    trace = _traces(rng, ts, wf.agent is not None)
    blocks = []
    for i, model in enumerate(models):
        mask = pick == i
        block = _calls(rng, wf, ts[mask], model, wf.input_median, wf.output_median)
        blocks.append(_attribute(rng, wf, block, trace[mask]))
    return blocks


def _retry_storm(rng: np.random.Generator, period: Period, scale: float) -> Block:
    """One afternoon of an agent hammering a failing upstream: errors, 429s and retries."""
    wf = org.WORKFLOW_BY_NAME[waste.STORM_WORKFLOW]
    day = waste.storm_day(period)
    lo = np.datetime64(dt.datetime.combine(day, waste.STORM_HOURS[0]), "us")
    hi = np.datetime64(dt.datetime.combine(day, waste.STORM_HOURS[1]), "us")
    n = max(1200, int(waste.STORM_CALLS * scale))
    ts = np.sort(lo + rng.integers(0, int((hi - lo) / np.timedelta64(1, "us")), n).astype("timedelta64[us]"))
    block = _calls(rng, wf, ts, waste.STORM_MODEL, wf.input_median, wf.output_median)
    draw = rng.random(n)
    status = np.where(draw < 0.55, "error", np.where(draw < 0.9, "rate_limited", "ok")).astype(object)
    block["status"] = status
    block["error_type"] = np.where(
        status == "error", np.where(rng.random(n) < 0.6, "server_error", "timeout"), None
    ).astype(object)
    block["error_type"][status == "rate_limited"] = "rate_limit_exceeded"
    for col in ("output_tokens", "reasoning_tokens"):
        block[col][status != "ok"] = 0
    for col in ("uncached_input_tokens", "cache_read_tokens", "cache_write_tokens"):
        block[col][status == "rate_limited"] = 0
    block["latency_ms"] = np.where(status == "rate_limited", rng.uniform(15, 80, n), block["latency_ms"])
    block["time_to_first_token_ms"][status != "ok"] = np.nan
    block["retries"] = rng.integers(1, 6, n).astype(np.int64)
    block["tool_calls"] = np.zeros(n, np.int64)
    block["cache_hit"][:] = False
    return _attribute(rng, wf, block, _traces(rng, ts, True, run_mean=6.0), planted=True)


def _agent_loop(rng: np.random.Generator, period: Period) -> Block:
    """One code-review run that never converges: hundreds of calls, thousands of tool calls and a
    context that grows with every turn."""
    wf = org.WORKFLOW_BY_NAME[waste.LOOP_WORKFLOW]
    n = waste.LOOP_CALLS
    start = np.datetime64(dt.datetime.combine(waste.loop_day(period), waste.LOOP_START), "us")
    ts = start + np.sort(rng.integers(0, 190 * 60 * US, n)).astype("timedelta64[us]")
    block = _calls(rng, wf, ts, waste.LOOP_MODEL, 1.0, 120)
    context = (np.linspace(3_000, 90_000, n) * rng.uniform(0.9, 1.1, n)).astype(np.int64)
    block["cache_read_tokens"] = (context * 0.8).astype(np.int64)
    block["uncached_input_tokens"] = context - block["cache_read_tokens"]
    block["cache_write_tokens"] = np.zeros(n, np.int64)
    block["status"][:] = "ok"
    block["error_type"][:] = None
    block["output_tokens"] = _lognormal(rng, 120, 0.5, n, 20, 800)
    block["tool_calls"] = rng.integers(3, 10, n).astype(np.int64)
    block["retries"] = np.zeros(n, np.int64)
    block["cache_hit"][:] = False
    block["time_to_first_token_ms"] = np.round(700 * rng.lognormal(0, 0.35, n) + context * 0.02, 1)
    block["latency_ms"] = np.round(block["time_to_first_token_ms"] + block["output_tokens"] * 14.0, 1)
    return _attribute(rng, wf, block, np.full(n, waste.LOOP_TRACE_ID, dtype=object), planted=True)


def generate_usage(rng: np.random.Generator, period: Period, scale: float, tag: str) -> pa.Table:
    """All usage events of the period, sorted by time; ``tag`` makes event ids unique per dataset."""
    n = round(EVENTS_PER_DAY * len(period.days) * scale)
    ts = _timestamps(rng, period, n)
    shares = np.array([w.share for w in org.WORKFLOWS])
    which = rng.choice(len(org.WORKFLOWS), n, p=shares / shares.sum())
    blocks: list[Block] = []
    for i, wf in enumerate(org.WORKFLOWS):
        blocks += _workflow_block(rng, wf, ts[which == i])
    blocks += [_retry_storm(rng, period, scale), _agent_loop(rng, period)]
    merged = {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0] if name != "event_id"}
    order = np.argsort(merged["timestamp"], kind="stable")
    digest = hashlib.sha256(tag.encode()).hexdigest()[:8]
    merged = {k: v[order] for k, v in merged.items()}
    merged["event_id"] = _obj([f"evt_{digest}_{i:07d}" for i in range(order.size)])
    merged["requests"] = np.ones(order.size, np.int64)  # every demo event is one call
    return _to_table(merged)


def gateway_blocks(rng: np.random.Generator, period: Period, tag: str) -> pa.Table:
    """Calls the gateway held on the last afternoon: the search team's month had gone past its
    approval budget, so each call got an approval-request id instead of an answer. They reached
    no provider: no tokens, no cost. Kept apart from ``generate_usage`` so the traffic it
    describes (and ``truth`` measures) is the same with or without them."""
    wf = org.WORKFLOW_BY_NAME[BLOCKED_WORKFLOW]
    lo = np.datetime64(dt.datetime.combine(period.end, BLOCK_HOURS[0]), "us")
    hi = np.datetime64(dt.datetime.combine(period.end, BLOCK_HOURS[1]), "us")
    n = BLOCKED_CALLS
    ts = np.sort(lo + rng.integers(0, int((hi - lo) / np.timedelta64(1, "us")), n).astype("timedelta64[us]"))
    block = _calls(rng, wf, ts, BLOCKED_MODEL, wf.input_median, wf.output_median)
    for col in ("uncached_input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"):
        block[col] = np.zeros(n, np.int64)
    block["reasoning_tokens"] = np.zeros(n, np.int64)
    block |= {
        "status": np.full(n, "blocked_approval", dtype=object),
        "error_type": np.full(n, "budget_approval_required", dtype=object),
        "latency_ms": np.round(rng.uniform(2, 8, n), 1),
        "time_to_first_token_ms": np.full(n, np.nan),
        "retries": np.zeros(n, np.int64),
        "tool_calls": np.zeros(n, np.int64),
        "service_tier": np.full(n, None, dtype=object),
        "route": np.full(n, None, dtype=object),
        "cache_hit": np.full(n, False, dtype=object),
    }
    block = _attribute(rng, wf, block, _hex(rng, n, 32), planted=True)
    ids = _obj([f"apr_{h}" for h in _hex(rng, n, 32)])
    name = BLOCKING_BUDGET[1]
    digest = hashlib.sha256(tag.encode()).hexdigest()[:8]
    block |= {
        "approval_request_id": ids,
        "block_reason": _obj(
            [f"budget {name!r} (team) needs approval: 0 USD left; ask for approval quoting {i}" for i in ids]
        ),
        "event_id": _obj([f"evt_{digest}_blocked_{i:03d}" for i in range(n)]),
        "requests": np.ones(n, np.int64),
    }
    return _to_table(block)


_ARROW = {
    Kind.DECIMAL: pa.decimal128(38, 12),
    Kind.STRING: pa.string(),
    Kind.JSON: pa.string(),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.INTEGER: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
}


def _to_table(cols: dict[str, np.ndarray]) -> pa.Table:
    """Typed Arrow columns in schema order; a nullable column the demo has no story for (the
    schema may grow) is written as nulls rather than breaking the generator."""
    arrays = []
    n = cols["event_id"].size
    for c in COLUMNS:
        values = cols.get(c.name)
        if values is None and c.nullable:
            arrays.append(pa.nulls(n, _ARROW[c.kind]))
        elif c.kind is Kind.FLOAT:
            arrays.append(pa.array(values, pa.float64(), mask=np.isnan(values)))
        else:
            arrays.append(pa.array(values, _ARROW[c.kind]))
    return pa.Table.from_arrays(
        arrays, schema=pa.schema([pa.field(c.name, _ARROW[c.kind], c.nullable) for c in COLUMNS])
    )
