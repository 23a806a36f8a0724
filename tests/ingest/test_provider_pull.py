"""``comptroller pull``: paging the providers' usage APIs (a real loopback server speaking their
wire format), retrying a rate limit, storing atomically, remembering and reusing the cursor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.context import Context
from comptroller.ingest.provider_pull import read_cursor
from tests.ingest.admin_api import (
    ANTHROPIC_KEY,
    AdminAPI,
    AdminHandler,
    Query,
    page,
    serving,
    window_start,
)

runner = CliRunner()
START = datetime(2025, 3, 1, tzinfo=UTC)
HOURS = 5
OPENAI_PATH = "/v1/organization/usage/completions"
ANTHROPIC_PATH = "/v1/organizations/usage_report/messages"


def hour(n: int) -> datetime:
    return START + timedelta(hours=n)


def openai_bucket(n: int) -> dict[str, Any]:
    results = [
        {
            "object": "organization.usage.completions.result",
            "input_tokens": 1000 * (n + 1),
            "input_cached_tokens": 100 * n,
            "output_tokens": 50 * (n + 1),
            "num_model_requests": n + 1,
            "model": "gpt-4o-mini-2024-07-18",
            "project_id": "proj_search",
            "api_key_id": "key_a",
        }
    ]
    if n % 2 == 0:
        results.append(
            {
                "object": "organization.usage.completions.result",
                "input_tokens": 2000,
                "output_tokens": 300,
                "num_model_requests": 4,
                "model": "gpt-4o-2024-08-06",
                "project_id": "proj_chat",
                "api_key_id": "key_b",
            }
        )
    start = int(hour(n).timestamp())
    return {"object": "bucket", "start_time": start, "end_time": start + 3600, "results": results}


def anthropic_bucket(n: int) -> dict[str, Any]:
    results = [
        {
            "uncached_input_tokens": 800 * (n + 1),
            "cache_creation": {"ephemeral_5m_input_tokens": 10 * n, "ephemeral_1h_input_tokens": 0},
            "cache_read_input_tokens": 500,
            "output_tokens": 40 * (n + 1),
            "model": "claude-sonnet-4-20250514",
            "workspace_id": "wrkspc_search",
            "api_key_id": "apikey_a",
        }
    ]
    if n % 2 == 1:
        results.append(
            {
                "uncached_input_tokens": 1500,
                "cache_read_input_tokens": 0,
                "output_tokens": 90,
                "model": "claude-3-5-haiku-20241022",
                "workspace_id": "wrkspc_chat",
                "api_key_id": "apikey_b",
            }
        )
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "starting_at": hour(n).strftime(iso),
        "ending_at": hour(n + 1).strftime(iso),
        "results": results,
    }


class UsageAPI(AdminAPI):
    """Both providers' usage endpoints: hourly buckets from the requested start on, one page of
    PER_PAGE at a time, and one 429 before the first real answer."""

    openai_paths = frozenset({OPENAI_PATH})
    anthropic_paths = frozenset({ANTHROPIC_PATH})

    def __init__(self) -> None:
        super().__init__()
        self.hours = HOURS
        self.fail_with: int | None = None

    def respond(self, handler: AdminHandler, path: str, query: Query) -> None:
        if self.fail_with:
            return handler.answer(self.fail_with, {"error": "unavailable"})
        if self.rate_limit_once(handler):
            return None
        first = window_start(query)
        hours = [n for n in range(self.hours) if hour(n) >= first]
        openai = path == OPENAI_PATH
        bucket = openai_bucket if openai else anthropic_bucket
        return handler.answer(200, page(hours, query, bucket, openai=openai))


@pytest.fixture
def api(home, monkeypatch) -> Iterator[UsageAPI]:
    with serving(UsageAPI(), monkeypatch) as server:
        yield server


def pull(*args: str):
    result = runner.invoke(app, ["pull", *args])
    assert result.exit_code == 0, result.output + result.stderr
    return result


def stored(source: str) -> list[dict[str, Any]]:
    with Context() as ctx:
        events = ctx.ledger.usage_events()
        return events.filter(events.source == source).order_by("event_id").to_pyarrow().to_pylist()


def spend_total() -> float:
    result = runner.invoke(app, ["spend", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["total"]


def cursor(provider: str) -> datetime | None:
    with Context() as ctx:
        return read_cursor(ctx.state, provider)


def test_openai_pull_pages_retries_and_stores_every_result(api):
    result = pull("openai", "--since", "2025-03-01")

    queries = api.of(OPENAI_PATH)
    assert len(queries) == 4  # one 429, then three pages of 2 + 2 + 1 buckets
    for query in queries:
        assert query["start_time"] == [str(int(START.timestamp()))]
        assert query["bucket_width"] == ["1h"]
        assert query["group_by"] == ["model", "project_id", "api_key_id"]
        assert "limit" in query
    assert [q.get("page") for q in queries] == [None, None, ["cursor-2"], ["cursor-4"]]

    expected = [r for n in range(HOURS) for r in openai_bucket(n)["results"]]
    events = stored("openai_usage")
    assert len(events) == len(expected) == 8
    assert sum(e["uncached_input_tokens"] + e["cache_read_tokens"] for e in events) == sum(
        r["input_tokens"] for r in expected
    )
    assert sum(e["output_tokens"] for e in events) == sum(r["output_tokens"] for r in expected)
    assert sum(e["requests"] for e in events) == sum(r["num_model_requests"] for r in expected)
    assert {e["timestamp"] for e in events} == {hour(n).replace(tzinfo=None) for n in range(HOURS)}
    assert all(e["list_cost"] is not None for e in events)

    newest = hour(HOURS - 1).replace(tzinfo=None)
    assert cursor("openai") == newest
    assert cursor("anthropic") is None
    assert "3 page(s)" in result.stdout and "8 events" in result.stdout
    assert "cursor 2025-03-01T04:00:00Z" in result.stdout
    assert spend_total() > 0


def test_a_second_pull_resumes_at_the_newest_bucket_without_double_counting(api):
    pull("openai", "--since", "2025-03-01")
    total, events = spend_total(), stored("openai_usage")

    api.requests.clear()
    again = pull("openai")
    queries = api.of(OPENAI_PATH)
    assert [q["start_time"] for q in queries] == [[str(int(hour(HOURS - 1).timestamp()))]]
    assert "1 page(s)" in again.stdout and "2 events" in again.stdout
    assert spend_total() == pytest.approx(total)
    assert [e["event_id"] for e in stored("openai_usage")] == [e["event_id"] for e in events]

    api.hours = HOURS + 2  # two more hours have passed: only the new buckets add spend
    pull("openai")
    assert len(stored("openai_usage")) == len(events) + 3
    assert spend_total() > total
    assert cursor("openai") == hour(HOURS + 1).replace(tzinfo=None)

    api.requests.clear()
    pull("openai", "--since", "2025-03-01")  # --since overrides the cursor; still no double count
    assert api.of(OPENAI_PATH)[0]["start_time"] == [str(int(START.timestamp()))]
    assert len(stored("openai_usage")) == len(events) + 3


def test_anthropic_pull_sends_its_headers_and_parameters(api):
    pull("anthropic", "--since", "2025-03-01")

    requests = [(q, h) for p, q, h in api.requests if p == ANTHROPIC_PATH]
    assert len(requests) == 4
    for query, headers in requests:
        assert headers["x-api-key"] == ANTHROPIC_KEY
        assert headers["anthropic-version"] == "2023-06-01"
        assert query["starting_at"] == ["2025-03-01T00:00:00Z"]
        assert query["bucket_width"] == ["1h"]
        assert query["group_by[]"] == ["model", "workspace_id", "api_key_id"]
    assert [q.get("page") for q, _ in requests][1:] == [None, ["cursor-2"], ["cursor-4"]]

    expected = [r for n in range(HOURS) for r in anthropic_bucket(n)["results"]]
    events = stored("anthropic_usage")
    assert len(events) == len(expected) == 7
    assert sum(e["uncached_input_tokens"] for e in events) == sum(
        r["uncached_input_tokens"] for r in expected
    )
    assert sum(e["cache_write_tokens"] for e in events) == sum(
        r.get("cache_creation", {}).get("ephemeral_5m_input_tokens", 0) for r in expected
    )
    assert cursor("anthropic") == hour(HOURS - 1).replace(tzinfo=None)

    total = spend_total()
    api.requests.clear()
    pull("anthropic")
    assert [q["starting_at"] for p, q, _ in api.requests] == [["2025-03-01T04:00:00Z"]]
    assert spend_total() == pytest.approx(total)
    assert len(stored("anthropic_usage")) == 7


@pytest.mark.parametrize(
    ("provider", "env"), [("openai", "OPENAI_ADMIN_KEY"), ("anthropic", "ANTHROPIC_ADMIN_KEY")]
)
def test_a_rejected_admin_key_is_a_clear_error_and_writes_nothing(api, monkeypatch, provider, env):
    monkeypatch.setenv(env, "sk-wrong")
    result = runner.invoke(app, ["pull", provider, "--since", "2025-03-01"])
    assert result.exit_code == 2
    assert "admin key rejected" in result.stderr and env in result.stderr
    assert len(api.requests) == 1  # a 401 is not retried
    assert cursor(provider) is None
    assert stored(f"{provider}_usage") == []


def test_a_missing_admin_key_or_unknown_provider_exits_2(api, monkeypatch):
    monkeypatch.delenv("OPENAI_ADMIN_KEY")
    result = runner.invoke(app, ["pull", "openai"])
    assert result.exit_code == 2
    assert "OPENAI_ADMIN_KEY" in result.stderr
    result = runner.invoke(app, ["pull", "gemini"])
    assert result.exit_code == 2
    assert "unknown provider 'gemini'" in result.stderr
    assert api.requests == []


def test_a_server_that_keeps_failing_gives_up_after_bounded_retries(api, monkeypatch):
    import comptroller.ingest.provider_pull as provider_pull

    monkeypatch.setattr(provider_pull, "MAX_RETRIES", 2)
    api.fail_with = 503
    result = runner.invoke(app, ["pull", "openai", "--since", "2025-03-01"])
    assert result.exit_code == 2
    assert "HTTP 503 after 2 retries" in result.stderr
    assert len(api.requests) == 3
    assert cursor("openai") is None

    api.fail_with = None
    api.requests.clear()
    monkeypatch.setenv("COMPTROLLER_OPENAI_BASE_URL", api.base + "/elsewhere")  # a 404 is not retried
    result = runner.invoke(app, ["pull", "openai", "--since", "2025-03-01"])
    assert result.exit_code == 2
    assert "HTTP 404" in result.stderr
    assert len(api.requests) == 1
