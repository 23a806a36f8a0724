"""Durability: a gateway process killed with SIGKILL loses none of the events it had flushed."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from comptroller.gateway.spool import encode_record
from comptroller.ingest.gateway_events import drain_spool
from comptroller.pricing import Pricer
from tests.gateway.spool.helpers import spend_event

ROOT = Path(__file__).resolve().parents[3]
REPORTED_AT_LEAST = 3_000


def run_and_kill(directory: Path) -> int:
    """Start the child, let it report at least REPORTED_AT_LEAST durable events, SIGKILL it while
    it keeps appending; returns the last durable count it reported."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.gateway.spool.spool_child", str(directory)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    flushed = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            flushed = int(line.split()[1])
            if flushed >= REPORTED_AT_LEAST:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert flushed >= REPORTED_AT_LEAST, "the child stopped before reporting enough events"
    return flushed


def test_kill_9_loses_nothing_that_was_flushed(tmp_path, ledger, caplog):
    directory = tmp_path / "spool"
    flushed = run_and_kill(directory)
    # A write cut off mid-record, as a kill during os.write leaves it: the orphaned active
    # segment ends in half a record that was never reported as flushed.
    # If the kill landed just after a segment was sealed there is no active one yet: the torn
    # write is then the first write to a fresh segment.
    active = sorted(directory.glob("*.open"))
    assert len(active) <= 1
    orphan = active[0] if active else directory / f"{time.time_ns():020d}-{os.getpid()}-killed.open"
    torn = encode_record(spend_event(10_000_000))
    with orphan.open("ab") as handle:
        handle.write(torn[: len(torn) // 2])

    with caplog.at_level(logging.WARNING):
        result = drain_spool(directory, ledger, Pricer())
    assert result.torn_records == 1 and result.corrupt_records == 0
    assert result.orphans_sealed == 1
    assert "torn final record" in caplog.text

    rows = ledger.execute("SELECT event_id, count(*) FROM usage_events GROUP BY event_id ORDER BY event_id")
    stored = {event_id: copies for event_id, copies in rows}
    assert all(copies == 1 for copies in stored.values())
    assert {f"evt-{n:06d}" for n in range(flushed)} <= set(stored)
    appended_by_then = {f"evt-{n:06d}" for n in range(flushed + 97 * 1_000)}
    assert set(stored) <= appended_by_then  # nothing invented, the torn record not stored
    tokens = ledger.execute(
        'SELECT sum("x_ConsumedTokens") FROM cost_lines WHERE "x_TokenKind" = \'output\''
    )[0][0]
    assert tokens == 100 * len(stored)  # the rollup counts each event once
    assert not list(directory.glob("*.seg")) and not list(directory.glob("*.open"))
