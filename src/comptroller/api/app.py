"""The control-plane API (``/api/v1``) and the console page, one ASGI app."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from comptroller import __version__
from comptroller.attribution.conditions import compile_condition
from comptroller.attribution.specs import RuleSpec
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.errors import ComptrollerError, IngestError, NotFoundError, QueryError
from comptroller.ingest import otlp
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pairs import split_pair
from comptroller.reports.coverage import tag_coverage, unowned_spend
from comptroller.reports.spend import SpendQuery, spend
from comptroller.state import repository

CONSOLE = Path(__file__).with_name("console.html")


def request_context(request: Request) -> Iterator[Context]:
    """Each request opens what it uses and lets go, so CLI writes can take the ledger between."""
    with Context(request.app.state.settings) as ctx:
        yield ctx


Ctx = Annotated[Context, Depends(request_context)]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(title="Comptroller", version=__version__, docs_url="/docs")
    app.state.settings = settings

    @app.exception_handler(ComptrollerError)
    async def comptroller_error(_: Request, exc: ComptrollerError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFoundError) else 400
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=status)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/spend")
    def get_spend(
        ctx: Ctx,
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
        return spend(ctx.ledger, ctx.attribution(), query).as_json()

    @app.get("/api/v1/coverage")
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

    @app.get("/api/v1/unowned")
    def get_unowned(ctx: Ctx, limit: int = 50) -> list[dict[str, Any]]:
        return [
            {**r.group, "cost": float(r.cost), "lines": r.lines}
            for r in unowned_spend(ctx.ledger, ctx.attribution(), limit=limit)
        ]

    @app.get("/api/v1/rules")
    def get_rules(ctx: Ctx) -> list[RuleSpec]:
        return repository.list_rules(ctx.state)

    @app.post("/api/v1/rules", status_code=201)
    def post_rule(ctx: Ctx, rule: RuleSpec, position: int | None = None) -> RuleSpec:
        compile_condition(rule.condition, ctx.ledger.cost_lines())
        return repository.add_rule(ctx.state, rule, position)

    @app.delete("/api/v1/rules/{rule_id}", status_code=204)
    def delete_rule(ctx: Ctx, rule_id: int) -> None:
        repository.remove_rule(ctx.state, rule_id)

    @app.get("/api/v1/deliveries")
    def get_deliveries(ctx: Ctx, limit: int = 50) -> list[dict[str, Any]]:
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

    @app.post("/v1/traces", include_in_schema=False)
    async def post_traces(request: Request, ctx: Ctx) -> Response:
        """OTLP/HTTP receiver: 400 (which exporters do not retry) for a body that will never
        parse, 415 for a media type OTLP does not define."""
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in (otlp.PROTOBUF, otlp.JSON):
            return JSONResponse({"error": {"code": "unsupported_media_type"}}, status_code=415)
        try:
            body = await request.body()
            await run_in_threadpool(
                _receive_traces, ctx, body, media, request.headers.get("content-encoding")
            )
        except IngestError as exc:
            return JSONResponse({"code": 3, "message": exc.message}, status_code=400)
        if media == otlp.PROTOBUF:
            return Response(otlp.ExportTraceServiceResponse().SerializeToString(), media_type=otlp.PROTOBUF)
        return JSONResponse({})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def console() -> str:
        return CONSOLE.read_text()

    return app


def _receive_traces(ctx: Context, body: bytes, media: str, encoding: str | None) -> None:
    """Decode and store off the event loop: parsing and the ledger write both block."""
    table = otlp.spans_to_events(otlp.parse_request(otlp.decode_body(body, encoding), media))
    if table.num_rows:
        ingest_usage_events(ctx.ledger, table, ctx.pricer(), origin="otlp")
