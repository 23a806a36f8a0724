"""Pulling usage and costs straight from the providers' organisation APIs into the ledger.

``comptroller pull openai|anthropic`` pages through the same endpoints whose saved pages
``comptroller ingest`` reads: the usage endpoints (OpenAI ``/v1/organization/usage/completions``,
Anthropic ``/v1/organizations/usage_report/messages``, hourly buckets) and, with ``--costs``, the
bills (OpenAI ``/v1/organization/costs``, Anthropic ``/v1/organizations/cost_report``, daily
buckets). Every page is converted with the existing readers before anything is written, and each
endpoint's pull is stored in one atomic call: usage with ``ingest_usage_events(..., replace=True)``
(buckets asked for again replace what they said before), costs as one FOCUS delivery restating
the days it brought (``provider_costs.DAY_SCOPE``), so a pull from mid-month keeps the month's
earlier days.

Each (provider, endpoint) keeps its cursor (the start of the newest bucket seen) in the state
database, so usage and cost pulls advance independently: usage under the provider's name, costs
under ``<provider>:costs``. The next pull starts *at* that bucket, not after it, because the
newest bucket may still have been filling when it was read. Event ids derive from bucket and
grouping and bill lines restate their day, so re-pulling is idempotent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import httpx
import pyarrow as pa

from comptroller.errors import ComptrollerError, ConfigError
from comptroller.ingest.anthropic_usage import anthropic_usage_events, rfc3339
from comptroller.ingest.currency import CurrencyConversion
from comptroller.ingest.focus_ingest import DeliveryResult
from comptroller.ingest.openai_usage import ExportParser, openai_usage_events, unix_time
from comptroller.ingest.provider_costs import (
    ANTHROPIC_SOURCE,
    DAY_SCOPE,
    OPENAI_SOURCE,
    bill_rows,
    store_bill_rows,
)
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.ledger.store import Ledger
from comptroller.pricing import Pricer
from comptroller.state.db import StateDB
from comptroller.state.models import PullCursor, utcnow

MAX_PAGES = 10_000
MAX_RETRIES = 5
MAX_BACKOFF = 60.0
DEFAULT_LOOKBACK = timedelta(days=30)
"""How far back a first pull (no cursor, no ``--since``) reaches."""

Kind = Literal["usage", "costs"]
KINDS: tuple[Kind, ...] = ("usage", "costs")


class PullError(ComptrollerError):
    """A provider's usage or cost API refused or failed; nothing of the pull was written."""

    code = "pull_error"


@dataclass(frozen=True, slots=True)
class Provider:
    """Where a provider's admin API lives and how it is authenticated."""

    name: str
    key_env: str
    base_env: str
    default_base: str
    headers: Callable[[str], dict[str, str]]

    def base_url(self) -> str:
        return (os.environ.get(self.base_env) or self.default_base).rstrip("/")

    def admin_key(self) -> str:
        key = os.environ.get(self.key_env, "").strip()
        if not key:
            raise ConfigError(f"set {self.key_env} to an organisation admin key to pull {self.name} data")
        return key


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One paged, bucketed endpoint of a provider: the query it is sent, the source its pages
    are read as, and how a bucket says when it starts."""

    provider: Provider
    kind: Kind
    source: str
    path: str
    params: Callable[[datetime, datetime], list[tuple[str, str]]]
    """(start, now), both naive UTC -> query parameters without ``page``."""
    bucket_start: Callable[[ExportParser, dict[str, Any]], datetime | None]
    bucket: timedelta

    def url(self) -> str:
        return self.provider.base_url() + self.path

    @property
    def cursor_key(self) -> str:
        """Usage keeps the provider's bare name (cursors stored before costs were pulled)."""
        return self.provider.name if self.kind == "usage" else f"{self.provider.name}:{self.kind}"

    @property
    def label(self) -> str:
        return f"{self.provider.name} {self.kind} API (GET {self.path})"


def _unix(moment: datetime) -> str:
    return str(int(moment.replace(tzinfo=UTC).timestamp()))


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _next_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time())


def _openai_usage_params(start: datetime, now: datetime) -> list[tuple[str, str]]:
    group = [("group_by", g) for g in ("model", "project_id", "api_key_id")]
    return [("start_time", _unix(start)), ("bucket_width", "1h"), *group, ("limit", "168")]


