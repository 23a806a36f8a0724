"""Contract overrides from the command line, applied to history by re-pricing."""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.config import Settings
from comptroller.context import Context

runner = CliRunner()


def write_events(path):
    calls = [
        {
            "event_id": f"e{i}",
            "timestamp": datetime(2026, 2, 1 + i, 12),
            "source": "gateway",
            "provider": "openai",
            "model": model,
            "uncached_input_tokens": 1_000_000,
            "output_tokens": 100_000,
        }
        for i, model in enumerate(["gpt-4o", "gpt-4o", "gpt-4o-mini"])
    ]
    pq.write_table(pa.Table.from_pylist(calls), path)
    return path


def costs(cost: str, **filters: str) -> float:
    args = ["spend", "--cost", cost, "--json", *[f"--filter={k}={v}" for k, v in filters.items()]]
    return json.loads(runner.invoke(app, args, catch_exceptions=False).stdout)["total"]


def test_ingested_usage_file_is_priced_at_list(home):
    result = runner.invoke(app, ["ingest", str(write_events(home / "calls.parquet"))], catch_exceptions=False)
    assert result.exit_code == 0 and "stored 3 of 3" in result.stdout
    assert costs("contracted") == pytest.approx(costs("list"))
    assert costs("list", model="gpt-4o") == pytest.approx(2 * (2.5 + 1.0))


def test_discount_override_applies_to_history_after_reprice(home):
    runner.invoke(app, ["ingest", str(write_events(home / "calls.parquet"))], catch_exceptions=False)
    list_before = costs("list")
    added = runner.invoke(
        app,
        [
            "prices",
            "override",
            "ea-2026",
            "--provider",
            "openai",
            "--model",
            "gpt-4o",
            "--from",
            "2026-02-02",
            "--discount",
            "20",
        ],
        catch_exceptions=False,
    )
    assert added.exit_code == 0, added.stdout
    assert costs("contracted") == pytest.approx(list_before)  # nothing changes until re-priced
    repriced = runner.invoke(app, ["prices", "reprice"], catch_exceptions=False)
    assert repriced.exit_code == 0 and "3 model calls" in repriced.stdout
    assert costs("list") == pytest.approx(list_before)
    # Only the gpt-4o call on or after 2026-02-02 is discounted; the 02-01 call and gpt-4o-mini are not.
    assert costs("contracted", model="gpt-4o") == pytest.approx(3.5 + 3.5 * 0.8)
    assert costs("contracted", model="gpt-4o-mini") == pytest.approx(costs("list", model="gpt-4o-mini"))
    with Context(Settings.from_env()) as ctx:
        versions = ctx.ledger.execute("SELECT event_id, price_version FROM usage_events ORDER BY event_id")
        assert ctx.ledger.execute("SELECT count(*) FROM usage_events")[0][0] == 3
    assert [v.endswith("+override:ea-2026") for _, v in versions] == [False, True, False]


def test_bad_override_is_named(home):
    result = runner.invoke(
        app,
        [
            "prices",
            "override",
            "x",
            "--provider",
            "openai",
            "--model",
            "gpt-4o",
            "--from",
            "2026-01-01",
            "--discount",
            "150",
        ],
    )
    assert result.exit_code == 2 and "discount_pct" in result.stderr
