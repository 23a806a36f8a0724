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
    if spec.method is AllocationMethod.FIXED:
        assert spec.weights is not None
        total = sum(spec.weights.values())
        weights = ibis.memtable(
            {"_target": list(spec.weights), "_weight": [w / total for w in spec.weights.values()]}
        )
        return periods.cross_join(weights).select("_period", "_target", _ratio=weights["_weight"])
    if spec.method is AllocationMethod.EVEN and spec.targets:
        targets = ibis.memtable({"_target": list(spec.targets)})
        n = len(spec.targets)
        return periods.cross_join(targets).mutate(_ratio=ibis.literal(1.0 / n))
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
