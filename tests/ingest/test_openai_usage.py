"""OpenAI organization Usage API pages become priced usage events, once, with kinds kept disjoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.errors import IngestError
from comptroller.ingest.openai_usage import read_openai_usage
from comptroller.ingest.sources import detect_source, read_usage_export
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import Pricer, TokenUsage

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = [FIXTURES / "openai_usage_page1.json", FIXTURES / "openai_usage_page2.json"]
EVENT_COLUMNS = (
    "event_id, timestamp, provider, model, project_id, api_key_id, service_tier, tags, "
    "uncached_input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, "
    "requests, list_cost, contracted_cost, pricing_flag"
)
TOLERANCE = Decimal("1e-12")


def fixture_results(pages: list[Path]) -> list[tuple[dict, dict]]:
    """(bucket, result) pairs straight from the JSON, for expectations independent of the reader."""
    return [(b, r) for p in pages for b in json.loads(p.read_text())["data"] for r in b["results"]]


def ingest_files(ledger, paths: list[Path]) -> list:
    return [
        ingest_usage_events(ledger, read_usage_export(p, detect_source(p)), Pricer(), origin=str(p))
        for p in paths
    ]


def stored_events(ledger) -> list[dict]:
    names = [c.strip() for c in EVENT_COLUMNS.split(",")]
    rows = ledger.execute(f"SELECT {EVENT_COLUMNS} FROM usage_events ORDER BY timestamp, event_id")
    return [dict(zip(names, row, strict=True)) for row in rows]


def ledger_state(ledger) -> tuple:
    events = ledger.execute("SELECT count(*), COALESCE(sum(list_cost), 0) FROM usage_events")[0]
    lines = ledger.execute('SELECT count(*), COALESCE(sum("BilledCost"), 0) FROM cost_lines')[0]
    return (*events, *lines)


def assert_priced_like_pricer(ledger, events: list[dict]) -> None:
    """Each stored cost is what the Pricer charges for the same disjoint tokens; the day's FOCUS
    lines add up to the priced events."""
    pricer = Pricer()
    expected_total = Decimal(0)
    for event in events:
        usage = TokenUsage(
            *(
                event[f"{k}_tokens"]
                for k in ("uncached_input", "cache_read", "cache_write", "output", "reasoning")
            )
        )
        priced = pricer.price(
            event["provider"], event["model"], usage, event["timestamp"], event["service_tier"]
        )
        assert event["pricing_flag"] == priced.flag
        if priced.list_cost is None:
            assert event["list_cost"] is None
            continue
        assert abs(event["list_cost"] - priced.list_cost) < TOLERANCE
        assert abs(event["contracted_cost"] - priced.contracted_cost) < TOLERANCE
        expected_total += priced.contracted_cost
    billed = ledger.execute('SELECT COALESCE(sum("BilledCost"), 0) FROM cost_lines')[0][0]
    assert abs(billed - expected_total) < Decimal("1e-9")


def test_token_kinds_are_disjoint_and_summed_from_the_export(ledger):
    results = ingest_files(ledger, PAGES)
    events = stored_events(ledger)
    raw = fixture_results(PAGES)

    assert [r.new_events for r in results] == [3, 3]
    assert len(events) == len(raw) == 6
    assert sum(e["uncached_input_tokens"] for e in events) == sum(
        r["input_tokens"] - r["input_cached_tokens"] for _, r in raw
    )
    assert sum(e["cache_read_tokens"] for e in events) == sum(r["input_cached_tokens"] for _, r in raw)
    assert sum(e["output_tokens"] for e in events) == sum(r["output_tokens"] for _, r in raw)
    assert {e["cache_write_tokens"] for e in events} == {0}
    assert {e["reasoning_tokens"] for e in events} == {0}
    # input = uncached + cache read, result by result: cached tokens neither dropped nor doubled
    by_key = {(e["timestamp"], e["model"], e["api_key_id"]): e for e in events}
    for bucket, r in raw:
        start = datetime.fromtimestamp(bucket["start_time"], UTC).replace(tzinfo=None)
        event = by_key[(start, r["model"], r["api_key_id"])]
        assert event["uncached_input_tokens"] + event["cache_read_tokens"] == r["input_tokens"]
        assert event["service_tier"] == ("batch" if r["batch"] else None)
        assert event["project_id"] == r["project_id"]
        tags = json.loads(event["tags"])
        assert event["requests"] == r["num_model_requests"]
        assert tags["user_id"] == r["user_id"]
    assert {e["provider"] for e in events} == {"openai"}


def test_costs_are_the_pricers_and_unknown_models_are_flagged_not_free(ledger):
    ingest_files(ledger, PAGES)
    events = stored_events(ledger)

    assert_priced_like_pricer(ledger, events)
    unknown = [e for e in events if e["model"] == "acme-distilled-7b"]
    assert len(unknown) == 1
    assert unknown[0]["list_cost"] is None and unknown[0]["pricing_flag"] == "unknown_model"
    assert all(e["list_cost"] > 0 for e in events if e["model"] != "acme-distilled-7b")


def test_re_ingesting_saved_pages_adds_nothing(ledger):
    ingest_files(ledger, PAGES)
    before = ledger_state(ledger)

    again = ingest_files(ledger, [PAGES[1], PAGES[0]])

    assert [r.new_events for r in again] == [0, 0]
    assert [r.received for r in again] == [3, 3]
    assert ledger_state(ledger) == before


def test_event_ids_are_deterministic_and_distinct():
    first = read_openai_usage(PAGES[0])["event_id"].to_pylist()
    assert first == read_openai_usage(PAGES[0])["event_id"].to_pylist()
    both = first + read_openai_usage(PAGES[1])["event_id"].to_pylist()
    assert len(set(both)) == len(both)


def write_pages(tmp_path: Path, edit, fixtures: list[Path] = PAGES) -> Path:
    """Both fixture pages saved as one JSON array, with ``edit`` applied to page 2's results."""
    pages = [json.loads(p.read_text()) for p in fixtures]
    edit(pages[1]["data"][0]["results"])
    path = tmp_path / f"{fixtures[0].stem}_bad.json"
    path.write_text(json.dumps(pages))
    return path


