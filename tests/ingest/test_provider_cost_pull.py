"""``comptroller pull --costs``: paging the providers' cost endpoints (a real loopback server
speaking OpenAI's Costs API and Anthropic's cost report), retrying a rate limit, restating only the
days pulled, keeping a cursor of its own, and writing nothing when the provider fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.context import Context
from comptroller.ingest.provider_pull import read_cursor
from tests.ingest.admin_api import (
    ANTHROPIC_KEY,
    OPENAI_KEY,
    AdminAPI,
    AdminHandler,
    Query,
    page,
    serving,
    window_start,
)
from tests.ingest.test_provider_pull import openai_bucket
from tests.reconcile.telemetry import OPENAI_BILL, OPENAI_BILL_TOTAL

runner = CliRunner()
FIRST_DAY = datetime(2025, 3, 10, tzinfo=UTC)
"""Mid-month, after the saved March bill's days (the 1st and 2nd)."""
DAYS = 5
OPENAI_COSTS = "/v1/organization/costs"
ANTHROPIC_COSTS = "/v1/organizations/cost_report"
OPENAI_USAGE = "/v1/organization/usage/completions"
ISO = "%Y-%m-%dT%H:%M:%SZ"


def day(n: int) -> datetime:
    return FIRST_DAY + timedelta(days=n)


def naive(n: int) -> datetime:
    return day(n).replace(tzinfo=None)


def openai_cost_bucket(n: int, scale: int = 1) -> dict[str, Any]:
    def result(value: float, item: str, project: str) -> dict[str, Any]:
        return {
            "object": "organization.costs.result",
            "amount": {"value": value, "currency": "usd"},
            "line_item": item,
            "project_id": project,
        }

    results = [
        result(0.25 * (n + 1) * scale, "gpt-4o-mini-2024-07-18, input", "proj_search"),
        result(0.5 * scale, "gpt-4o-mini-2024-07-18, output", "proj_search"),
    ]
    if n % 2 == 0:
        results.append(result(1.25 * scale, "gpt-4o-2024-08-06, cached input", "proj_chat"))
    start = int(day(n).timestamp())
    return {"object": "bucket", "start_time": start, "end_time": start + 86400, "results": results}


def anthropic_cost_bucket(n: int, scale: int = 1) -> dict[str, Any]:
    def result(cents: str, description: str, token_type: str) -> dict[str, Any]:
        return {
            "currency": "USD",
            "amount": cents,
            "workspace_id": "wrkspc_support",
            "description": description,
            "cost_type": "tokens",
            "context_window": "0-200k",
            "model": "claude-sonnet-4-20250514",
            "service_tier": "standard",
            "token_type": token_type,
        }

    results = [
        result(
            f"{120 * (n + 1) * scale}.50", "Claude Sonnet 4 Usage - Input Tokens", "uncached_input_tokens"
        ),
        result(f"{75 * scale}.00", "Claude Sonnet 4 Usage - Output Tokens", "output_tokens"),
    ]
    return {"starting_at": day(n).strftime(ISO), "ending_at": day(n + 1).strftime(ISO), "results": results}


def openai_amount(result: dict[str, Any]) -> Decimal:
    return Decimal(str(result["amount"]["value"]))


def anthropic_amount(result: dict[str, Any]) -> Decimal:
    return Decimal(result["amount"]) / 100


class CostAPI(AdminAPI):
    """Both cost endpoints (and OpenAI's usage endpoint, for ``--all``): daily buckets from the
    requested start on, PER_PAGE per page, one 429 before the first real answer, and on demand a
    failure after some good pages."""

    openai_paths = frozenset({OPENAI_COSTS, OPENAI_USAGE})
    anthropic_paths = frozenset({ANTHROPIC_COSTS})

    def __init__(self) -> None:
        super().__init__()
        self.days = DAYS
        self.scale: dict[int, int] = {}
        """Day -> multiplier of its amounts: a provider restating a day's bill."""
        self.fail_with: int | None = None
        self.fail_path: str | None = None
        self.good_pages = 0
        """With ``fail_with``: how many pages are answered before failing."""

    def respond(self, handler: AdminHandler, path: str, query: Query) -> None:
        first = window_start(query)
        last = datetime.fromisoformat(query["ending_at"][0]) if "ending_at" in query else datetime.max
        last = last.replace(tzinfo=UTC)
        if path == OPENAI_USAGE:  # one hourly bucket on the first day, enough to show --all
            data = [openai_bucket(0)] if first <= datetime(2025, 3, 1, tzinfo=UTC) else []
            return handler.answer(200, {"object": "page", "data": data, "has_more": False, "next_page": None})
        if self.fail_with and path == self.fail_path:
            if self.good_pages <= 0:
                return handler.answer(self.fail_with, {"error": {"message": "internal error"}})
            self.good_pages -= 1
        if self.rate_limit_once(handler):
            return None
        days = [n for n in range(self.days) if day(n) >= first and day(n + 1) <= last]
        openai = path == OPENAI_COSTS
        cost_bucket = openai_cost_bucket if openai else anthropic_cost_bucket
        body = page(days, query, lambda n: cost_bucket(n, self.scale.get(n, 1)), openai=openai)
        return handler.answer(200, body)


