"""Showback latency: ``spend(by=team, model)`` against the same query hand-written in DuckDB SQL.

Builds a DuckDB ledger with N cost lines for one month straight in SQL (one delivery inserting
``SELECT ... FROM range(N)``): x_Team on ~60% of lines, x_Model on model-API lines, 20 sub-accounts,
11 services, Tags JSON. The OpenAI and Anthropic token lines (about a fifth) are model-API spend
reported twice: part as the provider's bill, part as per-call telemetry, so precedence scales
each (provider, day)'s telemetry to its bill and drops the bill's lines. Eleven virtual-tag rules
(conditions on SubAccountName / ServiceName) attribute the rest. Then, on the same connection,
interleaved after one warm-up each:

* ours      ``spend(ledger, attribution, SpendQuery(by=("team", "model"), start, end))``;
* baseline  the equivalent hand-written SQL: the same precedence (one aggregate of the overlapping
            (provider, day)s with the rank kept and a scale factor, looked up by every line, the
            scaled amount rounded once), the same CASE per dimension (rules in order, non-override
            rules only where the line has no value of its own), the same period filter and GROUP BY.

Both report the median of 7 runs; the goal is ours/baseline < 1.5x and ours < 1 s. The two results
must agree group by group, to the last decimal place, or the benchmark fails.

    .venv/bin/python bench/spend_query.py --rows 10000000
    .venv/bin/python bench/spend_query.py --rows 10000000 --bills-only   # no day has two records
    .venv/bin/python bench/spend_query.py --rows 200000      # quick
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import ibis

import focus_data as fd  # bench/ is sys.path[0] when run as a script
from comptroller.attribution.specs import Attribution, RuleSpec
from comptroller.ingest.usage_rollup import ROLLUP_SOURCE
from comptroller.ledger.store import Ledger, open_ledger
from comptroller.reconcile.precedence import (
    BILL,
    BILL_SOURCES,
    PER_CALL,
    PROVIDER_USAGE,
    PROVIDER_USAGE_SOURCES,
)
from comptroller.reports.dimensions import cost_column, dimension_expression
from comptroller.reports.spend import SpendQuery, prepared_lines, spend

RUNS = 7
GOAL_RATIO = 1.5
GOAL_SECONDS = 1.0
START, END = date(2025, 10, 1), date(2025, 10, 31)

RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        dimension="team", value="infra", condition="SubAccountName = 'Fjord Shared Services'", override=True
    ),
    RuleSpec(dimension="team", value="search", condition="SubAccountName = 'Atlas Nimbus'"),
    RuleSpec(dimension="team", value="search", condition="SubAccountName = 'Atlas Nimbus Staging'"),
    RuleSpec(dimension="team", value="ads", condition="SubAccountName IN ('Beacon Prod', 'Beacon Dev')"),
    RuleSpec(dimension="team", value="support-bots", condition="SubAccountName LIKE 'Azure Copilot%'"),
    RuleSpec(
        dimension="team",
        value="ml-research",
        condition="SubAccountName = 'Drift ML Research' AND ServiceName = 'Amazon SageMaker'",
    ),
    RuleSpec(dimension="team", value="data", condition="ServiceName = 'Amazon S3'"),
    RuleSpec(dimension="team", value="growth", condition="ServiceName IN ('OpenAI API', 'Claude API')"),
    RuleSpec(dimension="model", value="claude-team-seat", condition="ServiceName = 'Claude Team'"),
    RuleSpec(dimension="model", value="sagemaker-endpoint", condition="ServiceName = 'Amazon SageMaker'"),
    RuleSpec(dimension="product", value="atlas", condition="SubAccountName LIKE 'Atlas%'"),
)
ATTRIBUTION = Attribution(rules=RULES)
BY = ("team", "model")
MODEL_API_PROVIDERS = "3, 4"
"""OpenAI and Anthropic (indexes into ``focus_data.PROVIDERS``): their token lines are model-API spend."""


def lines_select(rows: int, bills_only: bool = False) -> tuple[str, list[str]]:
    """A SELECT of ``rows`` cost lines for October 2025, every value a function of the row number,
    and the ledger columns it fills. ``bills_only``: every model-API line is the provider's bill
    (no telemetry, so no day has two records and precedence has nothing to do)."""
    services_by_provider = [
        [i for i, s in enumerate(fd.SERVICES) if s.provider == p for _ in range(s.weight)]
        for p in range(len(fd.PROVIDERS))
    ]
    svc_ids, svc_offsets, svc_counts = fd.flat_lists(services_by_provider, fd.int_list)
    models, model_offsets, _ = fd.flat_lists(
        [s.models or ("",) * len(s.prices) for s in fd.SERVICES], fd.sql_list
    )
    prices, _, _ = fd.flat_lists([s.prices for s in fd.SERVICES], fd.num_list)
    n_variants = fd.int_list([len(s.prices) for s in fd.SERVICES])
    acct_provider = fd.int_list([a[1] for a in fd.SUB_ACCOUNTS])
    account_team = fd.sql_list([a[2] for a in fd.SUB_ACCOUNTS])

    def per_service(attr: str) -> str:
        return fd.sql_list([str(getattr(s, attr)) for s in fd.SERVICES]) + "[svc + 1]"

    def per_provider(values: list[str]) -> str:
        return fd.sql_list(values) + "[prov + 1]"

    bill_source = per_provider(["", "", "", "openai_costs", "anthropic_costs"])

    draws = ", ".join(f"(hash(i, {k}) >> 1)::BIGINT AS h{k}" for k in range(1, 9))
    picks = f"""
      SELECT *, {svc_ids}[{svc_offsets}[prov + 1] + 1 + (h2 % {svc_counts}[prov + 1])::INTEGER] AS svc
      FROM (SELECT *, (h1 % {len(fd.SUB_ACCOUNTS)})::INTEGER AS acct,
                   {acct_provider}[1 + (h1 % {len(fd.SUB_ACCOUNTS)})::INTEGER] AS prov
            FROM (SELECT i, {draws} FROM range({rows}) t(i)))"""
    lines = f"""
      SELECT *,
        (h3 % {n_variants}[svc + 1])::INTEGER AS variant,
        {per_service("consumed_unit")} = '{fd.TOKENS}' AS is_tokens,
        CASE WHEN h4 % 100 < 60 THEN
          CASE WHEN h5 % 10 < 8 THEN {account_team}[acct + 1]
               ELSE {fd.sql_list(fd.TEAMS)}[1 + (h5 % {len(fd.TEAMS)})::INTEGER] END
        END AS team,
        {fd.sql_list(fd.PRODUCTS)}[1 + (h6 % {len(fd.PRODUCTS)})::INTEGER] AS product,
        (h7 % {fd.HOURS_IN_MONTH})::INTEGER AS hour,
        (h6 % 100000) / 1000.0 AS amount,
        prov IN ({MODEL_API_PROVIDERS}) AND {per_service("consumed_unit")} = '{fd.TOKENS}' AS is_model_api,
        {"true" if bills_only else "h8 % 2 = 0"} AS is_bill
      FROM ({picks})"""
    model = f"CASE WHEN is_tokens THEN {models}[{model_offsets}[svc + 1] + variant + 1] END"
    price = f"{prices}[{model_offsets}[svc + 1] + variant + 1]"
    cost = "CAST({} AS DECIMAL(38,16))"
    columns = {
        "BilledCost": cost.format("amount"),
        "BillingAccountId": per_provider([b[0] for b in fd.BILLING_ACCOUNTS]),
        "BillingAccountName": per_provider([b[1] for b in fd.BILLING_ACCOUNTS]),
        "BillingCurrency": "'USD'",
        "BillingPeriodEnd": "TIMESTAMP '2025-11-01'",
        "BillingPeriodStart": "TIMESTAMP '2025-10-01'",
        "ChargeCategory": "'Usage'",
        "ChargeDescription": per_service("name") + " || ' usage'",
        "ChargeFrequency": "'Usage-Based'",
        "ChargePeriodEnd": "TIMESTAMP '2025-10-01' + to_hours(hour + 1)",
        "ChargePeriodStart": "TIMESTAMP '2025-10-01' + to_hours(hour)",
        "ContractedCost": cost.format("amount * 0.95"),
        "EffectiveCost": cost.format("amount * 0.9"),
        "InvoiceIssuerName": per_provider([p[0] for p in fd.PROVIDERS]),
        "ListCost": cost.format("amount"),
        "ListUnitPrice": cost.format(price),
        "PricingQuantity": cost.format(f"amount / {price}"),
        "PricingUnit": per_service("pricing_unit"),
        "ProviderName": per_provider([p[0] for p in fd.PROVIDERS]),
        "PublisherName": per_provider([p[0] for p in fd.PROVIDERS]),
        "ServiceCategory": per_service("category"),
        "ServiceName": per_service("name"),
        "SkuPriceDetails": f"""CASE WHEN is_tokens THEN '{{"ModelId":"' || {model} || '"}}' END""",
        "SubAccountId": "'sub-' || printf('%04d', acct)",
        "SubAccountName": fd.sql_list([a[0] for a in fd.SUB_ACCOUNTS]) + "[acct + 1]",
        "Tags": """CASE WHEN team IS NOT NULL THEN '{"team":"' || team || '","product":"' || product || '"}' END""",
        # Model-API token lines: half the provider's bill, half per-call telemetry, so precedence
        # scales the telemetry of every (provider, day) to its bill and drops the bill's lines.
        "x_Source": f"CASE WHEN NOT is_model_api THEN 'focus' WHEN is_bill THEN {bill_source} "
        "ELSE 'telemetry' END",
        "x_UsageSource": "CASE WHEN is_model_api AND NOT is_bill THEN 'gateway' END",
        "x_CostLayer": "CASE WHEN is_model_api THEN 'model_api' END",
        "x_DeliveryId": "'bench-spend-query'",
        "x_FocusVersion": "'1.2'",
        "x_Team": "team",
        "x_Product": "CASE WHEN team IS NOT NULL THEN product END",
        "x_Model": model,
        "x_Vendor": per_provider([p[0] for p in fd.PROVIDERS]),
    }
    select = ", ".join(f'{expr} AS "{c}"' for c, expr in columns.items())
    return f"SELECT {select} FROM ({lines})", list(columns)


def insert_lines(ledger: Ledger, select: str, columns: list[str]) -> None:
    """Write the lines as one delivery, the way every ingest writes them."""
    with ledger.delivery("bench-spend-query") as writer:
        writer.insert_cost_lines(select, columns)


def baseline_sql(precedence: bool = True) -> str:
    """The report written by hand: no Ibis; precedence as one small aggregate of the (provider,
    day)s with more than one record (rank kept, scale factor) that every line looks up; one CASE
    per dimension in rule order. Without ``precedence`` (a ledger where no day has two records,
    as ``spend`` finds out for itself) the plain period filter and group-by."""

    def case(dimension: str, own: str) -> str:
        branches = []
        for rule in RULES:
            if rule.dimension != dimension:
                continue
            condition = f"({rule.condition})" if rule.override else f'({rule.condition}) AND "{own}" IS NULL'
            branches.append(f"WHEN {condition} THEN '{rule.value}'")
        return f'CASE {" ".join(branches)} ELSE "{own}" END'

    if not precedence:
        return f"""
      SELECT "BillingCurrency" AS currency, {case("team", "x_Team")} AS team,
             {case("model", "x_Model")} AS model, sum("EffectiveCost") AS cost
      FROM cost_lines
      WHERE "ChargePeriodStart" >= TIMESTAMP '{START}'
        AND "ChargePeriodStart" < TIMESTAMP '{END}' + INTERVAL 1 DAY
      GROUP BY ALL
      ORDER BY cost DESC"""
    usage = sql_in(PROVIDER_USAGE_SOURCES)
    rank = f"""CASE WHEN "x_UsageSource" IN ({usage}) THEN {PROVIDER_USAGE}
                    WHEN "x_UsageSource" IS NOT NULL OR "x_Source" = '{ROLLUP_SOURCE}' THEN {PER_CALL}
                    ELSE {BILL} END"""
    candidate = f"""("x_UsageSource" IS NOT NULL OR coalesce("x_Source" = '{ROLLUP_SOURCE}', false)
        OR coalesce("ChargeCategory" = 'Usage' AND ("x_Source" IN ({sql_in(BILL_SOURCES)})
                    OR "x_CostLayer" = 'model_api'), false))"""
    return f"""
      WITH period AS (
        SELECT *, lower("ProviderName") AS _provider, date_trunc('day', "ChargePeriodStart") AS _day
        FROM cost_lines
        WHERE "ChargePeriodStart" >= TIMESTAMP '{START}'
          AND "ChargePeriodStart" < TIMESTAMP '{END}' + INTERVAL 1 DAY),
      tiers AS (
        SELECT _provider, _day, {rank} AS _rank, sum("EffectiveCost") AS total
        FROM period WHERE {candidate} GROUP BY ALL),
      overlapping AS (
        SELECT _provider, _day, max(_rank) AS _detail,
               CASE WHEN coalesce(arg_max(total, _rank), 0) <> 0 THEN max(_rank) ELSE min(_rank) END AS _keep,
               CASE WHEN arg_max(total, _rank) <> 0
                    THEN CAST(arg_min(total, _rank) AS DOUBLE) / CAST(arg_max(total, _rank) AS DOUBLE)
               END AS factor
        FROM tiers GROUP BY ALL HAVING min(_rank) < max(_rank)),
      showback AS (
        SELECT p.*, o._detail, o._keep, o.factor,
               CASE WHEN o._keep IS NULL OR NOT {candidate} THEN 0 ELSE {rank} END AS _rank
        FROM period p LEFT JOIN overlapping o USING (_provider, _day))
      SELECT "BillingCurrency" AS currency, {case("team", "x_Team")} AS team,
             {case("model", "x_Model")} AS model,
             sum(CASE WHEN _rank = _detail AND factor IS NOT NULL
                      THEN {scaled_sql('"EffectiveCost"', "factor")} ELSE "EffectiveCost" END) AS cost
      FROM showback
      WHERE _rank = 0 OR _rank = _keep
      GROUP BY ALL
      ORDER BY cost DESC"""


def sql_in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def scaled_sql(amount: str, factor: str) -> str:
    """A telemetry line's amount scaled to the bill: the same arithmetic as precedence's."""
    return f"CAST(CAST({amount} AS DOUBLE) * {factor} AS DECIMAL(38,16))"


def run_ours(ledger: Ledger) -> dict[tuple[Any, ...], Decimal]:
    report = spend(ledger, ATTRIBUTION, SpendQuery(by=BY, start=START, end=END))
    return {(r["team"], r["model"]): r["cost"] for r in report.rows}


def run_baseline(ledger: Ledger, sql: str) -> dict[tuple[Any, ...], Decimal]:
    return {(team, model): cost for _, team, model, cost in ledger.execute(sql)}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _to_pylist(expr: ibis.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def profile(ledger: Ledger) -> dict[str, float]:
    """Where ours spends its time: the steps of ``spend`` done one by one (same expressions)."""
    query = SpendQuery(by=BY, start=START, end=END)
    amount = cost_column(query.cost)
    samples: dict[str, list[float]] = {}
    for _ in range(RUNS):
        t_prepare, (prepared, table) = timed(
            lambda: prepared_lines(ledger, ATTRIBUTION, query, [amount], list(BY))
        )
        keys = {name: dimension_expression(table, name) for name in BY}
        grouped = table.group_by(currency=table["BillingCurrency"], **keys).aggregate(
            cost=table[amount].sum()
        )
        expr = grouped.order_by(ibis.desc("cost"))
        t_fetch, _ = timed(partial(prepared.fetch, expr))
        for name, value in (
            ("prepared_lines (compiled template, period substituted)", t_prepare),
            ("fetch (compile the question, execute, to Python)", t_fetch),
        ):
            samples.setdefault(name, []).append(value)
    return {k: statistics.median(v) for k, v in samples.items()}


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), {mem:.0f} GiB RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, Ibis {ibis.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="cost lines (default 10,000,000)")
    parser.add_argument("--profile", action="store_true", help="also time the steps inside spend()")
    parser.add_argument(
        "--bills-only", action="store_true", help="no telemetry lines: precedence has nothing to do"
    )
    parser.add_argument("--keep-ledger", action="store_true", help="keep bench/.data/spend_<rows>.duckdb")
    args = parser.parse_args()

    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    fd.DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = fd.DATA_DIR / f"spend_{args.rows}.duckdb"
    for candidate in (path, Path(str(path) + ".wal")):
        candidate.unlink(missing_ok=True)
    try:
        ledger = open_ledger(f"duckdb:///{path}")
        ledger.execute("SET enable_progress_bar = false")
        seconds, _ = timed(lambda: insert_lines(ledger, *lines_select(args.rows, args.bills_only)))
        (count, teamless, groups), *_ = ledger.execute(
            'SELECT count(*), count(*) FILTER (WHERE "x_Team" IS NULL), '
            'count(DISTINCT ("x_Team", "x_Model")) FROM cost_lines'
        )
        print(
            f"ledger: {count:,} cost lines built in {seconds:.1f} s "
            f"({teamless / count:.0%} without x_Team, {groups} (x_Team, x_Model) pairs), {len(RULES)} rules"
        )
        sql = baseline_sql(precedence=not args.bills_only)
        ours_result = run_ours(ledger)  # warm-up, and the results to compare
        base_result = run_baseline(ledger, sql)
        assert ours_result == base_result, "spend() and the hand-written SQL disagree"
        print(f"results agree: {len(ours_result)} (team, model) groups, total {sum(ours_result.values())}")

        ours_times, base_times = [], []
        for _ in range(RUNS):
            t, result = timed(lambda: run_ours(ledger))
            assert result == ours_result
            ours_times.append(t)
            t, result = timed(lambda: run_baseline(ledger, sql))
            assert result == base_result
            base_times.append(t)
        phases = profile(ledger) if args.profile else {}
        ledger.close()
    finally:
        if not args.keep_ledger:
            for candidate in (path, Path(str(path) + ".wal")):
                candidate.unlink(missing_ok=True)

    ours, base = statistics.median(ours_times), statistics.median(base_times)
    ratio = ours / base
    print()
    print("| Query | Median of 7 (ms) | Min (ms) | Max (ms) |")
    print("|---|---:|---:|---:|")
    print(
        f"| hand-written DuckDB SQL (baseline) | {base * 1000:.0f} | {min(base_times) * 1000:.0f} | "
        f"{max(base_times) * 1000:.0f} |"
    )
    print(
        f"| ours: spend(by=team, model) | {ours * 1000:.0f} | {min(ours_times) * 1000:.0f} | "
        f"{max(ours_times) * 1000:.0f} |"
    )
    print()
    ok_ratio, ok_abs = ratio < GOAL_RATIO, ours < GOAL_SECONDS
    print(
        f"- ours/baseline = {ratio:.2f}x ({'meets' if ok_ratio else 'MISSES'} the goal of < {GOAL_RATIO}x); "
        f"ours = {ours:.3f} s ({'meets' if ok_abs else 'MISSES'} the goal of < {GOAL_SECONDS:.0f} s)"
    )
    if phases:
        print(
            "- inside spend(), median of 7: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in phases.items())
        )
    print(f"- load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
