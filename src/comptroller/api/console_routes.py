"""Read endpoints the console needs beyond plain spend: the overview, trends, the cost lines under
a number, and a preview of what a draft rule would re-attribute. Each is one aggregate query (or
one page of lines), so the browser never receives the raw ledger."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable, Iterator
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from comptroller.api.auth import Principal, app_state_db, require
from comptroller.attribution.specs import Attribution, RuleSpec
from comptroller.budgets import store as budget_store
from comptroller.budgets.model import BudgetPeriod, BudgetScope
from comptroller.budgets.status import budget_statuses
from comptroller.config import Settings
from comptroller.errors import QueryError
from comptroller.governance import registry
from comptroller.governance.rbac import GLOBAL_READ_ROLES, READ_ROLES, Role
from comptroller.governance.scoping import team_filter_sets
from comptroller.governance.use_case_spend import month_to_date_actuals
from comptroller.inventory.discover import discover
from comptroller.inventory.registered import registered_uses
from comptroller.ledger.store import Ledger, open_ledger
from comptroller.pairs import split_pair
from comptroller.reports import cube
from comptroller.reports.cache import ReportCache, ledger_version
from comptroller.reports.cost_lines import cost_lines
from comptroller.reports.dimensions import COST_COLUMNS, cost_column
from comptroller.reports.overview import overview
from comptroller.reports.preview import preview_rule
from comptroller.reports.spend import SpendQuery, prepared_lines
from comptroller.reports.trend import spend_trend
from comptroller.state.db import StateDB
from comptroller.state.repository import load_attribution

T = TypeVar("T")

router = APIRouter(prefix="/api/v1", tags=["console"])
reports = ReportCache()
"""Overview and trends are asked on every page load; they are recomputed only when the ledger or
the attribution has changed since."""


class ReportSource:
    """What a report request reads. The ledger opens only when a query must run, so an answer
    served from the cache costs no ledger connection; state is the app's pooled database."""

    def __init__(self, settings: Settings, state: StateDB) -> None:
        self.settings = settings
        self.state = state

    @cached_property
    def ledger(self) -> Ledger:
        return open_ledger(self.settings.ledger_url)

    @cached_property
    def attribution(self) -> Attribution:
        return load_attribution(self.state)

    def cached(self, question: Hashable, compute: Callable[[], T]) -> T:
        url = self.settings.ledger_url
        version = f"{url}|{ledger_version(url, lambda: self.ledger)}"
        return reports.get_or_compute(version, self.attribution, question, compute)

    def close(self) -> None:
        if "ledger" in self.__dict__:
            self.ledger.close()


def report_source(request: Request) -> Iterator[ReportSource]:
    source = ReportSource(request.app.state.settings, app_state_db(request))
    try:
        yield source
    finally:
        source.close()


Source = Annotated[ReportSource, Depends(report_source)]
Reader = Annotated[Principal, require(*READ_ROLES)]
GLOBAL_READERS = [require(*GLOBAL_READ_ROLES)]
Finops = Annotated[Principal, require(Role.FINOPS)]
FromDay = Annotated[date | None, Query(alias="from")]
Filters = Annotated[
    list[str] | None, Query(alias="filter", description="DIM=VALUE; an empty VALUE means unset")
]


def parse_filters(items: list[str] | None) -> dict[str, str]:
    filters = {}
    for item in items or []:
        try:
            key, value = split_pair(item, "DIM=VALUE")
        except ValueError as exc:
            raise QueryError(f"filter {exc}") from None
        filters[key] = value
    return filters


def visible_teams(principal: Principal, filters: dict[str, str]) -> frozenset[str] | None:
    """The teams ``principal`` may see (None: all); a filter naming another team is 403."""
    team_filter_sets(principal, filters)
    return principal.team_scope


@router.get("/overview")
def get_overview(source: Source, principal: Reader, today: date | None = None) -> dict[str, Any]:
    """This month against last, by cost layer, with the daily trend, top values and coverage."""
    day = today or datetime.now(UTC).date()
    teams = principal.team_scope
    answer = source.cached(
        ("overview", day, teams),
        lambda: overview(source.ledger, source.attribution, day, teams=teams).as_json(),
    )
    return {**answer, "budget": None if teams is not None else portfolio_budget(source.state)}


def portfolio_budget(state: StateDB) -> dict[str, Any] | None:
    """The enabled monthly portfolio budget, read from state: the overview compares this month's
    spend with its amount without the per-budget spend queries of ``/budgets``."""
    with state.session() as session:
        budgets = budget_store.list_budgets(session)
    for budget in budgets:
        if budget.enabled and budget.scope is BudgetScope.PORTFOLIO and budget.period is BudgetPeriod.MONTHLY:
            return {"id": budget.id, "name": budget.name, "amount": float(budget.amount)}
    return None


@router.get("/spend/trend")
def get_trend(
    source: Source,
    principal: Reader,
    by: str = "",
    grain: str = "day",
    from_: FromDay = None,
    to: date | None = None,
    cost: str = "effective",
    filter_: Filters = None,
) -> dict[str, Any]:
    """Spend per day, week or month, split by up to two comma-separated dimensions."""
    query = SpendQuery(
        by=tuple(d for d in by.split(",") if d),
        start=from_,
        end=to,
        cost=cost,
        filters=parse_filters(filter_),
    )
    teams = visible_teams(principal, query.filters)
    return source.cached(
        ("trend", query.by, grain, from_, to, cost, tuple(sorted(query.filters.items())), teams),
        lambda: spend_trend(source.ledger, source.attribution, query, grain, teams=teams).as_json(),
    )


