"""Every planted problem is really in the generated data, measured from the files and events."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest

from comptroller.attribution.specs import AllocationSpec, OwnerSpec, RuleSpec
from comptroller.demo import waste
from tests.demo.conftest import load_rows, relation_sql, union_sql

AWS = "aws-focus-1.2.csv.gz"
SEATS = "saas-seats-focus-1.3.csv"


def cents(value) -> str:
    return format(Decimal(value).quantize(Decimal("0.01")), "f")


def col(events, name):
    return events.column(name).to_numpy(zero_copy_only=False)


def test_truth_keys(demo):
    assert {
        "idle_gpu",
        "premium_models_on_simple_task",
        "retry_storm",
        "unused_seats",
        "untagged_spend",
        "agent_loop",
        "commitment",
        "allocation_pools",
        "period",
        "files",
        "usage_events",
    } <= set(demo.truth)
    json.dumps(demo.truth)  # serialisable as written


def test_idle_gpu_runs_around_the_clock_for_weeks_doing_nothing(demo, files, con):
    truth = demo.truth["idle_gpu"]
    rows = con.sql(
        f"""SELECT CAST(ChargePeriodStart AS VARCHAR), CAST(PricingQuantity AS DECIMAL(18, 4)),
                   CAST(x_GpuUtilization AS DOUBLE), CAST(EffectiveCost AS DECIMAL(38, 12)), ResourceName
            FROM {relation_sql(files[AWS])} WHERE ResourceId = ? ORDER BY 1""",
        params=[truth["resource_id"]],
    ).fetchall()
    assert len(rows) == truth["days"] >= 14
    assert all(hours == 24 for _, hours, _, _, _ in rows)
    assert max(u for _, _, u, _, _ in rows) == truth["max_gpu_utilization"] <= 3.0
    assert cents(sum(r[3] for r in rows)) == truth["effective_cost"]
    days = [dt.date.fromisoformat(r[0][:10]) for r in rows]
    assert (days[-1] - days[0]).days == len(days) - 1  # no gaps: it never stops
    busy = con.sql(
        f"SELECT min(CAST(x_GpuUtilization AS DOUBLE)) FROM {relation_sql(files[AWS])} "
        "WHERE ResourceName = 'mlr-p5-train-01'"
    ).fetchone()[0]
    assert busy > 50  # the contrast a finding needs


def test_premium_models_on_a_trivial_task(demo):
    truth = demo.truth["premium_models_on_simple_task"]
    events = demo.usage_events
    triage = (col(events, "workflow") == truth["workflow"]) & (col(events, "status") == "ok")
    premium = triage & np.isin(col(events, "model"), truth["premium_models"])
    assert premium.sum() == truth["premium_calls"] and triage.sum() == truth["calls"]
    assert premium.mean() < 1 and premium.sum() / triage.sum() > 0.6
    outputs = col(events, "output_tokens")[premium]
    assert np.median(outputs) == truth["median_output_tokens"] <= 10
    assert outputs.max() == truth["max_output_tokens"] <= 32
    assert truth["adequate_model"] in set(col(events, "model")[triage])


def test_retry_storm(demo):
    truth = demo.truth["retry_storm"]
    events = demo.usage_events
    ts = events.column("timestamp").to_numpy()
    lo, hi = np.datetime64(truth["window_start"], "us"), np.datetime64(truth["window_end"], "us")
    flow = col(events, "workflow") == truth["workflow"]
    storm = flow & (ts >= lo) & (ts < hi) & (col(events, "retries") > 0)
    assert storm.sum() == truth["calls"] >= 1000
    status = col(events, "status")[storm]
    assert (status != "ok").mean() > 0.8
    assert (status == "error").sum() == truth["errors"] and (status == "rate_limited").sum() == truth[
        "rate_limited"
    ]
    assert col(events, "retries")[storm].sum() == truth["retries"]
    assert set(col(events, "agent")[storm]) == {truth["agent"]}
    # the same workflow's busiest ordinary hour is nowhere near the storm's hourly rate
    others = flow & ~((ts >= lo) & (ts < hi))
    hourly = np.unique(ts[others].astype("datetime64[h]"), return_counts=True)[1]
    assert storm.sum() / 3.5 > 10 * hourly.max()


def test_unused_seats(demo, files):
    truth = demo.truth["unused_seats"]
    rows = load_rows(files[SEATS])
    latest = max(r["BillingPeriodStart"] for r in rows)
    seats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if r["BillingPeriodStart"] == latest:
            seats[r["ServiceName"]][0] += int(r["x_SeatsAssigned"])
            seats[r["ServiceName"]][1] += int(r["x_SeatsActive30d"])
    for product, (assigned, active) in seats.items():
        assert truth["products"][product]["assigned"] == assigned
        assert truth["products"][product]["active_30d"] == active
    underused = sorted(p for p, (a, n) in seats.items() if n / a < waste.UNDERUSED_SEAT_RATIO)
    assert underused == truth["underused"] == ["ChatGPT Enterprise", "Microsoft 365 Copilot"]
    assert all(seats[p][1] / seats[p][0] > 0.8 for p in seats if p not in underused)


def test_untagged_spend_recomputed_from_the_files(demo, files, con):
    truth = demo.truth["untagged_spend"]
    source = union_sql(list(files.values()))
    query = waste.untagged_sql(source, demo.rules, demo.allocations)
    lines, cost = con.sql(f"SELECT count(*), sum(EffectiveCost) FROM ({query})").fetchone()
    assert lines == truth["lines"] > 0
    assert cents(cost) == truth["effective_cost"]
    assert Decimal(truth["effective_cost"]) < Decimal(truth["effective_cost_before_rules"]) / 2
    by_file = con.sql(f"SELECT file, count(*) FROM ({query}) GROUP BY file").fetchall()
    assert {f: n for f, n in by_file} == {f: v["lines"] for f, v in truth["by_file"].items()}


def test_every_team_rule_claims_something(demo, files, con):
    source = union_sql(list(files.values()))
    for rule in demo.rules:
        n = con.sql(f"SELECT count(*) FROM {source} WHERE {waste.tag_sql(rule['condition'])}").fetchone()[0]
        assert n > 0, rule


def test_allocation_pools_are_planted(demo, files, con):
    source = union_sql(list(files.values()))
    for alloc in demo.allocations:
        truth = demo.truth["allocation_pools"][alloc["name"]]
        sql = f"SELECT count(*), sum(EffectiveCost) FROM {source} WHERE {waste.tag_sql(alloc['condition'])}"
        lines, cost = con.sql(sql).fetchone()
        assert lines == truth["lines"] > 0 and cents(cost) == truth["effective_cost"]
    fixed = next(a for a in demo.allocations if a["method"] == "fixed")
    assert sum(fixed["weights"].values()) == pytest.approx(1.0)


def test_agent_loop(demo):
    truth = demo.truth["agent_loop"]
    events = demo.usage_events
    trace = col(events, "trace_id")
    loop = trace == truth["trace_id"]
    assert loop.sum() == truth["calls"] >= 300
    assert col(events, "tool_calls")[loop].sum() == truth["tool_calls"] >= 1000
    assert set(col(events, "agent")[loop]) == {truth["agent"]}
    agent_traces = trace[(col(events, "agent") == truth["agent"]) & ~loop]
    assert np.unique(agent_traces, return_counts=True)[1].max() == truth["max_calls_in_other_runs"]
    assert truth["calls"] > 10 * truth["max_calls_in_other_runs"]


def test_ownership_leaves_one_team_unowned(demo):
    owned = {o["value"] for o in demo.owners}
    assert demo.truth["unowned_teams"] == ["sales-eng"]
    assert "sales-eng" not in owned and len(owned) == 7
    assert all(o["owner"].endswith("@northwind.example") for o in demo.owners)


def test_attribution_specs_accept_the_demo_setup(demo):
    for rule in demo.rules:
        RuleSpec(**rule)
    for owner in demo.owners:
        OwnerSpec(**owner)
    for alloc in demo.allocations:
        AllocationSpec(**alloc)


def test_commitment_truth_balances(demo):
    for month, parts in demo.truth["commitment"]["months"].items():
        assert Decimal(parts["Used"]) + Decimal(parts["Unused"]) == Decimal(parts["Purchase"]), month
