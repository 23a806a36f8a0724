"""Anthropic Admin API usage report pages become priced usage events, once, kinds kept disjoint."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.errors import IngestError
from comptroller.ingest.anthropic_usage import read_anthropic_usage
from comptroller.ingest.sources import detect_source
from tests.ingest.test_openai_usage import (
    assert_priced_like_pricer,
    fixture_results,
    ingest_files,
    ledger_state,
    set_field,
    stored_events,
    write_pages,
)

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = [FIXTURES / "anthropic_usage_page1.json", FIXTURES / "anthropic_usage_page2.json"]


def cache_writes(result: dict) -> int:
    return sum(result["cache_creation"].values())


def test_token_kinds_are_disjoint_and_summed_from_the_export(ledger):
    results = ingest_files(ledger, PAGES)
    events = stored_events(ledger)
    raw = fixture_results(PAGES)

    assert [r.new_events for r in results] == [3, 2]
    assert len(events) == len(raw) == 5
    for kind, field in (
        ("uncached_input", "uncached_input_tokens"),
        ("cache_read", "cache_read_input_tokens"),
        ("output", "output_tokens"),
    ):
        assert sum(e[f"{kind}_tokens"] for e in events) == sum(r[field] for _, r in raw)
    assert sum(e["cache_write_tokens"] for e in events) == sum(cache_writes(r) for _, r in raw)
    assert {e["reasoning_tokens"] for e in events} == {0}
    by_key = {(e["timestamp"], e["model"], e["api_key_id"]): e for e in events}
    for bucket, r in raw:
        start = datetime.fromisoformat(bucket["starting_at"]).replace(tzinfo=None)
        event = by_key[(start, r["model"], r["api_key_id"])]
        assert event["project_id"] == r["workspace_id"]
        assert event["service_tier"] == r["service_tier"]
        assert event["cache_write_tokens"] == cache_writes(r)
        tags = json.loads(event["tags"])
        assert tags["cache_write_1h_tokens"] == r["cache_creation"]["ephemeral_1h_input_tokens"]
        assert tags["cache_write_5m_tokens"] == r["cache_creation"]["ephemeral_5m_input_tokens"]
        assert tags.get("web_search_requests", 0) == (
            (r["server_tool_use"] or {}).get("web_search_requests", 0)
        )
    assert {e["provider"] for e in events} == {"anthropic"}


def test_costs_are_the_pricers_and_unknown_models_are_flagged_not_free(ledger):
    ingest_files(ledger, PAGES)
    events = stored_events(ledger)

    assert_priced_like_pricer(ledger, events)
    unknown = [e for e in events if e["model"] == "acme-distilled-7b"]
    assert len(unknown) == 1 and unknown[0]["list_cost"] is None
    assert unknown[0]["pricing_flag"] == "unknown_model"


def test_re_ingesting_saved_pages_adds_nothing(ledger):
    ingest_files(ledger, PAGES)
    before = ledger_state(ledger)

    again = ingest_files(ledger, PAGES)

    assert [r.new_events for r in again] == [0, 0]
    assert ledger_state(ledger) == before


def _cache_5m(value: object):
    def edit(results: list[dict]) -> None:
        results[0]["cache_creation"]["ephemeral_5m_input_tokens"] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "row", "column", "message"),
    [
        (set_field(1, "uncached_input_tokens", "1500"), 5, "uncached_input_tokens", "not a whole number"),
        (set_field(0, "cache_read_input_tokens", -1), 4, "cache_read_input_tokens", "negative"),
        (_cache_5m("12"), 4, "cache_creation.ephemeral_5m_input_tokens", "not a whole number"),
        (set_field(1, "cache_creation", [500]), 5, "cache_creation", "not an object"),
        (set_field(0, "model", None), 4, "model", "group_by=model"),
        (set_field(1, "workspace_id", 42), 5, "workspace_id", "not a string"),
    ],
)
def test_malformed_results_are_rejected_naming_the_record(ledger, tmp_path, edit, row, column, message):
    ingest_files(ledger, PAGES[:1])
    before = ledger_state(ledger)
    path = write_pages(tmp_path, edit, PAGES)

    with pytest.raises(IngestError) as caught:
        ingest_files(ledger, [path])

    problem = caught.value.problems[0]
    assert (problem.file, problem.row, problem.column) == (str(path), row, column)
    assert message in problem.message
    assert ledger_state(ledger) == before


def test_bad_bucket_times_truncated_json_and_missing_data_are_rejected(tmp_path):
    pages = [json.loads(p.read_text()) for p in PAGES]
    pages[1]["data"][0]["starting_at"] = "yesterday"
    bad_time = tmp_path / "bad_time.json"
    bad_time.write_text(json.dumps(pages))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(PAGES[1].read_text()[:500])
    no_data = tmp_path / "no_data.json"
    no_data.write_text(json.dumps({"has_more": False, "next_page": None}))

    for path, column in ((bad_time, "starting_at"), (truncated, None), (no_data, "data")):
        with pytest.raises(IngestError) as caught:
            read_anthropic_usage(path)
        assert caught.value.problems[0].column == column
    with pytest.raises(IngestError) as caught:
        read_anthropic_usage(bad_time)
    assert {p.row for p in caught.value.problems} == {4, 5}


def test_detection_tells_the_two_providers_apart():
    assert detect_source(PAGES[0]) == "anthropic_usage"
    assert detect_source(FIXTURES / "openai_usage_page1.json") == "openai_usage"


runner = CliRunner()


def test_cli_recognises_anthropic_pages_and_ingests_them_once(home):
    first = runner.invoke(app, ["ingest", *map(str, PAGES)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "stored 3 of 3 usage events" in first.stdout and "stored 2 of 2 usage events" in first.stdout
    spend = json.loads(runner.invoke(app, ["spend", "--by", "model", "--json"]).stdout)
    again = runner.invoke(app, ["ingest", str(PAGES[0])], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert json.loads(runner.invoke(app, ["spend", "--by", "model", "--json"]).stdout) == spend
    assert "claude-sonnet-4-20250514" in {r["model"] for r in spend["rows"]}


def test_cli_rejects_a_bad_page_and_leaves_the_ledger_alone(home, tmp_path):
    runner.invoke(app, ["ingest", str(PAGES[0])], catch_exceptions=False)
    before = json.loads(runner.invoke(app, ["spend", "--json"]).stdout)["total"]
    path = write_pages(tmp_path, set_field(0, "output_tokens", -5), PAGES)

    result = runner.invoke(app, ["ingest", str(path)])

    assert result.exit_code == 2
    assert "row 4" in result.stderr and "output_tokens" in result.stderr
    assert json.loads(runner.invoke(app, ["spend", "--json"]).stdout)["total"] == before