def set_field(index: int, key: str, value: object):
    def edit(results: list[dict]) -> None:
        results[index][key] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "row", "column", "message"),
    [
        (set_field(1, "input_tokens", "4000"), 5, "input_tokens", "'4000' is not a whole number"),
        (set_field(0, "output_tokens", -7), 4, "output_tokens", "count -7 is negative"),
        (set_field(2, "input_cached_tokens", 30001), 6, "input_cached_tokens", "exceed input_tokens"),
        (set_field(1, "model", None), 5, "model", "group_by=model"),
        (set_field(0, "batch", "yes"), 4, "batch", "not true, false or null"),
        (lambda results: results[1].pop("output_tokens"), 5, "output_tokens", "required field"),
    ],
)
def test_malformed_results_are_rejected_naming_the_record(ledger, tmp_path, edit, row, column, message):
    ingest_files(ledger, PAGES[:1])
    before = ledger_state(ledger)
    path = write_pages(tmp_path, edit)

    with pytest.raises(IngestError) as caught:
        ingest_files(ledger, [path])

    problem = caught.value.problems[0]
    assert (problem.file, problem.row, problem.column) == (str(path), row, column)
    assert message in problem.message
    assert ledger_state(ledger) == before


def test_truncated_json_and_pages_without_data_are_rejected(ledger, tmp_path):
    truncated = tmp_path / "truncated.json"
    truncated.write_text(PAGES[0].read_text()[:700])
    no_data = tmp_path / "no_data.json"
    no_data.write_text(json.dumps({"object": "page", "has_more": False}))

    with pytest.raises(IngestError) as bad_json:
        read_openai_usage(truncated)
    with pytest.raises(IngestError) as missing:
        read_openai_usage(no_data)

    assert "is not valid JSON" in bad_json.value.problems[0].message
    assert missing.value.problems[0].column == "data"
    assert ledger_state(ledger) == (0, 0, 0, 0)


def test_json_lines_of_pages_read_like_separate_files(tmp_path):
    lines = tmp_path / "pages.jsonl"
    lines.write_text("\n".join(json.dumps(json.loads(p.read_text())) for p in PAGES))
    assert read_openai_usage(lines).num_rows == 6


runner = CliRunner()


def test_cli_recognises_openai_pages_and_ingests_them_once(home):
    first = runner.invoke(app, ["ingest", *map(str, PAGES)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert first.stdout.count("stored 3 of 3 usage events") == 2
    spend = json.loads(runner.invoke(app, ["spend", "--by", "model", "--json"]).stdout)
    again = runner.invoke(app, ["ingest", *map(str, PAGES)], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert json.loads(runner.invoke(app, ["spend", "--by", "model", "--json"]).stdout) == spend
    assert spend["total"] > 0
    assert "gpt-4o-2024-08-06" in {r["model"] for r in spend["rows"]}


def test_cli_rejects_a_bad_page_and_says_where(home, tmp_path):
    path = write_pages(tmp_path, set_field(1, "input_tokens", "4000"))
    result = runner.invoke(app, ["ingest", "--source", "openai_usage", str(path)])
    assert result.exit_code == 2
    assert "row 5" in result.stderr and "input_tokens" in result.stderr


def test_a_restated_bucket_replaces_the_earlier_save(home, tmp_path):
    """Exports restate their buckets: the hour saved again later, with more calls, wins."""
    page = json.loads(PAGES[0].read_text())
    early = tmp_path / "early.json"
    early.write_text(json.dumps(page))
    runner.invoke(app, ["ingest", str(early)], catch_exceptions=False)
    first_total = json.loads(runner.invoke(app, ["spend", "--json"]).stdout)["total"]
    for bucket in page["data"]:
        for result in bucket["results"]:
            result["output_tokens"] *= 2
    late = tmp_path / "late.json"
    late.write_text(json.dumps(page))
    runner.invoke(app, ["ingest", str(late)], catch_exceptions=False)
    with Context(Settings.from_env()) as ctx:
        events = ctx.ledger.execute("SELECT count(*), sum(output_tokens) FROM usage_events")[0]
    raw = [r for b in page["data"] for r in b["results"]]
    assert events == (len(raw), sum(r["output_tokens"] for r in raw))
    assert json.loads(runner.invoke(app, ["spend", "--json"]).stdout)["total"] > first_total