@pytest.fixture
def api(home, ledger_url, monkeypatch) -> Iterator[CostAPI]:
    """The loopback provider, with the CLI's ledger on each backend (DuckDB file, PostgreSQL)."""
    monkeypatch.setenv("COMPTROLLER_LEDGER_URL", ledger_url)
    with serving(CostAPI(), monkeypatch) as server:
        yield server


def pull(*args: str) -> str:
    """What the command printed, with the console's line wrapping undone."""
    result = runner.invoke(app, ["pull", *args])
    assert result.exit_code == 0, result.output + result.stderr
    return " ".join(result.stdout.split())


def said(stream: str) -> str:
    return " ".join(stream.split())


def bill(source: str) -> dict[datetime, tuple[int, Decimal]]:
    """The ledger's lines of one source per charge day: (count, billed)."""
    with Context() as ctx:
        lines = ctx.ledger.cost_lines()
        lines = lines.filter(lines.x_Source == source)
        rows = (
            lines.group_by("ChargePeriodStart")
            .aggregate(n=lines.count(), billed=lines.BilledCost.sum())
            .to_pyarrow()
            .to_pylist()
        )
    return {r["ChargePeriodStart"]: (r["n"], Decimal(str(r["billed"]))) for r in rows}


def expected(days: range, bucket: Any, amount: Any, scale: dict[int, int] | None = None) -> dict:
    out = {}
    for n in days:
        results = bucket(n, (scale or {}).get(n, 1))["results"]
        out[naive(n)] = (len(results), sum((amount(r) for r in results), Decimal(0)))
    return out


def cursor(key: str) -> datetime | None:
    with Context() as ctx:
        return read_cursor(ctx.state, key)


def usage_event_count() -> int:
    with Context() as ctx:
        return int(ctx.ledger.usage_events().count().execute())


def test_openai_cost_pull_pages_retries_and_stores_the_bill(api):
    result = pull("openai", "--costs", "--since", "2025-03-10")

    queries = api.of(OPENAI_COSTS)
    assert len(queries) == 4  # one 429, then three pages of 2 + 2 + 1 daily buckets
    for query in queries:
        assert query["start_time"] == [str(int(FIRST_DAY.timestamp()))]
        assert query["bucket_width"] == ["1d"]
        assert query["group_by"] == ["line_item", "project_id"]
        assert query["limit"] == ["180"]
    assert [q.get("page") for q in queries] == [None, None, ["cursor-2"], ["cursor-4"]]
    assert api.of(OPENAI_USAGE) == []  # --costs leaves usage alone

    stored = bill("openai_costs")
    assert stored == expected(range(DAYS), openai_cost_bucket, openai_amount)
    total = sum(billed for _, billed in stored.values())
    assert "3 page(s) of openai costs" in result
    assert f"{sum(n for n, _ in stored.values())} bill lines over {DAYS} day(s)" in result
    assert f"billed ${total:,.2f}" in result
    assert "cursor 2025-03-14T00:00:00Z" in result
    assert cursor("openai:costs") == naive(DAYS - 1)
    assert cursor("openai") is None  # the usage cursor is untouched


def test_anthropic_cost_pull_sends_its_headers_and_reads_cents(api):
    pull("anthropic", "--costs", "--since", "2025-03-10")

    requests = [(q, h) for p, q, h in api.requests if p == ANTHROPIC_COSTS]
    assert len(requests) == 4
    for query, headers in requests:
        assert headers["x-api-key"] == ANTHROPIC_KEY
        assert headers["anthropic-version"] == "2023-06-01"
        assert query["starting_at"] == ["2025-03-10T00:00:00Z"]
        assert datetime.fromisoformat(query["ending_at"][0]) > datetime.now(UTC)  # through today
        assert query["bucket_width"] == ["1d"]
        assert query["group_by[]"] == ["workspace_id", "description"]
        assert query["limit"] == ["31"]
    assert [q.get("page") for q, _ in requests][1:] == [None, ["cursor-2"], ["cursor-4"]]

    assert bill("anthropic_costs") == expected(range(DAYS), anthropic_cost_bucket, anthropic_amount)
    assert bill("anthropic_costs")[naive(0)][1] == Decimal("1.955")  # 120.50 + 75.00 cents
    assert cursor("anthropic:costs") == naive(DAYS - 1)
    assert cursor("anthropic") is None


def test_a_second_pull_resumes_at_the_newest_day_and_restates_it(api):
    pull("openai", "--costs", "--since", "2025-03-10")
    first = bill("openai_costs")

    api.requests.clear()
    again = pull("openai", "--costs")  # from the cursor: the newest day is asked for again
    assert [q["start_time"] for q in api.of(OPENAI_COSTS)] == [[str(int(day(DAYS - 1).timestamp()))]]
    assert "1 page(s)" in again and "over 1 day(s)" in again
    assert bill("openai_costs") == first  # the same day again: replaced, not added

    api.days = DAYS + 2  # two more days, and the provider has finished the day that was filling
    api.scale = {DAYS - 1: 3}
    result = pull("openai", "--costs")
    assert "replaced 3 earlier lines of those days" in result
    stored = bill("openai_costs")
    assert stored == expected(range(DAYS + 2), openai_cost_bucket, openai_amount, api.scale)
    assert stored[naive(DAYS - 1)] != first[naive(DAYS - 1)]
    assert cursor("openai:costs") == naive(DAYS + 1)


