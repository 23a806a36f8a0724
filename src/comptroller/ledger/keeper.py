"""Holding an embedded ledger open across a burst of small writes.

Opening a DuckDB file costs tens of milliseconds, and closing its last connection checkpoints
the write-ahead log into the file, which costs more. Paid by every export of a busy OTLP
exporter, those two were most of each request. DuckDB shares one database instance between
the connections of a process, so while a keeper connection stays open, each request's own
connect is a cache hit and its close checkpoints nothing; the write-ahead log is checkpointed
when it grows past DuckDB's threshold, or when the keeper lets go.

The file admits one writing process, and the CLI waits for it (``ledger.store``), so the keeper
never holds it long: it lets go after ``idle_s`` without a burst, and always ``max_hold_s``
after taking it, then rests ``rest_s`` before taking it again, which gives a waiting command
its turn. Its close, with the checkpoint, runs in the keeper's own thread, off the request path.
"""

from __future__ import annotations

import threading
import time

import duckdb

from comptroller.ledger.store import duckdb_path

IDLE_S = 1.0
MAX_HOLD_S = 5.0
REST_S = 1.0


class LedgerKeeper:
    """Call :meth:`keep` before a write that is likely one of many; a no-op for PostgreSQL."""

    def __init__(
        self, idle_s: float = IDLE_S, max_hold_s: float = MAX_HOLD_S, rest_s: float = REST_S
    ) -> None:
        self.idle_s = idle_s
        self.max_hold_s = max_hold_s
        self.rest_s = rest_s
        self._wake = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._path: str | None = None
        self._opened = 0.0
        self._last_used = 0.0
        self._resting_until = 0.0
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def holding(self) -> bool:
        return self._con is not None

    def keep(self, url: str) -> None:
        """Hold the ledger at ``url`` open for the burst this write belongs to, if it is free."""
        path = duckdb_path(url)
        if path is None or path == ":memory:":
            return
        with self._wake:
            now = time.monotonic()
            if self._stopped:
                return
            if self._con is None:
                if now < self._resting_until:
                    return
                try:
                    self._con = duckdb.connect(path)
                except duckdb.Error:  # another process has the file; the write waits its turn
                    return
                self._path, self._opened = path, now
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="ledger-keeper", daemon=True)
                    self._thread.start()
                self._wake.notify()
            elif path != self._path:
                return
            self._last_used = now

    def close(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()
        self._release()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopped:
                    return
                if self._con is None:
                    self._wake.wait()
                    continue
                now = time.monotonic()
                idle_end = self._last_used + self.idle_s
                hold_end = self._opened + self.max_hold_s
                if now < min(idle_end, hold_end):
                    self._wake.wait(min(idle_end, hold_end) - now)
                    continue
                if now >= hold_end:
                    self._resting_until = now + self.rest_s
            self._release()

    def _release(self) -> None:
        with self._wake:
            con, self._con, self._path = self._con, None, None
        if con is not None:
            con.close()
