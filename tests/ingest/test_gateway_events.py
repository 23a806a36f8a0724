"""Draining the gateway's spool: costs as the gateway computed them, replay without double
counting, outages that lose nothing, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.errors import LedgerUnavailableError
from comptroller.gateway.events import Outcome, SpendEvent
from comptroller.gateway.spool import Spool, encode_record
from comptroller.ingest.gateway_events import SpoolDrainer, drain_spool
from comptroller.ledger.store import Ledger, open_ledger
from comptroller.pricing import Pricer
from tests.gateway.spool.helpers import spend_event

UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/comptroller_nowhere?connect_timeout=2"


def spool_events(directory: Path, events: list[SpendEvent], **options: float) -> None:
    spool = Spool(directory, **options)  # type: ignore[arg-type]
    spool.start_sync()
    for event in events:
        spool.append(event)
    spool.close_sync()


def events_by_id(ledger: Ledger) -> dict[str, dict]:
    table = ledger.usage_events().to_pyarrow().to_pylist()
    return {row["event_id"]: row for row in table}


def cost_totals(ledger: Ledger) -> tuple[Decimal, Decimal, int]:
    list_cost, contracted, tokens = ledger.execute(
        'SELECT sum("ListCost"), sum("ContractedCost"), sum("x_ConsumedTokens") FROM cost_lines'
    )[0]
    return Decimal(list_cost or 0), Decimal(contracted or 0), int(tokens or 0)


def test_events_keep_the_gateways_costs_and_dimensions(tmp_path, ledger):
    events = [
        spend_event(1),
        # contracted below list (a discount the gateway applied) and a price the ledger's
        # catalog would not give: both kept, split by token kind in the catalog's proportions
        spend_event(
            2, list_cost=Decimal("0.0003"), contracted_cost=Decimal("0.00024"), price_version="deal-7"
        ),
        # the gateway could not price it: the ledger's pricer does
        spend_event(3, list_cost=None, contracted_cost=None, price_version=None),
    ]
    spool_events(tmp_path, events)
    result = drain_spool(tmp_path, ledger, Pricer())
    assert (result.segments, result.new_events, result.duplicates) == (1, 3, 0)
    stored = events_by_id(ledger)
    first, second, third = (stored[f"evt-00000{n}"] for n in (1, 2, 3))
    assert first["source"] == "gateway" and first["list_cost"] == Decimal("0.00021")
    assert first["price_version"] == "gateway-test"
    assert first["list_cost_uncached_input"] == Decimal("0.00015")
    assert first["list_cost_output"] == Decimal("0.00006")
    assert (first["team"], first["agent"], json.loads(first["tags"])) == (
        "search",
        "triage",
        {"region": "eu"},
    )
    assert (first["overhead_ms"], first["route"], first["stream"]) == (0.4, "openai-east (alias fast)", False)
    assert second["contracted_cost"] == Decimal("0.00024") and second["price_version"] == "deal-7"
    assert second["list_cost_uncached_input"] + second["list_cost_output"] == Decimal("0.0003")
    assert second["contracted_cost_uncached_input"] == (Decimal("0.00024") * 15 / 21).quantize(
        Decimal("1e-16")
    )
    assert second["contracted_cost_uncached_input"] + second["contracted_cost_output"] == Decimal("0.00024")
    assert third["list_cost"] == Decimal("0.00021") and third["price_version"].startswith("genai-prices")
    list_cost, contracted, tokens = cost_totals(ledger)
    assert list_cost == Decimal("0.00072") and contracted == Decimal("0.00066")
    assert tokens == 3 * 1_100
    assert not list(tmp_path.glob("*.seg"))


def test_blocked_and_cached_calls_are_events_without_cost(tmp_path, ledger):
    events = [
        spend_event(1),
        spend_event(
            2,
            status=Outcome.BLOCKED_APPROVAL,
            uncached_input_tokens=0,
            output_tokens=0,
            list_cost=None,
            contracted_cost=None,
            block_reason="budget 'search monthly' needs approval",
            approval_request_id="apr-42",
        ),
        spend_event(3, status=Outcome.BLOCKED_KILL_SWITCH, list_cost=Decimal(0), model="not-a-model"),
        # a cache hit reports the cached answer's usage; the provider billed nothing
        spend_event(4, status=Outcome.CACHE_HIT, cache_hit=True, avoided_cost=Decimal("0.00021")),
        spend_event(
            5,
            status=Outcome.UPSTREAM_ERROR,
            uncached_input_tokens=0,
            output_tokens=0,
            list_cost=Decimal(0),
            contracted_cost=Decimal(0),
            error_type="upstream_503",
        ),
    ]
    spool_events(tmp_path, events)
    drain_spool(tmp_path, ledger, Pricer())
    stored = events_by_id(ledger)
    assert len(stored) == 5
    blocked = stored["evt-000002"]
    assert (blocked["status"], blocked["approval_request_id"]) == ("blocked_approval", "apr-42")
    assert blocked["block_reason"].startswith("budget") and blocked["list_cost"] == 0
    killed = stored["evt-000003"]
    assert killed["output_tokens"] == 0 and killed["list_cost"] == 0 and killed["pricing_flag"] is None
    hit = stored["evt-000004"]
    assert hit["cache_hit"] and hit["avoided_cost"] == Decimal("0.00021")
    assert hit["uncached_input_tokens"] == hit["output_tokens"] == 0 and hit["list_cost"] == 0
    assert stored["evt-000005"]["error_type"] == "upstream_503"
    list_cost, _, tokens = cost_totals(ledger)
    assert (list_cost, tokens) == (Decimal("0.00021"), 1_100)  # only the one billed call


def test_replaying_drained_segments_counts_nothing_twice(tmp_path, ledger):
    spool_dir, copies = tmp_path / "spool", tmp_path / "copies"
    spool_events(spool_dir, [spend_event(n) for n in range(300)], batch_max=20, segment_max_bytes=20_000)
    shutil.copytree(spool_dir, copies)
    first = drain_spool(spool_dir, ledger, Pricer(), batch_size=100)
    assert first.new_events == 300 and first.segments > 3 and len(first.deliveries) > 1
    before = cost_totals(ledger)
    # a crash between the ledger commit and the deletion: the same segments come back
    for segment in copies.glob("*.seg"):
        shutil.copy(segment, spool_dir / segment.name)
    spool_events(spool_dir, [spend_event(n) for n in range(250, 320)])  # overlapping new traffic
    again = drain_spool(spool_dir, ledger, Pricer(), batch_size=100)
    assert (again.new_events, again.duplicates) == (20, 300 + 50)
    assert len(events_by_id(ledger)) == 320
    list_cost, contracted, tokens = cost_totals(ledger)
    assert tokens == 320 * 1_100 and list_cost == Decimal("0.00021") * 320 == before[0] * 320 / 300
    assert contracted == list_cost


def test_archive_keeps_drained_segments(tmp_path, ledger):
    spool_events(tmp_path / "spool", [spend_event(1)])
    result = drain_spool(tmp_path / "spool", ledger, Pricer(), archive=tmp_path / "archive")
    assert result.segments == 1 and len(list((tmp_path / "archive").glob("*.seg"))) == 1


def test_live_segments_can_be_drained_early_and_again_later(tmp_path, ledger):
    spool = Spool(tmp_path, flush_interval_s=0.01)
    spool.start_sync()
    for n in range(10):
        spool.append(spend_event(n))
    spool.flush_sync()
    early = drain_spool(tmp_path, ledger, Pricer(), include_active=True)
    assert (early.active_events, early.new_events, early.segments) == (10, 10, 0)
    assert len(list(tmp_path.glob("*.open"))) == 1  # still the writer's
    spool.append(spend_event(10))
    spool.close_sync()
    later = drain_spool(tmp_path, ledger, Pricer())
    assert (later.new_events, later.duplicates, later.segments) == (1, 10, 1)
    assert cost_totals(ledger)[2] == 11 * 1_100


def test_a_bad_record_is_rejected_and_the_rest_stored(tmp_path, ledger, caplog):
    tmp_path.joinpath("00000000000000000001-1-x.seg").write_bytes(
        encode_record(spend_event(1))
        + encode_record({"event_id": "evt-bad", "timestamp": "2026-03-02T12:00:00Z", "status": "ok"})
        + encode_record({**spend_event(3).to_dict(), "output_tokens": -5})
    )
    result = drain_spool(tmp_path, ledger, Pricer())
    assert (result.new_events, result.rejected_records, result.segments) == (1, 2, 1)
    assert "field provider is missing" in caplog.text and "not a non-negative integer" in caplog.text


def test_an_unreachable_ledger_leaves_the_spool_for_the_next_drain(tmp_path, ledger_url):
    spool_events(tmp_path, [spend_event(n) for n in range(50)], batch_max=5, segment_max_bytes=5_000)
    segments = sorted(p.name for p in tmp_path.glob("*.seg"))
    down = SpoolDrainer(tmp_path, lambda: open_ledger(UNREACHABLE_PG), interval_s=0.05)
    with pytest.raises(LedgerUnavailableError, match="segments stay queued"):
        down.run_once()
    assert sorted(p.name for p in tmp_path.glob("*.seg")) == segments
    up = SpoolDrainer(tmp_path, lambda: open_ledger(ledger_url), interval_s=0.05)
    result = up.run_once()
    assert result is not None and result.new_events == 50
    assert up.run_once() is None  # nothing left
    with open_ledger(ledger_url) as ledger:
        assert len(events_by_id(ledger)) == 50


@pytest.mark.postgres
def test_postgres_going_down_mid_drain_loses_nothing(tmp_path, pg_url):
    spool_events(tmp_path, [spend_event(n) for n in range(40)], batch_max=5, segment_max_bytes=4_000)
    name = pg_url.rsplit("/", 1)[1]
    admin_url = pg_url.rsplit("/", 1)[0] + "/postgres"
    ledger = open_ledger(pg_url)  # connected while the server still accepts connections
    try:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            with pytest.raises(LedgerUnavailableError, match="stay in the spool"):
                drain_spool(tmp_path, ledger, Pricer(), batch_size=10)
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert len(list(tmp_path.glob("*.seg"))) > 1
        result = drain_spool(tmp_path, ledger, Pricer(), batch_size=10)
        assert result.new_events == 40 and not list(tmp_path.glob("*.seg"))
        assert cost_totals(ledger)[2] == 40 * 1_100
    finally:
        ledger.close()
        for table in ("cost_lines", "usage_events"):
            with psycopg.connect(pg_url, autocommit=True) as con:
                con.execute(f'DROP TABLE IF EXISTS "{table}"')


def test_the_background_drainer_follows_the_spool_and_survives_an_outage(tmp_path, ledger_url):
    target = {"url": UNREACHABLE_PG}
    drainer = SpoolDrainer(tmp_path, lambda: open_ledger(target["url"]), interval_s=0.05, max_backoff_s=0.1)
    drainer.start()
    try:
        spool_events(tmp_path, [spend_event(n) for n in range(5)])
        deadline = time.monotonic() + 10
        while drainer.failures < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert drainer.failures >= 2 and isinstance(drainer.last_error, LedgerUnavailableError)
        target["url"] = ledger_url  # the database is back
        while drainer.last_result is None and time.monotonic() < deadline:
            time.sleep(0.02)
        spool_events(tmp_path, [spend_event(n) for n in range(5, 8)])
    finally:
        drainer.stop()  # a final drain picks up whatever arrived last
    assert drainer.failures == 0 and drainer.last_error is None
    with open_ledger(ledger_url) as ledger:
        assert len(events_by_id(ledger)) == 8


def test_cli_drain_and_status(home, tmp_path):
    spool_dir = tmp_path / "home" / "spool"
    spool_events(spool_dir, [spend_event(n) for n in range(3)])
    runner = CliRunner()
    status = runner.invoke(app, ["spool", "status", "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.output)["sealed_segments"] == 1
    drained = runner.invoke(app, ["spool", "drain", "--dir", str(spool_dir), "--json"])
    assert drained.exit_code == 0, drained.output
    assert json.loads(drained.output)["new_events"] == 3
    again = runner.invoke(app, ["spool", "drain"])
    assert again.exit_code == 0 and "0 new event(s)" in " ".join(again.output.split())


def test_cli_drain_reports_an_unreachable_ledger(home, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPTROLLER_LEDGER_URL", UNREACHABLE_PG)
    spool_dir = tmp_path / "spool"
    spool_events(spool_dir, [spend_event(1)])
    result = CliRunner().invoke(app, ["spool", "drain", "--dir", str(spool_dir)])
    assert result.exit_code == 2
    assert "ledger_unavailable" in result.output
    assert len(list(spool_dir.glob("*.seg"))) == 1
