"""The ledger keeper holds an embedded ledger between the writes of a burst, and lets other
processes in after an idle spell or a bounded hold."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from comptroller.ledger.keeper import LedgerKeeper
from comptroller.ledger.store import open_ledger


def other_process_can_write(path: Path) -> bool:
    """Whether a separate process gets the file's write lock right now."""
    code = (
        "import duckdb, sys\n"
        "try:\n"
        f"    duckdb.connect({str(path)!r}).close()\n"
        "except duckdb.IOException:\n"
        "    sys.exit(3)\n"
    )
    return subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.duckdb"
    open_ledger(f"duckdb:///{path}").close()
    return path


def test_holds_during_a_burst_and_lets_go_when_idle(ledger_file: Path) -> None:
    keeper = LedgerKeeper(idle_s=0.3, max_hold_s=30, rest_s=0)
    try:
        keeper.keep(f"duckdb:///{ledger_file}")
        assert keeper.holding
        assert not other_process_can_write(ledger_file)
        assert wait_until(lambda: not keeper.holding)
        assert other_process_can_write(ledger_file)
    finally:
        keeper.close()


def test_writes_in_a_burst_are_durable_and_visible_after_release(ledger_file: Path) -> None:
    url = f"duckdb:///{ledger_file}"
    keeper = LedgerKeeper(idle_s=0.2, max_hold_s=30, rest_s=0)
    try:
        for n in range(3):
            keeper.keep(url)
            ledger = open_ledger(url)
            ledger.execute("CREATE TABLE IF NOT EXISTS burst (n INTEGER)")
            ledger.execute("INSERT INTO burst VALUES (?)", [n])
            ledger.close()
            assert keeper.holding  # the request's close did not end the hold
        assert wait_until(lambda: not keeper.holding)
    finally:
        keeper.close()
    con = duckdb.connect(str(ledger_file), read_only=True)
    assert sorted(r[0] for r in con.execute("SELECT n FROM burst").fetchall()) == [0, 1, 2]
    con.close()


def test_a_steady_stream_is_interrupted_so_other_processes_get_a_turn(ledger_file: Path) -> None:
    url = f"duckdb:///{ledger_file}"
    keeper = LedgerKeeper(idle_s=10, max_hold_s=0.4, rest_s=0.5)
    try:
        started = time.monotonic()
        keeper.keep(url)
        released_at = None
        while time.monotonic() - started < 2:
            keeper.keep(url)
            if not keeper.holding and released_at is None:
                released_at = time.monotonic() - started
                assert other_process_can_write(ledger_file)
            time.sleep(0.02)
        assert released_at is not None and released_at < 1.5
    finally:
        keeper.close()


def test_the_file_is_left_alone_when_another_process_has_it(ledger_file: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time\ncon = duckdb.connect({str(ledger_file)!r})\n"
            "print('ready', flush=True)\nsys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    keeper = LedgerKeeper()
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        keeper.keep(f"duckdb:///{ledger_file}")
        assert not keeper.holding
        assert time.monotonic() - started < 1  # no waiting for the lock on the request path
    finally:
        keeper.close()
        holder.communicate("\n", timeout=10)


@pytest.mark.parametrize("url", ["duckdb://:memory:", "postgresql://127.0.0.1:5432/test"])
def test_other_ledgers_are_not_held(url: str) -> None:
    keeper = LedgerKeeper()
    keeper.keep(url)
    assert not keeper.holding
    keeper.close()