def _anthropic_usage_params(start: datetime, now: datetime) -> list[tuple[str, str]]:
    group = [("group_by[]", g) for g in ("model", "workspace_id", "api_key_id")]
    return [("starting_at", _rfc3339(start)), ("bucket_width", "1h"), *group, ("limit", "168")]


def _openai_cost_params(start: datetime, now: datetime) -> list[tuple[str, str]]:
    """Daily buckets (the only width offered), 180 per page (the most allowed), grouped like the
    saved pages ``provider_costs`` reads: by line item (model and token kind) and project."""
    group = [("group_by", g) for g in ("line_item", "project_id")]
    return [("start_time", _unix(start)), ("bucket_width", "1d"), *group, ("limit", "180")]


def _anthropic_cost_params(start: datetime, now: datetime) -> list[tuple[str, str]]:
    """Daily buckets up to the end of today, 31 per page (the most allowed), grouped by workspace
    and description (which adds model, token type, service tier and context window)."""
    group = [("group_by[]", g) for g in ("workspace_id", "description")]
    return [
        ("starting_at", _rfc3339(start)),
        ("ending_at", _rfc3339(_next_midnight(now))),
        ("bucket_width", "1d"),
        *group,
        ("limit", "31"),
    ]


def _openai_start(parser: ExportParser, bucket: dict[str, Any]) -> datetime | None:
    return unix_time(parser, bucket, "start_time", 0)


def _anthropic_start(parser: ExportParser, bucket: dict[str, Any]) -> datetime | None:
    return rfc3339(parser, bucket, "starting_at", 0)


OPENAI = Provider(
    name="openai",
    key_env="OPENAI_ADMIN_KEY",
    base_env="COMPTROLLER_OPENAI_BASE_URL",
    default_base="https://api.openai.com",
    headers=lambda key: {"Authorization": f"Bearer {key}"},
)
ANTHROPIC = Provider(
    name="anthropic",
    key_env="ANTHROPIC_ADMIN_KEY",
    base_env="COMPTROLLER_ANTHROPIC_BASE_URL",
    default_base="https://api.anthropic.com",
    headers=lambda key: {"x-api-key": key, "anthropic-version": "2023-06-01"},
)
PROVIDERS: dict[str, Provider] = {p.name: p for p in (OPENAI, ANTHROPIC)}
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
ENDPOINTS: dict[tuple[str, Kind], Endpoint] = {
    ("openai", "usage"): Endpoint(
        OPENAI, "usage", "openai_usage", "/v1/organization/usage/completions",
        _openai_usage_params, _openai_start, HOUR,
    ),
    ("anthropic", "usage"): Endpoint(
        ANTHROPIC, "usage", "anthropic_usage", "/v1/organizations/usage_report/messages",
        _anthropic_usage_params, _anthropic_start, HOUR,
    ),
    ("openai", "costs"): Endpoint(
        OPENAI, "costs", OPENAI_SOURCE, "/v1/organization/costs", _openai_cost_params, _openai_start, DAY
    ),
    ("anthropic", "costs"): Endpoint(
        ANTHROPIC, "costs", ANTHROPIC_SOURCE, "/v1/organizations/cost_report",
        _anthropic_cost_params, _anthropic_start, DAY,
    ),
}  # fmt: skip
USAGE_EVENTS: dict[str, Callable[[list[Any], str], pa.Table]] = {
    "openai": openai_usage_events,
    "anthropic": anthropic_usage_events,
}


@dataclass(frozen=True, slots=True)
class PullResult:
    provider: str
    start: datetime
    pages: int
    events: int
    new_events: int
    unpriced_events: int
    cost: Decimal
    cursor: datetime | None
    delivery_id: str | None
    kind: Kind = "usage"


@dataclass(frozen=True, slots=True)
class CostPullResult:
    provider: str
    start: datetime
    pages: int
    lines: int
    replaced_lines: int
    days: int
    billed: Decimal
    cursor: datetime | None
    delivery_id: str | None
    kind: Kind = "costs"


def get_provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ConfigError(f"unknown provider {name!r}; choose {' or '.join(PROVIDERS)}") from None


def get_endpoint(provider: str, kind: Kind) -> Endpoint:
    return ENDPOINTS[(get_provider(provider).name, kind)]


def read_cursor(state: StateDB, key: str) -> datetime | None:
    """The cursor of ``key``: a provider's name (usage) or ``<provider>:costs``."""
    with state.session() as s:
        row = s.get(PullCursor, key)
        return row.last_bucket_start if row else None


