"""Pulling usage straight from the providers' organisation usage APIs into the ledger.

``comptroller pull openai|anthropic`` pages through the same endpoints whose saved pages
``comptroller ingest`` reads (OpenAI ``/v1/organization/usage/completions``, Anthropic
``/v1/organizations/usage_report/messages``) in hourly buckets, converts every page with the
existing readers and stores the whole pull with one ``ingest_usage_events(..., replace=True)``
call: a pull is all or nothing, and buckets asked for again replace what they said before.

Each provider's cursor (the start of the newest bucket seen) is kept in the state database; the
next pull starts *at* that bucket, not after it, because the newest bucket may still have been
filling when it was read. Event ids derive from bucket and grouping, so re-pulling is idempotent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pyarrow as pa

from comptroller.errors import ComptrollerError, ConfigError
from comptroller.ingest.anthropic_usage import anthropic_usage_events, rfc3339
from comptroller.ingest.openai_usage import ExportParser, openai_usage_events, unix_time
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.ledger.store import Ledger
from comptroller.pricing import Pricer
from comptroller.state.db import StateDB
from comptroller.state.models import PullCursor, utcnow

PAGE_LIMIT = 168
"""Hourly buckets per page: the most either API returns for ``bucket_width=1h``."""
MAX_PAGES = 10_000
MAX_RETRIES = 5
MAX_BACKOFF = 60.0
DEFAULT_LOOKBACK = timedelta(days=30)
"""How far back a first pull (no cursor, no ``--since``) reaches."""


class PullError(ComptrollerError):
    """A provider's usage API refused or failed; nothing of the pull was written."""

    code = "pull_error"


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    source: str
    key_env: str
    base_env: str
    default_base: str
    path: str
    headers: Callable[[str], dict[str, str]]
    params: Callable[[datetime], list[tuple[str, str]]]
    events: Callable[[list[Any], str], pa.Table]
    bucket_start: Callable[[ExportParser, dict[str, Any]], datetime | None]

    def base_url(self) -> str:
        return (os.environ.get(self.base_env) or self.default_base).rstrip("/")

    def url(self) -> str:
        return self.base_url() + self.path

    def admin_key(self) -> str:
        key = os.environ.get(self.key_env, "").strip()
        if not key:
            raise ConfigError(f"set {self.key_env} to an organisation admin key to pull {self.name} usage")
        return key


def _openai_params(start: datetime) -> list[tuple[str, str]]:
    return [
        ("start_time", str(int(start.replace(tzinfo=UTC).timestamp()))),
        ("bucket_width", "1h"),
        ("group_by", "model"),
        ("group_by", "project_id"),
        ("group_by", "api_key_id"),
        ("limit", str(PAGE_LIMIT)),
    ]