def test_a_pull_covering_part_of_a_month_keeps_the_rest_of_that_months_bill(api):
    saved = runner.invoke(app, ["ingest", str(OPENAI_BILL)])  # the bill for March 1st and 2nd
    assert saved.exit_code == 0, saved.output
    pull("openai", "--costs", "--since", "2025-03-10")  # March 10th to 14th
    before = bill("openai_costs")
    saved_days = {d: v for d, v in before.items() if d < naive(0)}
    assert sum(billed for _, billed in saved_days.values()) == OPENAI_BILL_TOTAL

    api.scale = {n: 2 for n in range(DAYS)}  # the provider restates every day ...
    pull("openai", "--costs", "--since", "2025-03-12")  # ... but only the 12th to 14th are pulled
    after = bill("openai_costs")
    assert {d: v for d, v in after.items() if d < naive(2)} == {
        d: v for d, v in before.items() if d < naive(2)
    }
    assert {d: v for d, v in after.items() if d >= naive(2)} == expected(
        range(2, DAYS), openai_cost_bucket, openai_amount, api.scale
    )


def test_a_server_error_is_a_clean_error_and_leaves_the_ledger_as_it_was(api, monkeypatch):
    import comptroller.ingest.provider_pull as provider_pull

    monkeypatch.setattr(provider_pull, "MAX_RETRIES", 1)
    pull("anthropic", "--costs", "--since", "2025-03-10")
    before, cursor_before = bill("anthropic_costs"), cursor("anthropic:costs")

    api.days, api.scale = DAYS + 3, {n: 5 for n in range(DAYS + 3)}
    api.fail_with, api.fail_path, api.good_pages = 500, ANTHROPIC_COSTS, 1  # page 2 fails
    api.requests.clear()
    result = runner.invoke(app, ["pull", "anthropic", "--costs", "--since", "2025-03-10"])
    assert result.exit_code == 2
    assert "anthropic costs API (GET /v1/organizations/cost_report)" in said(result.stderr)
    assert "HTTP 500 after 1 retries" in said(result.stderr)
    assert len(api.of(ANTHROPIC_COSTS)) == 3  # page 1, then page 2 and its one retry
    assert bill("anthropic_costs") == before
    assert cursor("anthropic:costs") == cursor_before

    api.fail_with = None
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-wrong")
    result = runner.invoke(app, ["pull", "anthropic", "--costs"])
    assert result.exit_code == 2
    assert "admin key rejected by the anthropic costs API" in said(result.stderr)
    assert "ANTHROPIC_ADMIN_KEY" in result.stderr
    assert bill("anthropic_costs") == before


def test_all_pulls_usage_and_costs_with_separate_cursors_and_all_or_nothing(api, monkeypatch):
    import comptroller.ingest.provider_pull as provider_pull

    monkeypatch.setattr(provider_pull, "MAX_RETRIES", 0)
    api.rate_limited = True
    api.fail_with, api.fail_path = 503, OPENAI_COSTS  # usage answers, costs do not
    failed = runner.invoke(app, ["pull", "openai", "--all", "--since", "2025-03-01"])
    assert failed.exit_code == 2
    assert "openai costs API (GET /v1/organization/costs) still answering HTTP 503" in said(failed.stderr)
    assert len(api.of(OPENAI_USAGE)) == 1
    assert usage_event_count() == 0 and bill("openai_costs") == {}  # fetched usage was not written
    assert cursor("openai") is None and cursor("openai:costs") is None

    api.fail_with = None
    result = pull("openai", "--all", "--since", "2025-03-01")
    assert "openai usage" in result and "openai costs" in result
    assert usage_event_count() == len(openai_bucket(0)["results"])
    assert bill("openai_costs") == expected(range(DAYS), openai_cost_bucket, openai_amount)
    assert cursor("openai") == datetime(2025, 3, 1)
    assert cursor("openai:costs") == naive(DAYS - 1)

    api.requests.clear()
    pull("openai", "--usage")  # the usage cursor only; the cost endpoint is not asked
    assert api.of(OPENAI_COSTS) == []
    assert [q["start_time"] for q in api.of(OPENAI_USAGE)] == [
        [str(int(datetime(2025, 3, 1, tzinfo=UTC).timestamp()))]
    ]


def test_choosing_two_of_costs_usage_and_all_exits_2(home, monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
    for flags in (["--costs", "--usage"], ["--costs", "--all"], ["--usage", "--all"]):
        result = runner.invoke(app, ["pull", "openai", *flags])
        assert result.exit_code == 2
        assert "choose one of --costs, --usage and" in said(result.stderr)