@router.get("/cost-lines")
def get_cost_lines(
    source: Source,
    principal: Reader,
    from_: FromDay = None,
    to: date | None = None,
    cost: str = "effective",
    filter_: Filters = None,
    limit: int = 50,
    offset: int = 0,
    allocate: bool = True,
) -> dict[str, Any]:
    """One page of the attributed cost lines behind a figure, largest first, with their count and
    sum; ``allocate=false`` shows shared lines whole, as budgets count them."""
    query = SpendQuery(start=from_, end=to, cost=cost, filters=parse_filters(filter_), allocate=allocate)
    teams = visible_teams(principal, query.filters)
    return source.cached(
        ("lines", from_, to, cost, tuple(sorted(query.filters.items())), limit, offset, allocate, teams),
        lambda: cost_lines(
            source.ledger, source.attribution, query, limit=limit, offset=offset, teams=teams
        ).as_json(),
    )


@router.get("/allocations", dependencies=[require(*READ_ROLES)])
def get_allocations(source: Source) -> list[dict[str, Any]]:
    """Shared-cost allocations in the order they apply (configured with ``comptroller allocations``)."""
    return [a.model_dump(mode="json") for a in source.attribution.allocations]


class RulePreviewRequest(BaseModel):
    rule: RuleSpec
    position: int | None = None
    start: date | None = None
    end: date | None = None


@router.post("/rules/preview")
def post_rule_preview(source: Source, _: Finops, body: RulePreviewRequest) -> dict[str, Any]:
    """Effective spend by the rule's dimension before and after adding it; nothing is saved."""
    return preview_rule(
        source.ledger, source.attribution, body.rule, position=body.position, start=body.start, end=body.end
    ).as_json()


@router.get("/console/budgets", dependencies=GLOBAL_READERS)
def get_console_budgets(source: Source) -> list[dict[str, Any]]:
    """What ``GET /budgets`` answers (each budget with its period's spend), reused until the
    ledger, the attribution, the budgets or the day change."""
    with source.state.session() as session:
        budgets = budget_store.list_budgets(session)
    day = datetime.now(UTC).date()
    question = ("budgets", day, tuple(b.model_dump_json() for b in budgets))
    return source.cached(
        question,
        lambda: [
            s.as_json() for s in budget_statuses(source.ledger, budgets, attribution=source.attribution)
        ],
    )


@router.get("/console/inventory", dependencies=GLOBAL_READERS)
def get_console_inventory(source: Source) -> list[dict[str, Any]]:
    """What ``GET /inventory`` answers, reused until the ledger, the attribution or the registry
    of use cases and agents change."""
    with source.state.session() as session:
        uses = registered_uses(session)
    return source.cached(
        ("inventory", repr(uses)),
        lambda: [i.as_json() for i in discover(source.ledger, source.attribution, uses)],
    )


@router.get("/console/use-case-actuals")
def get_console_use_case_actuals(source: Source, principal: Reader) -> list[dict[str, Any]]:
    """What ``GET /use-cases/actuals`` answers, reused until the ledger, the attribution, the
    use cases' links or the day change."""
    with source.state.session() as session:
        rows = registry.list_use_cases(session, principal)
    today = datetime.now(UTC).date()
    links = tuple((r.id, json.dumps((r.links or {}).get("dimensions") or {}, sort_keys=True)) for r in rows)
    actuals = source.cached(
        ("use_case_actuals", links, today, principal.team_scope),
        lambda: month_to_date_actuals(source.ledger, source.attribution, rows, principal, today),
    )
    return [
        {"id": use_case_id, "actual_month_to_date": actual, "through": today.isoformat()}
        for use_case_id, actual in actuals.items()
    ]


class WarmUp:
    """When the start-up warm-up began and ended (monotonic seconds), so an operator or a
    benchmark can tell a cold server from a warm one."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.finished: float | None = None

    def as_json(self) -> dict[str, Any]:
        if self.started is None or self.finished is None:
            return {"started": self.started is not None, "done": False, "seconds": None}
        return {"started": True, "done": True, "seconds": round(self.finished - self.started, 3)}


warm_up = WarmUp()


@router.get("/console/warm-up", dependencies=[require(*READ_ROLES)])
def get_warm_up() -> dict[str, Any]:
    """Whether the reports every first page load asks for are ready, and how long they took."""
    return warm_up.as_json()


def warm_reports(settings: Settings) -> None:
    """Answer the questions every first page load asks (overview, the explorer's default view,
    budgets, inventory, the first page of lines) into the report cache, then compile the
    attributed lines for every cost kind with and without allocation and wait for the explorer's
    daily totals (``reports.cube``), so neither the first person to open the console after a
    start or a delivery nor the first question of a new kind waits for a compile or a scan.
    Run by ``comptroller serve`` in a background thread; a failure only means a cold cache."""
    warm_up.started, warm_up.finished = time.monotonic(), None
    state = StateDB(settings.state_url)
    source = ReportSource(settings, state)
    admin = Principal(
        user_id=0, username="report-warm-up", roles=frozenset({Role.ADMIN.value}), teams=frozenset()
    )
    try:
        get_overview(source, admin)
        get_trend(source, admin, by="team", grain="week")
        get_console_budgets(source)
        get_console_inventory(source)
        get_console_use_case_actuals(source, admin)
        get_cost_lines(source, admin)
        for cost in COST_COLUMNS:
            for allocate in (True, False):
                query = SpendQuery(cost=cost, allocate=allocate)
                prepared_lines(source.ledger, source.attribution, query, [cost_column(cost)], [])
        cube.settle()
    finally:
        warm_up.finished = time.monotonic()
        source.close()
        state.close()
