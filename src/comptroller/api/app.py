"""The control-plane API (``/api/v1``) and the console page, one ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from comptroller import __version__
from comptroller.api import (
    agents_routes,
    approvals_routes,
    audit_routes,
    auth_routes,
    budgets_routes,
    console_routes,
    inventory_routes,
    keys_routes,
    notify_routes,
    ownership_routes,
    reconcile_routes,
    use_case_routes,
)
from comptroller.api.audit_routes import audit_change
from comptroller.api.auth import Principal, public, require
from comptroller.api.deps import Ctx
from comptroller.attribution.conditions import compile_condition
from comptroller.attribution.specs import RuleSpec
from comptroller.config import Settings
from comptroller.console import mount_console
from comptroller.context import Context
from comptroller.errors import ComptrollerError, ForbiddenError, IngestError, NotFoundError, QueryError
from comptroller.governance.rbac import GLOBAL_READ_ROLES, READ_ROLES, Role
from comptroller.governance.scoping import scoped_spend
from comptroller.ingest import otlp
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.ledger.keeper import LedgerKeeper
from comptroller.pairs import split_pair
from comptroller.reports.coverage import tag_coverage, unowned_spend
from comptroller.reports.spend import SpendQuery
from comptroller.state import repository

Finops = Annotated[Principal, require(Role.FINOPS)]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    keeper = LedgerKeeper()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        keeper.close()

    app = FastAPI(title="Comptroller", version=__version__, docs_url="/docs", lifespan=lifespan)
    app.state.settings = settings
    app.state.ledger_keeper = keeper

    @app.exception_handler(ComptrollerError)
    async def comptroller_error(_: Request, exc: ComptrollerError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFoundError) else 403 if isinstance(exc, ForbiddenError) else 400
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=status)

    @app.get("/healthz", dependencies=[public()])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/spend")
    def get_spend(
        ctx: Ctx,
        principal: Annotated[Principal, require(*READ_ROLES)],
        by: str = "",
        from_: Annotated[date | None, Query(alias="from")] = None,
        to: date | None = None,
        cost: str = "effective",
        filter_: Annotated[list[str] | None, Query(alias="filter")] = None,
        allocate: bool = True,
    ) -> dict[str, Any]:
        filters = {}
        for item in filter_ or []:
            try:
                key, value = split_pair(item, "DIM=VALUE")
            except ValueError as exc:
                raise QueryError(f"filter {exc}") from None
            filters[key] = value
        query = SpendQuery(
            by=tuple(d for d in by.split(",") if d),
            start=from_,
            end=to,
            cost=cost,
            filters=filters,
            allocate=allocate,
        )
        return scoped_spend(ctx.ledger, ctx.attribution(), query, principal).as_json()

    @app.get("/api/v1/coverage", dependencies=[require(*GLOBAL_READ_ROLES)])
    def get_coverage(
        ctx: Ctx, from_: Annotated[date | None, Query(alias="from")] = None, to: date | None = None
    ) -> list[dict[str, Any]]:
        return [
            {
                "dimension": r.dimension,
                "cost_share": r.cost_share,
                "covered_cost": float(r.covered_cost),
                "total_cost": float(r.total_cost),
                "covered_lines": r.covered_lines,
                "total_lines": r.total_lines,
            }
            for r in tag_coverage(ctx.ledger, ctx.attribution(), start=from_, end=to)
        ]

    @app.get("/api/v1/unowned", dependencies=[require(*GLOBAL_READ_ROLES)])
    def get_unowned(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
        return [
            {**r.group, "cost": float(r.cost), "lines": r.lines}
            for r in unowned_spend(ctx.ledger, ctx.attribution(), limit=limit)
        ]

    @app.get("/api/v1/rules", dependencies=[require(*READ_ROLES)])
    def get_rules(ctx: Ctx) -> list[RuleSpec]:
        return repository.list_rules(ctx.state)

    @app.post("/api/v1/rules", status_code=201)
    def post_rule(
        ctx: Ctx, request: Request, principal: Finops, rule: RuleSpec, position: int | None = None
    ) -> RuleSpec:
        compile_condition(rule.condition, ctx.ledger.cost_lines())
        added = repository.add_rule(ctx.state, rule, position)
        audit_change(request, principal, "rule.create", f"rule:{added.id}", added.model_dump(mode="json"))
        return added

    @app.delete("/api/v1/rules/{rule_id}", status_code=204)
    def delete_rule(
        ctx: Ctx, request: Request, principal: Finops, rule_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
    ) -> None:
        repository.remove_rule(ctx.state, rule_id)
        audit_change(request, principal, "rule.delete", f"rule:{rule_id}")

    @app.get("/api/v1/deliveries", dependencies=[require(*GLOBAL_READ_ROLES)])
    def get_deliveries(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
        return [
            {
                "id": d.id,
                "source": d.source,
                "status": d.status,
                "files": d.files,
                "rows": d.rows,
                "replaced_rows": d.replaced_rows,
                "message": d.message,
                "started_at": d.started_at.isoformat(),
            }
            for d in repository.list_deliveries(ctx.state, limit)
        ]

    @app.post("/v1/traces", include_in_schema=False, dependencies=[require(Role.FINOPS, ingest=True)])
    async def post_traces(request: Request, ctx: Ctx) -> Response:
        """OTLP/HTTP receiver: 400 (which exporters do not retry) for a body that will never
        parse, 415 for a media type OTLP does not define."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in (otlp.PROTOBUF, otlp.JSON):
            return JSONResponse({"error": {"code": "unsupported_media_type"}}, status_code=415)
        try:
            body = await request.body()
            await run_in_threadpool(
                _receive_traces, ctx, keeper, body, media, request.headers.get("content-encoding")
            )
        except IngestError as exc:
            return JSONResponse({"code": 3, "message": exc.message}, status_code=400)
        if media == otlp.PROTOBUF:
            return Response(otlp.ExportTraceServiceResponse().SerializeToString(), media_type=otlp.PROTOBUF)
        return JSONResponse({})

    app.include_router(console_routes.router)
    app.include_router(auth_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(use_case_routes.router)
    app.include_router(keys_routes.router)
    app.include_router(budgets_routes.router)
    app.include_router(notify_routes.router)
    app.include_router(approvals_routes.router)
    app.include_router(agents_routes.router)
    app.include_router(reconcile_routes.router)
    app.include_router(inventory_routes.router)
    app.include_router(ownership_routes.router)
    mount_console(app)

    return app


def _receive_traces(
    ctx: Context, keeper: LedgerKeeper, body: bytes, media: str, encoding: str | None
) -> None:
    """Decode and store off the event loop: parsing and the ledger write both block. Exporters
    send in bursts, so the ledger is held open between their requests (``ledger.keeper``)."""
    table = otlp.spans_to_events(otlp.parse_request(otlp.decode_body(body, encoding), media))
    if table.num_rows:
        keeper.keep(ctx.settings.ledger_url)
        ingest_usage_events(ctx.ledger, table, ctx.pricer(), origin="otlp")
