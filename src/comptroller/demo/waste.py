"""Planted waste: where the demo hides each problem, and the ground truth that proves it is there.

The generators plant the problems at the places named here; the ``*_truth`` functions then measure
each one again from the generated rows and events (not from these constants), so ``truth``
describes what is really in the data. Features that hunt for waste are tested against it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from comptroller.demo.writer import Period, Row

IDLE_GPU_ID = "i-0f3a9c2e7b1d45e60"
IDLE_GPU_WEEKS = 6

PREMIUM_WORKFLOW = "ticket-classification"
PREMIUM_MODELS = ("claude-opus-4-20250514", "gpt-4o")
ADEQUATE_MODEL = "claude-3-5-haiku-20241022"

STORM_WORKFLOW = "invoice-extraction"
STORM_AGENT = "invoice-agent"
STORM_MODEL = "gemini-2.0-flash"
STORM_HOURS = (dt.time(13, 0), dt.time(16, 30))
STORM_CALLS = 4200

LOOP_WORKFLOW = "code-review"
LOOP_AGENT = "code-review-agent"
LOOP_MODEL = "claude-sonnet-4-20250514"
LOOP_TRACE_ID = "7f3e9a1c5b2d4e6f8a0b1c2d3e4f5a6b"
LOOP_CALLS = 480
LOOP_START = dt.time(9, 12)

UNDERUSED_SEAT_RATIO = 0.6
"""A licence pool is underused when fewer than this share of assigned seats were active in 30 days."""


def _weekday_on_or_before(day: dt.date, start: dt.date, weekday: int) -> dt.date:
    while day.weekday() != weekday and day > start:
        day -= dt.timedelta(days=1)
    return day


def storm_day(period: Period) -> dt.date:
    """A Tuesday about ten days before the end, so the storm sits inside even a short period."""
    return _weekday_on_or_before(max(period.start, period.end - dt.timedelta(days=10)), period.start, 1)


def loop_day(period: Period) -> dt.date:
    return _weekday_on_or_before(max(period.start, period.end - dt.timedelta(days=4)), period.start, 2)


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def idle_gpu_truth(aws: list[Row]) -> dict[str, Any]:
    rows = [r for r in aws if r.get("ResourceId") == IDLE_GPU_ID]
    util = [float(r["x_GpuUtilization"]) for r in rows]
    return {
        "resource_id": IDLE_GPU_ID,
        "resource_name": rows[0]["ResourceName"],
        "instance_type": "p4d.24xlarge",
        "sub_account": rows[0]["SubAccountName"],
        "first_day": rows[0]["ChargePeriodStart"].date().isoformat(),
        "last_day": rows[-1]["ChargePeriodStart"].date().isoformat(),
        "days": len(rows),
        "hours": format(sum((r["PricingQuantity"] for r in rows), Decimal(0)), "f"),
        "mean_gpu_utilization": round(sum(util) / len(util), 2),
        "max_gpu_utilization": max(util),
        "effective_cost": _money(sum((r["EffectiveCost"] for r in rows), Decimal(0))),
    }


def commitment_truth(aws: list[Row]) -> dict[str, Any]:
    months: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in aws:
        if not r.get("CommitmentDiscountId"):
            continue
        key = r["BillingPeriodStart"].date().isoformat()[:7]
        kind = r["ChargeCategory"] if r["ChargeCategory"] == "Purchase" else r["CommitmentDiscountStatus"]
        months[key][kind] += r["BilledCost"] if kind == "Purchase" else r["EffectiveCost"]
    return {
        "commitment_id": next(r["CommitmentDiscountId"] for r in aws if r.get("CommitmentDiscountId")),
        "months": {
            m: {k: format(v, "f") for k, v in sorted(parts.items())} for m, parts in sorted(months.items())
        },
    }


def seats_truth(seats: list[Row]) -> dict[str, Any]:
    """Seats per product in the latest month; underused pools are the planted waste."""
    latest = max(r["BillingPeriodStart"] for r in seats)
    products: dict[str, dict[str, Any]] = {}
    for r in (r for r in seats if r["BillingPeriodStart"] == latest):
        p = products.setdefault(r["ServiceName"], {"assigned": 0, "active": 0})
        p |= {"unit_price": r["ContractedUnitPrice"], "renewal": r["x_RenewalDate"]}
        p["assigned"] += r["x_SeatsAssigned"]
        p["active"] += r["x_SeatsActive30d"]
    out = {}
    for name, p in sorted(products.items()):
        unused = p["assigned"] - p["active"]
        out[name] = {
            "assigned": p["assigned"],
            "active_30d": p["active"],
            "unused": unused,
            "active_ratio": round(p["active"] / p["assigned"], 4),
            "monthly_unused_cost": _money(p["unit_price"] * unused),
            "renewal_date": p["renewal"],
        }
    underused = sorted(n for n, p in out.items() if p["active_ratio"] < UNDERUSED_SEAT_RATIO)
    return {"month": latest.date().isoformat()[:7], "products": out, "underused": underused}


def tag_sql(condition: str) -> str:
    """A rule condition as plain DuckDB SQL: tag('k') reads key k of the Tags JSON."""
    return re.sub(r"tag\('([^']*)'\)", lambda m: f"json_extract_string(Tags, '$.\"{m[1]}\"')", condition)


def _claims(rules: tuple[dict, ...], allocations: tuple[dict, ...]) -> tuple[list[str], list[str]]:
    team_rules = [tag_sql(r["condition"]) for r in rules if r["dimension"] == "team"]
    pools = [tag_sql(a["condition"]) for a in allocations if a["dimension"] == "team"]
    return team_rules, pools


def _none_of(conditions: list[str]) -> str:
    return "NOT (" + " OR ".join(f"COALESCE(({c}), FALSE)" for c in conditions) + ")"


NO_TEAM_TAG = "json_extract_string(Tags, '$.team') IS NULL"


def untagged_sql(source: str, rules: tuple[dict, ...], allocations: tuple[dict, ...]) -> str:
    """SQL selecting lines with no team of their own (tag), no team rule and no allocation pool.

    ``source`` is any relation with the FOCUS columns the rules use; tests run the same query over
    the files on disk, so truth and a recomputation agree only if the files really say so."""
    team_rules, pools = _claims(rules, allocations)
    return f"SELECT * FROM {source} WHERE {NO_TEAM_TAG} AND {_none_of(team_rules + pools)}"


def untagged_truth(
    files: dict[str, list[Row]], rules: tuple[dict, ...], allocations: tuple[dict, ...]
) -> dict:
    names = ("SubAccountName", "ServiceName", "ServiceCategory", "ResourceName", "ProviderName", "Tags")
    batches = []
    for file, rows in files.items():
        cols = {n: pa.array([r.get(n) for r in rows], pa.string()) for n in names}
        cols["EffectiveCost"] = pa.array([r["EffectiveCost"] for r in rows], pa.decimal128(38, 12))
        cols["file"] = pa.array([file] * len(rows), pa.string())
        batches.append(pa.table(cols))
    con = duckdb.connect()
    con.register("lines", pa.concat_tables(batches))
    _, pools = _claims(rules, allocations)
    query = untagged_sql("lines", rules, allocations)
    sql = "SELECT file, count(*), sum(EffectiveCost) FROM ({}) GROUP BY file ORDER BY file"
    by_file = con.sql(sql.format(query)).fetchall()
    total = con.sql(f"SELECT count(*), sum(EffectiveCost) FROM ({query})").fetchone()
    before = con.sql(
        f"SELECT sum(EffectiveCost) FROM lines WHERE {NO_TEAM_TAG} AND {_none_of(pools)}"
    ).fetchone()
    con.close()
    return {
        "definition": "no 'team' key in Tags, no team rule matches, and no team allocation pool matches",
        "cost_column": "EffectiveCost",
        "lines": total[0],
        "effective_cost": _money(total[1]),
        "effective_cost_before_rules": _money(before[0]),
        "by_file": {f: {"lines": n, "effective_cost": _money(c)} for f, n, c in by_file},
    }


def pools_truth(files: dict[str, list[Row]], allocations: tuple[dict, ...]) -> dict[str, Any]:
    out = {}
    for alloc in allocations:
        pool = alloc["name"]
        rows = [r for rs in files.values() for r in rs if f'"cost_pool":"{pool}"' in (r.get("Tags") or "")]
        out[pool] = {
            "lines": len(rows),
            "effective_cost": _money(sum((r["EffectiveCost"] for r in rows), Decimal(0))),
        }
    return out


def _iso(value: np.datetime64) -> str:
    return str(np.datetime_as_string(value, unit="s"))


def usage_truth(events: pa.Table, period: Period) -> dict[str, Any]:
    """Premium models on a trivial task, the retry storm and the agent loop, measured from events."""
    wf = events.column("workflow").to_numpy(zero_copy_only=False)
    model = events.column("model").to_numpy(zero_copy_only=False)
    out_tokens = events.column("output_tokens").to_numpy()
    retries = events.column("retries").to_numpy()
    status = events.column("status").to_numpy(zero_copy_only=False)
    ts = events.column("timestamp").to_numpy()
    trace = events.column("trace_id").to_numpy(zero_copy_only=False)
    tools = events.column("tool_calls").to_numpy()

    triage = (wf == PREMIUM_WORKFLOW) & (status == "ok")
    premium = triage & np.isin(model, PREMIUM_MODELS)
    day = storm_day(period)
    lo = np.datetime64(dt.datetime.combine(day, STORM_HOURS[0]), "us")
    hi = np.datetime64(dt.datetime.combine(day, STORM_HOURS[1]), "us")
    storm = (wf == STORM_WORKFLOW) & (ts >= lo) & (ts < hi) & (retries > 0)
    loop = trace == LOOP_TRACE_ID
    agent = events.column("agent").to_numpy(zero_copy_only=False)
    runs = pc.value_counts(pc.filter(events.column("trace_id"), pc.equal(events.column("agent"), LOOP_AGENT)))
    other_runs = [v["counts"].as_py() for v in runs if v["values"].as_py() != LOOP_TRACE_ID]
    return {
        "premium_models_on_simple_task": {
            "workflow": PREMIUM_WORKFLOW,
            "premium_models": list(PREMIUM_MODELS),
            "adequate_model": ADEQUATE_MODEL,
            "calls": int(triage.sum()),
            "premium_calls": int(premium.sum()),
            "premium_share": round(float(premium.sum() / max(triage.sum(), 1)), 4),
            "median_output_tokens": float(np.median(out_tokens[premium])) if premium.any() else 0.0,
            "max_output_tokens": int(out_tokens[premium].max(initial=0)),
        },
        "retry_storm": {
            "workflow": STORM_WORKFLOW,
            "agent": STORM_AGENT,
            "model": STORM_MODEL,
            "date": day.isoformat(),
            "window_start": _iso(lo),
            "window_end": _iso(hi),
            "calls": int(storm.sum()),
            "errors": int((storm & (status == "error")).sum()),
            "rate_limited": int((storm & (status == "rate_limited")).sum()),
            "retries": int(retries[storm].sum()),
            "baseline_calls_same_window": int(
                ((wf == STORM_WORKFLOW) & (ts >= lo) & (ts < hi)).sum() - storm.sum()
            ),
        },
        "agent_loop": {
            "agent": LOOP_AGENT,
            "workflow": LOOP_WORKFLOW,
            "trace_id": LOOP_TRACE_ID,
            "calls": int(loop.sum()),
            "tool_calls": int(tools[loop].sum()),
            "start": _iso(ts[loop].min()) if loop.any() else None,
            "end": _iso(ts[loop].max()) if loop.any() else None,
            "input_tokens": int(
                sum(
                    events.column(f"{c}_tokens").to_numpy()[loop].sum()
                    for c in ("uncached_input", "cache_read", "cache_write")
                )
            ),
            "max_calls_in_other_runs": max(other_runs, default=0),
            "agent_events": int((agent == LOOP_AGENT).sum()),
        },
    }
