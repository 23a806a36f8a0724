"""Loading the demo enterprise through the same paths real data takes."""

from __future__ import annotations

from datetime import date

from comptroller.attribution.specs import AllocationSpec, OwnerSpec, RuleSpec
from comptroller.context import Context
from comptroller.demo.governance import seed_governance
from comptroller.ingest.expenses import ingest_expenses
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.state import repository


def load_demo(ctx: Context, *, end: date, months: int = 3, seed: int = 7, scale: float = 1.0) -> str:
    """Generate, ingest and configure, then give the control plane its state (use cases,
    budgets, keys, agents, approvals); running it twice leaves the same ledger, rules and state."""
    from comptroller.demo import generate

    dataset = generate(ctx.settings.home / "demo", end=end, months=months, seed=seed, scale=scale)
    focus = ingest_focus(ctx.ledger, list(dataset.focus_files))
    repository.record_delivery(ctx.state, focus)
    cards = ingest_expenses(ctx.ledger, list(dataset.expense_files))
    if cards.delivery is not None:
        repository.record_delivery(ctx.state, cards.delivery)
    usage = ingest_usage_events(ctx.ledger, dataset.usage_events, ctx.pricer(), origin="demo usage events")
    if dataset.gateway_blocks is not None:
        ingest_usage_events(ctx.ledger, dataset.gateway_blocks, ctx.pricer(), origin="demo gateway blocks")
    existing = {(r.dimension, r.value, r.condition) for r in repository.list_rules(ctx.state)}
    for raw in dataset.rules:
        rule = RuleSpec(**raw)
        if (rule.dimension, rule.value, rule.condition) not in existing:
            repository.add_rule(ctx.state, rule)
    for raw in dataset.owners:
        repository.set_owner(ctx.state, OwnerSpec(**raw))
    present = {a.name for a in ctx.attribution().allocations}
    for raw in dataset.allocations:
        spec = AllocationSpec(**raw)
        if spec.name not in present:
            repository.add_allocation(ctx.state, spec)
    governance = seed_governance(ctx, end=end)
    return (
        f"demo loaded: {focus.rows:,} FOCUS cost lines from {len(dataset.focus_files)} files, "
        f"{usage.new_events:,} model calls ({usage.unpriced_events:,} unpriced and flagged), "
        f"{len(dataset.rules)} rules, {len(dataset.owners)} owners, {len(dataset.allocations)} allocations\n"
        f"{governance.summary()}"
    )
