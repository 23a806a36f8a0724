"""Shared-cost allocation: split each shared line across targets, ratios summing to 1.

Each allocated line keeps its origin's identity and carries the FOCUS 1.3 allocation columns
(``AllocatedMethodId``, ``AllocatedMethodDetails`` with its ``AllocatedRatio``), so a reader can
trace every allocated cent back to the charge it came from. Lines in periods with no target stay
unallocated rather than vanish: totals before and after allocation are always equal.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from comptroller.attribution.conditions import compile_condition
from comptroller.attribution.specs import AllocationMethod, AllocationSpec
from comptroller.errors import RuleError

PERIOD = "BillingPeriodStart"
SCALED_QUANTITIES = ("PricingQuantity", "ConsumedQuantity")


def allocate(table: ir.Table, spec: AllocationSpec, amount_columns: list[str]) -> ir.Table:
    """``table`` with the lines matching ``spec`` replaced by their allocated parts.

    ``table`` must already carry the resolved ``spec.dimension`` column.
    """
    is_shared = compile_condition(spec.condition, table).fill_null(False)
    shared = table.filter(is_shared)
    direct = table.filter(~is_shared)
    ratios = _ratios(direct, shared, spec, amount_columns[0])
    joined = shared.left_join(ratios, shared[PERIOD] == ratios["_period"])
    ratio = joined["_ratio"]
    scaled = {
        name: (joined[name].cast("float64") * ratio).cast(joined[name].type()).coalesce(joined[name])
        for name in [*amount_columns, *(q for q in SCALED_QUANTITIES if q in table.columns)]
        if name in table.columns
    }
    details = ibis.literal('{"Elements":[{"AllocatedRatio":') + ratio.cast("string") + ibis.literal("}]}")
    allocated = joined.mutate(
        **scaled,
        **{
            spec.dimension: joined["_target"].coalesce(joined[spec.dimension]),
            "AllocatedMethodId": ratio.isnull().ifelse(joined["AllocatedMethodId"], ibis.literal(spec.name)),
            "AllocatedMethodDetails": ratio.isnull().ifelse(joined["AllocatedMethodDetails"], details),
        },
    ).select(table.columns)
    return direct.union(allocated)


def _ratios(direct: ir.Table, shared: ir.Table, spec: AllocationSpec, cost_column: str) -> ir.Table:
    """One row per (period, target) with the target's share of each shared line."""
    periods = shared.select(_period=shared[PERIOD]).distinct()
    dim = direct[spec.dimension]
    # Named targets are written into the query (unnested literals rather than in-memory tables),
    # so the compiled SQL stands alone and can be kept and re-run (``reports.prepared``).
    if spec.method is AllocationMethod.FIXED:
        assert spec.weights is not None
        total = sum(spec.weights.values())
        targets = periods.mutate(_target=ibis.literal(list(spec.weights), type="array<string>").unnest())
        ratio = ibis.cases(
            *((targets["_target"] == name, ibis.literal(w / total)) for name, w in spec.weights.items()),
            else_=ibis.null("float64"),
        )
        return targets.select("_period", "_target", _ratio=ratio)
    if spec.method is AllocationMethod.EVEN and spec.targets:
        targets = periods.mutate(_target=ibis.literal(list(spec.targets), type="array<string>").unnest())
        return targets.mutate(_ratio=ibis.literal(1.0 / len(spec.targets)))
    candidates = direct.filter(dim.notnull())
    if spec.targets:
        candidates = candidates.filter(candidates[spec.dimension].isin(list(spec.targets)))
    if spec.method is AllocationMethod.EVEN:
        weight = ibis.literal(1.0)
        per_target = candidates.select(
            _period=candidates[PERIOD], _target=candidates[spec.dimension]
        ).distinct()
        per_target = per_target.mutate(_weight=weight)
    else:
        metric = spec.metric or cost_column
        if metric not in direct.columns:
            raise RuleError(f"allocation {spec.name!r}: metric {metric!r} is not a ledger column")
        per_target = candidates.group_by(
            _period=candidates[PERIOD], _target=candidates[spec.dimension]
        ).aggregate(_weight=candidates[metric].cast("float64").sum())
        per_target = per_target.filter(per_target["_weight"] > 0)
    totals = per_target.group_by("_period").aggregate(_total=per_target["_weight"].sum())
    joined = per_target.join(totals, "_period")
    return joined.select("_period", "_target", _ratio=joined["_weight"] / joined["_total"])


def allocate_all(table: ir.Table, specs: tuple[AllocationSpec, ...], amount_columns: list[str]) -> ir.Table:
    for spec in specs:
        table = allocate(table, spec, amount_columns)
    return table
