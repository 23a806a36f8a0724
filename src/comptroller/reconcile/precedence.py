"""Precedence: the same model-API spend never counts twice in showback.

One day of a provider's traffic can reach the ledger as up to three records:

1. **the bill**: the provider's cost export (``openai_costs``, ``anthropic_costs``) or a FOCUS
   invoice; ``Usage`` lines of the model-API cost layer that were not rolled up from events;
2. **the provider's usage export** priced by us (telemetry lines whose ``x_UsageSource`` is
   ``openai_usage`` or ``anthropic_usage``): every call, but attributed only to projects and keys;
3. **per-call telemetry** priced by us (gateway, OTLP, event files): attributed to teams, agents,
   features, but only for the traffic that was instrumented.

The rule, per (provider, charge day): the most authoritative record present (bill, then usage
export, then per-call telemetry) is the system of record for *how much*; the most detailed record
present (per-call, then usage export, then bill) says *whose*. Each line of the detailed record is
scaled by (authoritative total / detailed total), so the day sums to the bill exactly while teams
keep their telemetry shares; lines of the other records leave showback. Nothing is deleted: the
ledger keeps every record and ``comptroller reconcile`` compares them. When the detailed record
prices to zero (unpriced models only) there are no shares to use and the authoritative lines stand.

Applied once, in ``reports.spend.attributed_lines``, before attribution; so spend, coverage and
unowned spend agree, and the rule changes nothing for days that have a single record.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from comptroller.ingest.usage_rollup import ROLLUP_SOURCE

BILL_SOURCES = ("openai_costs", "anthropic_costs")
PROVIDER_USAGE_SOURCES = ("openai_usage", "anthropic_usage")
BILL, PROVIDER_USAGE, PER_CALL, OTHER = 1, 2, 3, 0
_HELPERS = ("_rank", "_provider", "_day")
UNIT_PRICES = {"ListCost": "ListUnitPrice", "ContractedCost": "ContractedUnitPrice"}


def record_rank(table: ir.Table) -> ir.IntegerValue:
    """1 bill, 2 provider usage export, 3 per-call telemetry, 0 anything else (never adjusted)."""
    usage_source = table["x_UsageSource"]
    # Rolled-up lines written before x_UsageSource existed have only x_Source "telemetry".
    rolled_up = usage_source.notnull() | (table["x_Source"] == ROLLUP_SOURCE)
    is_bill = (table["ChargeCategory"] == "Usage") & (
        table["x_Source"].isin(BILL_SOURCES) | (table["x_CostLayer"] == "model_api")
    )
    return ibis.cases(
        (usage_source.isin(PROVIDER_USAGE_SOURCES), PROVIDER_USAGE),
        (rolled_up, PER_CALL),
        (is_bill.fill_null(False), BILL),
        else_=OTHER,
    )


def showback_lines(table: ir.Table, amounts: list[str]) -> ir.Table:
    """``table`` with each (provider, day)'s spend counted once, as the module docstring says.

    The work is one small aggregate, :func:`overlaps`: a row per (provider, day) that has more
    than one record, with the rank to keep and a scale factor per amount. Every line is looked up
    in it by (provider, day); lines of days with a single record find nothing and pass through
    untouched, so only the lines of overlapping days are ranked, dropped or scaled. Each scaled
    amount is the line's amount times the day's factor, rounded once to the column's type.
    """
    columns = table.columns
    scopes = overlaps(table, amounts)
    keyed = table.mutate(
        _provider=table["ProviderName"].lower(), _day=table["ChargePeriodStart"].truncate("D")
    )
    joined = keyed.left_join(scopes, [keyed["_provider"] == scopes["_p"], keyed["_day"] == scopes["_d"]])
    rank = record_rank(joined)
    matched = joined["_keep"].notnull()
    # A line of an overlapping day stays if it is outside precedence or is the record kept.
    keep = ~matched | (rank == OTHER) | (rank == joined["_keep"])
    detail = matched & (rank == joined["_detail"])
    scaled = {}
    for i, name in enumerate(amounts):
        factor = joined[f"_f{i}"]
        targets = [name, *([UNIT_PRICES[name]] if UNIT_PRICES.get(name) in columns else [])]
        for column in targets:
            # The unit price is scaled with its cost, so cost = unit price x quantity still holds
            # (FOCUS requires it).
            value = joined[column]
            adjusted = (value.cast("float64") * factor).cast(value.type())
            scaled[column] = ibis.ifelse(detail & factor.notnull(), adjusted, value)
    # ``keep`` is never null (a matched line has a rank and a kept rank), so it stays a plain OR
    # that the database stops evaluating at the first true term.
    return joined.filter(keep).mutate(**scaled).select(columns)


def overlaps(table: ir.Table, amounts: list[str]) -> ir.Table:
    """One row per (provider, day) of ``table`` with more than one kind of record: ``_p``,
    ``_d``, ``_detail`` (the most detailed rank present), ``_keep`` (the rank whose lines stay:
    the most detailed, or the most authoritative when the detailed record prices to zero) and
    per amount ``_f{i}``, the factor that scales the detailed lines to the authoritative total
    (null where there is nothing to scale)."""
    candidates = table.filter(_candidate(table))
    lines = candidates.mutate(
        _rank=record_rank(candidates),
        _provider=candidates["ProviderName"].lower(),
        _day=candidates["ChargePeriodStart"].truncate("D"),
    )
    sums = {f"_s{i}": lines[a].sum() for i, a in enumerate(amounts)}
    tiers = lines.group_by(list(_HELPERS)).aggregate(**sums)
    bounds = tiers.group_by(["_provider", "_day"]).aggregate(
        _record=tiers["_rank"].min(), _detail=tiers["_rank"].max()
    )
    bounds = bounds.filter(bounds["_record"] < bounds["_detail"])
    record = _renamed(tiers, "r")
    detail = _renamed(tiers, "d")
    scopes = bounds.join(
        record,
        [
            bounds["_provider"] == record["r_provider"],
            bounds["_day"] == record["r_day"],
            bounds["_record"] == record["r_rank"],
        ],
    ).join(
        detail,
        [
            bounds["_provider"] == detail["d_provider"],
            bounds["_day"] == detail["d_day"],
            bounds["_detail"] == detail["d_rank"],
        ],
    )
    shares = scopes["d0"].fill_null(0) != 0
    factors = {}
    for i in range(len(amounts)):
        authoritative, detailed = scopes[f"r{i}"], scopes[f"d{i}"]
        ratio = authoritative.cast("float64") / detailed.cast("float64")
        factors[f"_f{i}"] = ibis.ifelse(shares & (detailed != 0), ratio, ibis.null("float64"))
    return scopes.select(
        _p=scopes["_provider"],
        _d=scopes["_day"],
        _detail=scopes["_detail"],
        _keep=ibis.ifelse(shares, scopes["_detail"], scopes["_record"]),
        **factors,
    )


def _candidate(table: ir.Table) -> ir.BooleanValue:
    """True exactly where ``record_rank`` is not OTHER, as plain comparisons (cheaper than the CASE)."""
    rolled_up = table["x_UsageSource"].notnull() | (table["x_Source"] == ROLLUP_SOURCE).fill_null(False)
    billed = (table["ChargeCategory"] == "Usage") & (
        table["x_Source"].isin(BILL_SOURCES) | (table["x_CostLayer"] == "model_api")
    )
    return rolled_up | billed.fill_null(False)


def _renamed(tiers: ir.Table, prefix: str) -> ir.Table:
    """A copy of the per-tier sums with distinct column names, so two joins do not collide."""
    names = [c for c in tiers.columns if c.startswith("_s")]
    return tiers.select(
        **{
            f"{prefix}_provider": tiers["_provider"],
            f"{prefix}_day": tiers["_day"],
            f"{prefix}_rank": tiers["_rank"],
        },
        **{f"{prefix}{n.removeprefix('_s')}": tiers[n] for n in names},
    )
