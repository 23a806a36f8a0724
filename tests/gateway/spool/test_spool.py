"""The spool writes checksummed records in batches, rotates segments and survives damage."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest

from comptroller.gateway.events import Outcome
from comptroller.gateway.spool import (
    Spool,
    SpoolClosedError,
    encode_record,
    read_segment,
    seal_orphans,
    segment_is_locked,
    spool_status,
)
from tests.gateway.spool.helpers import spend_event


def segments(directory: Path, suffix: str) -> list[Path]:
    return sorted(directory.glob(f"*{suffix}"))


def all_records(directory: Path) -> list[dict]:
    return [r for p in segments(directory, ".seg") for r in read_segment(p).records]


def test_round_trip_keeps_every_field(tmp_path):
    async def run():
        spool = Spool(tmp_path)
        await spool.start()
        spool.append(spend_event(1, avoided_cost=Decimal("0.5"), prompt={"messages": [b"raw"]}))
        await spool.close()

    asyncio.run(run())
    [record] = all_records(tmp_path)
    assert record["event_id"] == "evt-000001"
    assert record["status"] == "ok"
    assert record["timestamp"] == "2026-03-02T12:00:00+00:00"
    assert Decimal(record["list_cost"]) == Decimal("0.00021")
    assert record["avoided_cost"] == "0.5"  # money stays an exact decimal string
    assert record["attribution"] == {"team": "search", "agent": "triage", "region": "eu"}
    assert record["prompt"] == {"messages": ["raw"]}


def test_append_is_memory_only_until_the_writer_flushes(tmp_path):
    spool = Spool(tmp_path, flush_interval_s=0.01)
    spool.append(spend_event(1))  # not started: queued, nothing on disk
    assert spool.pending_count == 1 and not list(tmp_path.iterdir())
    spool.start_sync()
    spool.flush_sync(timeout_s=5)
    assert spool.durable_count == 1
    [active] = segments(tmp_path, ".open")
    assert segment_is_locked(active)
    spool.close_sync()
    assert not segments(tmp_path, ".open") and len(segments(tmp_path, ".seg")) == 1
    with pytest.raises(SpoolClosedError, match="evt-000002"):
        spool.append(spend_event(2))


def test_segments_rotate_by_size_and_age(tmp_path):
    by_size = tmp_path / "size"
    spool = Spool(by_size, batch_max=10, segment_max_bytes=4_000)
    spool.start_sync()
    for n in range(100):
        spool.append(spend_event(n))
    spool.close_sync()
    sealed = segments(by_size, ".seg")
    assert len(sealed) > 5
    assert [r["event_id"] for r in all_records(by_size)] == [f"evt-{n:06d}" for n in range(100)]

    by_age = tmp_path / "age"
    spool = Spool(by_age, flush_interval_s=0.01, segment_max_age_s=0.05)
    spool.start_sync()
    spool.append(spend_event(1))
    deadline = time.monotonic() + 5
    while not segments(by_age, ".seg") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(segments(by_age, ".seg")) == 1  # sealed by age while the spool is still open
    spool.append(spend_event(2))
    spool.close_sync()
    assert len(segments(by_age, ".seg")) == 2


def test_a_torn_tail_and_a_bad_checksum_are_skipped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "00000000000000000001-1-test.seg"
    good = [encode_record(spend_event(n)) for n in range(4)]
    damaged = bytearray(good[1])
    damaged[20] ^= 0x01  # one flipped bit inside the JSON
    path.write_bytes(good[0] + bytes(damaged) + good[2] + good[3][: len(good[3]) // 2])
    with caplog.at_level(logging.WARNING, "comptroller.gateway.spool"):
        contents = read_segment(path)
    assert [r["event_id"] for r in contents.records] == ["evt-000000", "evt-000002"]
    assert contents.torn_tail and contents.corrupt_lines == [2]
    assert "torn final record" in caplog.text and "line 2" in caplog.text


def test_orphaned_segments_of_dead_writers_are_sealed_live_ones_are_not(tmp_path):
    live = Spool(tmp_path / "s", flush_interval_s=0.01)
    live.start_sync()
    live.append(spend_event(1))
    live.flush_sync()
    orphan = tmp_path / "s" / "00000000000000000001-99-dead.open"
    orphan.write_bytes(encode_record(spend_event(2)))
    empty_new = tmp_path / "s" / "00000000000000000002-99-dead.new"
    empty_new.touch()
    status = spool_status(tmp_path / "s")
    assert (status.active_segments, status.orphaned_segments, status.sealed_segments) == (1, 1, 0)
    assert seal_orphans(tmp_path / "s") == 1
    assert not empty_new.exists() and orphan.with_suffix(".seg").exists()
    assert len(segments(tmp_path / "s", ".open")) == 1  # the live writer keeps its segment
    live.close_sync()
    assert spool_status(tmp_path / "s").sealed_segments == 2


def test_a_failed_write_keeps_the_events_and_retries(tmp_path, caplog):
    directory = tmp_path / "spool"
    spool = Spool(directory, flush_interval_s=0.01, segment_max_bytes=1)  # a segment per batch
    spool.start_sync()
    spool.append(spend_event(1))
    spool.flush_sync()
    directory.rename(tmp_path / "moved")  # the next segment cannot be created
    spool.append(spend_event(2))
    deadline = time.monotonic() + 5
    while not spool.write_errors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert spool.write_errors and spool.pending_count == 1 and spool.durable_count == 1
    directory.mkdir()
    spool.flush_sync(timeout_s=5)
    spool.close_sync()
    assert [r["event_id"] for r in all_records(tmp_path / "moved")] == ["evt-000001"]
    assert [r["event_id"] for r in all_records(directory)] == ["evt-000002"]
    assert "events kept in memory" in caplog.text


def test_many_statuses_and_a_busy_hot_path(tmp_path):
    """Appending 20,000 events costs microseconds each; the writer keeps up in batches."""
    events = [spend_event(n, status=list(Outcome)[n % len(Outcome)]) for n in range(20_000)]
    spool = Spool(tmp_path, batch_max=512)
    spool.start_sync()
    started = time.perf_counter()
    for event in events:
        spool.append(event)
    per_append_us = (time.perf_counter() - started) / len(events) * 1e6
    spool.flush_sync(timeout_s=30)
    spool.close_sync()
    assert per_append_us < 50
    records = all_records(tmp_path)
    assert len(records) == 20_000 and {r["status"] for r in records} == {o.value for o in Outcome}


def test_the_writer_holds_an_exclusive_lock(tmp_path):
    spool = Spool(tmp_path, flush_interval_s=0.01)
    spool.start_sync()
    spool.append(spend_event(1))
    spool.flush_sync()
    [active] = segments(tmp_path, ".open")
    fd = os.open(active, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
        spool.close_sync()


def test_close_gives_up_after_its_grace_period_and_names_what_is_lost(tmp_path, caplog):
    directory = tmp_path / "spool"
    spool = Spool(directory, flush_interval_s=0.01, close_timeout_s=0.2)
    spool.start_sync()
    directory.rmdir()  # the disk is gone for good
    spool.append(spend_event(7))
    started = time.monotonic()
    spool.close_sync()
    assert time.monotonic() - started < 5
    assert "closing with 1 events unwritten (first evt-000007)" in caplog.text


def test_a_quiet_writer_writes_at_once_and_a_busy_one_in_batches(tmp_path, monkeypatch):
    """With a long interval: the first event after a quiet spell is durable without waiting for
    a tick, and events that follow it share the next tick's write."""
    spool = Spool(tmp_path, flush_interval_s=2.0)
    writes: list[int] = []
    write_batch = spool._write_batch
    monkeypatch.setattr(spool, "_write_batch", lambda batch: (writes.append(len(batch)), write_batch(batch)))
    spool.start_sync()
    try:
        started = time.monotonic()
        spool.append(spend_event(1))
        while spool.durable_count < 1:
            assert time.monotonic() - started < 1.0, "the first event waited for a tick"
            time.sleep(0.005)
        for i in range(2, 52):
            spool.append(spend_event(i))
        time.sleep(0.3)
        assert spool.durable_count == 1  # the writer ticks again: the rest wait for it
        spool.flush_sync(5)
        assert writes == [1, 50]
    finally:
        spool.close_sync()


def test_an_idle_writer_stops_ticking_until_an_event_arrives(tmp_path, monkeypatch):
    spool = Spool(tmp_path, flush_interval_s=0.01, segment_max_age_s=0.05, idle_after_s=0.05)
    wakes: list[float | None] = []
    wait = spool._wake.wait
    monkeypatch.setattr(spool._wake, "wait", lambda timeout=None: (wakes.append(timeout), wait(timeout))[1])
    spool.start_sync()
    try:
        for round_ in (1, 2):
            spool.append(spend_event(round_))
            spool.flush_sync(5)
            time.sleep(0.3)  # a few ticks, the segment is sealed, then nothing is due
            assert wakes[-1] is None
            settled = len(wakes)
            time.sleep(0.2)
            assert len(wakes) == settled  # a 10 ms tick would have woken 20 more times
        assert [r["event_id"] for r in all_records(tmp_path)] == ["evt-000001", "evt-000002"]
    finally:
        spool.close_sync()