def write_cursor(state: StateDB, key: str, bucket_start: datetime) -> None:
    with state.session() as s, s.begin():
        row = s.get(PullCursor, key)
        if row is None:
            s.add(PullCursor(provider=key, last_bucket_start=bucket_start))
        else:
            row.last_bucket_start = bucket_start
            row.updated_at = utcnow()


def _retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait: the server's Retry-After (seconds) if given, else exponential backoff."""
    header = response.headers.get("retry-after")
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_BACKOFF)
        except ValueError:
            pass
    return min(0.5 * 2**attempt, MAX_BACKOFF)


def _get(
    client: httpx.Client,
    endpoint: Endpoint,
    params: list[tuple[str, str]],
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """One page, retrying rate limits, server errors and dropped connections a bounded number of
    times; an admin key the provider refuses is said plainly. Every error names the endpoint."""
    provider = endpoint.provider
    for attempt in range(MAX_RETRIES + 1):
        try:
            response = client.get(endpoint.url(), params=params)
        except httpx.TransportError as exc:
            if attempt == MAX_RETRIES:
                raise PullError(f"{endpoint.label} unreachable at {provider.base_url()}: {exc}") from exc
            sleep(min(0.5 * 2**attempt, MAX_BACKOFF))
            continue
        status = response.status_code
        if status in (401, 403):
            raise PullError(
                f"{provider.name} admin key rejected by the {endpoint.label} (HTTP {status}); check that "
                f"{provider.key_env} holds an organisation admin key with access to the {endpoint.kind} API"
            )
        if status == 429 or status >= 500:
            if attempt == MAX_RETRIES:
                raise PullError(f"{endpoint.label} still answering HTTP {status} after {MAX_RETRIES} retries")
            sleep(_retry_after(response, attempt))
            continue
        if status != 200:
            raise PullError(f"{endpoint.label} answered HTTP {status}: {response.text[:300]}")
        try:
            page = response.json()
        except ValueError as exc:
            raise PullError(f"{endpoint.label} answered a page that is not JSON") from exc
        if not isinstance(page, dict):
            raise PullError(f"{endpoint.label} answered a page that is not a JSON object")
        return page
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_pages(
    endpoint: Endpoint,
    start: datetime,
    *,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Every page from ``start`` (naive UTC) on, following ``has_more``/``next_page``."""
    key = endpoint.provider.admin_key()
    pages: list[dict[str, Any]] = []
    base = endpoint.params(start, now or utcnow())
    with httpx.Client(headers=endpoint.provider.headers(key), timeout=timeout) as client:
        params = base
        while True:
            page = _get(client, endpoint, params, sleep)
            pages.append(page)
            if not page.get("has_more"):
                return pages
            next_page = page.get("next_page")
            if not isinstance(next_page, str) or not next_page:
                raise PullError(f"{endpoint.label} said has_more but gave no next_page")
            if len(pages) >= MAX_PAGES:
                raise PullError(f"{endpoint.label} kept paging past {MAX_PAGES} pages")
            params = [*base, ("page", next_page)]


def bucket_starts(endpoint: Endpoint, pages: list[dict[str, Any]]) -> list[datetime]:
    parser = ExportParser(endpoint.source)
    starts = []
    for page in pages:
        buckets = page.get("data")
        for bucket in buckets if isinstance(buckets, list) else []:
            if isinstance(bucket, dict):
                start = endpoint.bucket_start(parser, bucket)
                if start is not None:
                    starts.append(start)
    return starts


def newest_bucket(endpoint: Endpoint, pages: list[dict[str, Any]]) -> datetime | None:
    return max(bucket_starts(endpoint, pages), default=None)


def pull_start(
    state: StateDB, endpoint: Endpoint, since: date | None, now: datetime | None = None
) -> datetime:
    """``--since`` midnight UTC; else the stored cursor's bucket again; else the default lookback,
    snapped to the start of the endpoint's bucket (hour or day)."""
    if since is not None:
        return datetime.combine(since, datetime.min.time())
    cursor = read_cursor(state, endpoint.cursor_key)
    if cursor is not None:
        return cursor
    back = (now or utcnow()) - DEFAULT_LOOKBACK
    if endpoint.bucket >= DAY:
        return datetime.combine(back.date(), datetime.min.time())
    return back.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Fetched:
    """One endpoint's pages, fetched and converted, not yet written."""

    endpoint: Endpoint
    start: datetime
    pages: list[dict[str, Any]]
    origin: str
    events: pa.Table | None
    rows: list[dict[str, str | None]]
    cursor: datetime | None


def fetch(
    state: StateDB,
    endpoint: Endpoint,
    *,
    since: date | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetched:
    """Fetch every page since the cursor (or ``since``) and convert it; raises on any bad page
    or cell, before anything is written."""
    endpoint.provider.admin_key()
    start = pull_start(state, endpoint, since)
    pages = fetch_pages(endpoint, start, sleep=sleep)
    origin = f"{endpoint.url()} (pull from {_rfc3339(start)})"
    if endpoint.kind == "usage":
        events, rows = USAGE_EVENTS[endpoint.provider.name](pages, origin), []
    else:
        events, rows = None, bill_rows(pages, endpoint.source, origin)
    return Fetched(endpoint, start, pages, origin, events, rows, newest_bucket(endpoint, pages))


def _advance(state: StateDB, fetched: Fetched) -> datetime | None:
    key = fetched.endpoint.cursor_key
    if fetched.cursor is not None:
        write_cursor(state, key, fetched.cursor)
    return fetched.cursor or read_cursor(state, key)


def store_usage(ledger: Ledger, state: StateDB, pricer: Pricer, fetched: Fetched) -> PullResult:
    """Write fetched usage in one call, then move the usage cursor."""
    table = fetched.events
    assert table is not None, "store_usage takes a usage fetch"
    delivery_id = None
    new_events = unpriced = 0
    cost = Decimal(0)
    if table.num_rows:
        result = ingest_usage_events(ledger, table, pricer, origin=fetched.origin, replace=True)
        delivery_id, new_events, unpriced = result.delivery_id, result.new_events, result.unpriced_events
        events = ledger.usage_events()
        stored = events.filter(events.delivery_id == delivery_id).contracted_cost.sum().execute()
        cost = Decimal(str(stored)) if stored is not None else Decimal(0)
    return PullResult(
        provider=fetched.endpoint.provider.name,
        start=fetched.start,
        pages=len(fetched.pages),
        events=table.num_rows,
        new_events=new_events,
        unpriced_events=unpriced,
        cost=cost,
        cursor=_advance(state, fetched),
        delivery_id=delivery_id,
    )


def store_costs(
    ledger: Ledger, state: StateDB, fetched: Fetched, *, fx: CurrencyConversion | None = None
) -> tuple[CostPullResult, DeliveryResult | None]:
    """Write fetched bill lines as one delivery restating the days they cover, then move the cost
    cursor. Returns the result and the ``DeliveryResult`` (None when there were no lines)."""
    delivery = store_bill_rows(ledger, fetched.rows, fetched.endpoint.source, fx=fx, scope=DAY_SCOPE)
    billed = Decimal(0)
    if delivery is not None:
        lines = ledger.cost_lines()
        total = lines.filter(lines.x_DeliveryId == delivery.delivery_id).BilledCost.sum().execute()
        billed = Decimal(str(total)) if total is not None else Decimal(0)
    days = {row["ChargePeriodStart"] for row in fetched.rows}
    result = CostPullResult(
        provider=fetched.endpoint.provider.name,
        start=fetched.start,
        pages=len(fetched.pages),
        lines=len(fetched.rows),
        replaced_lines=delivery.replaced_rows if delivery else 0,
        days=len(days),
        billed=billed,
        cursor=_advance(state, fetched),
        delivery_id=delivery.delivery_id if delivery else None,
    )
    return result, delivery


def pull_usage(
    ledger: Ledger,
    state: StateDB,
    pricer: Pricer,
    provider_name: str,
    *,
    since: date | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullResult:
    """Fetch, convert and store one provider's usage since the cursor (or ``since``), then move
    the cursor to the newest bucket seen. Nothing is written unless every page converts."""
    fetched = fetch(state, get_endpoint(provider_name, "usage"), since=since, sleep=sleep)
    return store_usage(ledger, state, pricer, fetched)


def pull_costs(
    ledger: Ledger,
    state: StateDB,
    provider_name: str,
    *,
    since: date | None = None,
    fx: CurrencyConversion | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CostPullResult:
    """Fetch, convert and store one provider's daily bill since the cost cursor (or ``since``),
    then move that cursor to the newest day seen. Nothing is written unless every page converts."""
    fetched = fetch(state, get_endpoint(provider_name, "costs"), since=since, sleep=sleep)
    return store_costs(ledger, state, fetched, fx=fx)[0]