def _anthropic_params(start: datetime) -> list[tuple[str, str]]:
    return [
        ("starting_at", start.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("bucket_width", "1h"),
        ("group_by[]", "model"),
        ("group_by[]", "workspace_id"),
        ("group_by[]", "api_key_id"),
        ("limit", str(PAGE_LIMIT)),
    ]


PROVIDERS: dict[str, Provider] = {
    "openai": Provider(
        name="openai",
        source="openai_usage",
        key_env="OPENAI_ADMIN_KEY",
        base_env="COMPTROLLER_OPENAI_BASE_URL",
        default_base="https://api.openai.com",
        path="/v1/organization/usage/completions",
        headers=lambda key: {"Authorization": f"Bearer {key}"},
        params=_openai_params,
        events=openai_usage_events,
        bucket_start=lambda parser, bucket: unix_time(parser, bucket, "start_time", 0),
    ),
    "anthropic": Provider(
        name="anthropic",
        source="anthropic_usage",
        key_env="ANTHROPIC_ADMIN_KEY",
        base_env="COMPTROLLER_ANTHROPIC_BASE_URL",
        default_base="https://api.anthropic.com",
        path="/v1/organizations/usage_report/messages",
        headers=lambda key: {"x-api-key": key, "anthropic-version": "2023-06-01"},
        params=_anthropic_params,
        events=anthropic_usage_events,
        bucket_start=lambda parser, bucket: rfc3339(parser, bucket, "starting_at", 0),
    ),
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


def get_provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ConfigError(f"unknown provider {name!r}; choose {' or '.join(PROVIDERS)}") from None


def read_cursor(state: StateDB, provider: str) -> datetime | None:
    with state.session() as s:
        row = s.get(PullCursor, provider)
        return row.last_bucket_start if row else None


def write_cursor(state: StateDB, provider: str, bucket_start: datetime) -> None:
    with state.session() as s, s.begin():
        row = s.get(PullCursor, provider)
        if row is None:
            s.add(PullCursor(provider=provider, last_bucket_start=bucket_start))
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
    provider: Provider,
    params: list[tuple[str, str]],
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """One page, retrying rate limits, server errors and dropped connections a bounded number of
    times; an admin key the provider refuses is said plainly."""
    for attempt in range(MAX_RETRIES + 1):
        try:
            response = client.get(provider.url(), params=params)
        except httpx.TransportError as exc:
            if attempt == MAX_RETRIES:
                raise PullError(
                    f"{provider.name} usage API unreachable at {provider.base_url()}: {exc}"
                ) from exc
            sleep(min(0.5 * 2**attempt, MAX_BACKOFF))
            continue
        status = response.status_code
        if status in (401, 403):
            raise PullError(
                f"{provider.name} admin key rejected (HTTP {status}); check that {provider.key_env} "
                "holds an organisation admin key with access to the usage API"
            )
        if status == 429 or status >= 500:
            if attempt == MAX_RETRIES:
                raise PullError(
                    f"{provider.name} usage API still answering HTTP {status} after {MAX_RETRIES} retries"
                )
            sleep(_retry_after(response, attempt))
            continue
        if status != 200:
            raise PullError(f"{provider.name} usage API answered HTTP {status}: {response.text[:300]}")
        try:
            page = response.json()
        except ValueError as exc:
            raise PullError(f"{provider.name} usage API answered a page that is not JSON") from exc
        if not isinstance(page, dict):
            raise PullError(f"{provider.name} usage API answered a page that is not a JSON object")
        return page
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_pages(
    provider: Provider,
    start: datetime,
    *,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Every page from ``start`` (naive UTC) on, following ``has_more``/``next_page``."""
    key = provider.admin_key()
    pages: list[dict[str, Any]] = []
    base = provider.params(start)
    with httpx.Client(headers=provider.headers(key), timeout=timeout) as client:
        params = base
        while True:
            page = _get(client, provider, params, sleep)
            pages.append(page)
            if not page.get("has_more"):
                return pages
            next_page = page.get("next_page")
            if not isinstance(next_page, str) or not next_page:
                raise PullError(f"{provider.name} usage API said has_more but gave no next_page")
            if len(pages) >= MAX_PAGES:
                raise PullError(f"{provider.name} usage API kept paging past {MAX_PAGES} pages")
            params = [*base, ("page", next_page)]


def newest_bucket(provider: Provider, pages: list[dict[str, Any]]) -> datetime | None:
    parser = ExportParser(provider.source)
    starts = []
    for page in pages:
        buckets = page.get("data")
        for bucket in buckets if isinstance(buckets, list) else []:
            if isinstance(bucket, dict):
                start = provider.bucket_start(parser, bucket)
                if start is not None:
                    starts.append(start)
    return max(starts, default=None)


def pull_start(
    state: StateDB, provider: Provider, since: date | None, now: datetime | None = None
) -> datetime:
    """``--since`` midnight UTC; else the stored cursor's bucket again; else the default lookback."""
    if since is not None:
        return datetime.combine(since, datetime.min.time())
    cursor = read_cursor(state, provider.name)
    if cursor is not None:
        return cursor
    now = now or utcnow()
    return (now - DEFAULT_LOOKBACK).replace(minute=0, second=0, microsecond=0)


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
    provider = get_provider(provider_name)
    provider.admin_key()
    start = pull_start(state, provider, since)
    pages = fetch_pages(provider, start, sleep=sleep)
    origin = f"{provider.url()} (pull from {start:%Y-%m-%dT%H:%M:%SZ})"
    table = provider.events(pages, origin)
    cursor = newest_bucket(provider, pages)
    delivery_id = None
    new_events = unpriced = 0
    cost = Decimal(0)
    if table.num_rows:
        result = ingest_usage_events(ledger, table, pricer, origin=origin, replace=True)
        delivery_id, new_events, unpriced = result.delivery_id, result.new_events, result.unpriced_events
        events = ledger.usage_events()
        stored = events.filter(events.delivery_id == delivery_id).contracted_cost.sum().execute()
        cost = Decimal(str(stored)) if stored is not None else Decimal(0)
    if cursor is not None:
        write_cursor(state, provider.name, cursor)
    return PullResult(
        provider=provider.name,
        start=start,
        pages=len(pages),
        events=table.num_rows,
        new_events=new_events,
        unpriced_events=unpriced,
        cost=cost,
        cursor=cursor or read_cursor(state, provider.name),
        delivery_id=delivery_id,
    )
