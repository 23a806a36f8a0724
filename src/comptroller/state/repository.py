"""Reading and changing attribution and pricing configuration in the state database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select

from comptroller.attribution.specs import AllocationSpec, Attribution, OwnerSpec, RuleSpec
from comptroller.errors import NotFoundError, RuleError
from comptroller.ingest.focus_ingest import DeliveryResult
from comptroller.pricing import ContractOverride
from comptroller.state.db import StateDB
from comptroller.state.models import AllocationRule, AttributionRule, Delivery, OwnerAssignment, PriceOverride


def load_attribution(db: StateDB) -> Attribution:
    with db.session() as s:
        rules = s.scalars(
            select(AttributionRule).where(AttributionRule.enabled).order_by(AttributionRule.position)
        ).all()
        owners = s.scalars(select(OwnerAssignment).order_by(OwnerAssignment.id)).all()
        allocations = s.scalars(
            select(AllocationRule).where(AllocationRule.enabled).order_by(AllocationRule.position)
        ).all()
        return Attribution(
            rules=tuple(rule_spec(r) for r in rules),
            owners=tuple(OwnerSpec(dimension=o.dimension, value=o.value, owner=o.owner) for o in owners),
            allocations=tuple(allocation_spec(a) for a in allocations),
        )


def rule_spec(row: AttributionRule) -> RuleSpec:
    return RuleSpec(
        id=row.id,
        dimension=row.dimension,
        value=row.value,
        condition=row.condition,
        override=row.override,
        description=row.description,
    )


def allocation_spec(row: AllocationRule) -> AllocationSpec:
    return AllocationSpec(
        name=row.name,
        condition=row.condition,
        dimension=row.dimension,
        method=row.method,
        targets=tuple(row.targets) if row.targets else None,
        weights=row.weights,
        metric=row.metric,
    )


def list_rules(db: StateDB) -> list[RuleSpec]:
    with db.session() as s:
        return [rule_spec(r) for r in s.scalars(select(AttributionRule).order_by(AttributionRule.position))]


def add_rule(db: StateDB, spec: RuleSpec, position: int | None = None) -> RuleSpec:
    """Insert at ``position`` (1-based; default last), shifting later rules down."""
    with db.session() as s, s.begin():
        count = s.scalar(select(func.count()).select_from(AttributionRule)) or 0
        pos = count + 1 if position is None else max(1, min(position, count + 1))
        for later in s.scalars(select(AttributionRule).where(AttributionRule.position >= pos)):
            later.position += 1
        row = AttributionRule(
            position=pos,
            dimension=spec.dimension,
            value=spec.value,
            condition=spec.condition,
            override=spec.override,
            description=spec.description,
        )
        s.add(row)
        s.flush()
        return rule_spec(row)


def update_rule(db: StateDB, rule_id: int, spec: RuleSpec) -> RuleSpec:
    with db.session() as s, s.begin():
        row = s.get(AttributionRule, rule_id)
        if row is None:
            raise NotFoundError(f"no rule with id {rule_id}")
        row.dimension, row.value, row.condition = spec.dimension, spec.value, spec.condition
        row.override, row.description = spec.override, spec.description
        s.flush()
        return rule_spec(row)


def remove_rule(db: StateDB, rule_id: int) -> None:
    with db.session() as s, s.begin():
        row = s.get(AttributionRule, rule_id)
        if row is None:
            raise NotFoundError(f"no rule with id {rule_id}")
        s.delete(row)
        s.flush()
        for i, rest in enumerate(s.scalars(select(AttributionRule).order_by(AttributionRule.position)), 1):
            rest.position = i


def set_owner(db: StateDB, spec: OwnerSpec) -> None:
    with db.session() as s, s.begin():
        existing = s.scalar(
            select(OwnerAssignment).where(
                OwnerAssignment.dimension == spec.dimension, OwnerAssignment.value == spec.value
            )
        )
        if existing:
            existing.owner = spec.owner
        else:
            s.add(OwnerAssignment(dimension=spec.dimension, value=spec.value, owner=spec.owner))


def add_allocation(db: StateDB, spec: AllocationSpec) -> None:
    with db.session() as s, s.begin():
        if s.scalar(select(AllocationRule).where(AllocationRule.name == spec.name)):
            raise RuleError(f"an allocation named {spec.name!r} exists already")
        count = s.scalar(select(func.count()).select_from(AllocationRule)) or 0
        s.add(
            AllocationRule(
                name=spec.name,
                position=count + 1,
                condition=spec.condition,
                dimension=spec.dimension,
                method=spec.method.value,
                targets=list(spec.targets) if spec.targets else None,
                weights=spec.weights,
                metric=spec.metric,
            )
        )


def remove_allocation(db: StateDB, name: str) -> None:
    with db.session() as s, s.begin():
        if not s.execute(delete(AllocationRule).where(AllocationRule.name == name)).rowcount:
            raise NotFoundError(f"no allocation named {name!r}")


def load_overrides(db: StateDB) -> list[ContractOverride]:
    with db.session() as s:
        return [
            ContractOverride(
                id=o.id,
                provider=o.provider,
                model=o.model,
                effective_from=o.effective_from,
                effective_to=o.effective_to,
                discount_pct=o.discount_pct,
                unit_prices=o.unit_prices,
            )
            for o in s.scalars(select(PriceOverride).order_by(PriceOverride.effective_from))
        ]


def save_override(db: StateDB, override: ContractOverride, note: str | None = None) -> None:
    with db.session() as s, s.begin():
        s.merge(
            PriceOverride(
                id=override.id,
                provider=override.provider,
                model=override.model,
                effective_from=override.effective_from,
                effective_to=override.effective_to,
                discount_pct=override.discount_pct,
                unit_prices={k: str(v) for k, v in override.unit_prices.items()}
                if override.unit_prices
                else None,
                note=note,
            )
        )


def record_delivery(db: StateDB, result: DeliveryResult) -> None:
    with db.session() as s, s.begin():
        s.add(
            Delivery(
                id=result.delivery_id,
                source=result.source,
                files=[
                    {"path": f.path, "rows": f.rows, "focus_version": f.focus_version, "reader": f.reader}
                    for f in result.files
                ],
                rows=result.rows,
                replaced_rows=result.replaced_rows,
                status="committed",
                seconds=result.seconds,
            )
        )


def record_rejection(db: StateDB, delivery_id: str, source: str, paths: Sequence[str], message: str) -> None:
    with db.session() as s, s.begin():
        s.add(
            Delivery(
                id=delivery_id,
                source=source,
                files=[{"path": p} for p in paths],
                status="rejected",
                message=message,
            )
        )


def list_deliveries(db: StateDB, limit: int = 50) -> list[Delivery]:
    with db.session() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.started_at.desc()).limit(limit)))
