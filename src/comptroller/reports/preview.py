"""What a draft rule would do before it is saved: spend by the rule's dimension with the current
rules and with the draft added, side by side.

Rules are resolved at query time, so "after" is the same spend query over an attribution that
holds the draft; nothing is written.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from comptroller.attribution.conditions import compile_condition
from comptroller.attribution.specs import Attribution, RuleSpec
from comptroller.ledger.store import Ledger
from comptroller.reports.spend import SpendQuery, attributed_lines
from comptroller.reports.trend import restrict_teams


@dataclass(frozen=True, slots=True)
class PreviewRow:
    value: str | None
    before: Decimal
    after: Decimal

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class RulePreview:
    dimension: str
    total: Decimal
    rows: list[PreviewRow]
    """Every value whose total moves, then the unchanged ones; largest ``after`` first."""

    @property
    def moved(self) -> Decimal:
        """Money that changes hands: the sum of the increases (equal to the sum of decreases)."""
        return sum((r.delta for r in self.rows if r.delta > 0), Decimal(0))

    def as_json(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "total": float(self.total),
            "moved": float(self.moved),
            "rows": [
                {
                    "value": r.value,
                    "before": float(r.before),
                    "after": float(r.after),
                    "delta": float(r.delta),
                }
                for r in self.rows
            ],
        }


def with_rule(attribution: Attribution, rule: RuleSpec, position: int | None = None) -> Attribution:
    """``attribution`` with ``rule`` inserted where saving it would put it (default: last)."""
    rules = list(attribution.rules)
    rules.insert(len(rules) if position is None else max(0, position), rule)
    return attribution.model_copy(update={"rules": tuple(rules)})


def _totals(
    ledger: Ledger, attribution: Attribution, dimension: str, query: SpendQuery, teams: Collection[str] | None
) -> dict[str | None, Decimal]:
    needed = [dimension, "team"] if teams is not None else [dimension]
    table = restrict_teams(attributed_lines(ledger, attribution, needed, query, ["EffectiveCost"]), teams)
    grouped = table.group_by(value=table[dimension]).aggregate(cost=table["EffectiveCost"].sum())
    return {r["value"]: r["cost"] or Decimal(0) for r in grouped.to_pyarrow().to_pylist()}


def preview_rule(
    ledger: Ledger,
    attribution: Attribution,
    rule: RuleSpec,
    *,
    position: int | None = None,
    start: date | None = None,
    end: date | None = None,
    teams: Collection[str] | None = None,
) -> RulePreview:
    """Effective spend by ``rule.dimension`` before and after adding ``rule``, allocations applied."""
    compile_condition(rule.condition, ledger.cost_lines())
    query = SpendQuery(start=start, end=end)
    before = _totals(ledger, attribution, rule.dimension, query, teams)
    after = _totals(ledger, with_rule(attribution, rule, position), rule.dimension, query, teams)
    rows = [PreviewRow(v, before.get(v, Decimal(0)), after.get(v, Decimal(0))) for v in before.keys() | after]
    rows.sort(key=lambda r: (r.delta == 0, -r.after, r.value or ""))
    return RulePreview(dimension=rule.dimension, total=sum(after.values(), Decimal(0)), rows=rows)
