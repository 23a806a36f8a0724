"""A progress bar fed by DuckDB's own estimate of a running statement's progress."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from comptroller.cli.output import errors

POLL_SECONDS = 0.2


@contextmanager
def watch_query(con: duckdb.DuckDBPyConnection, label: str) -> Iterator[None]:
    """Poll ``query_progress`` from a second thread while the caller runs its statement."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=errors,
        transient=not errors.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=100)
        done = threading.Event()

        def poll() -> None:
            while not done.wait(POLL_SECONDS):
                try:
                    fraction = con.query_progress()
                except duckdb.Error:
                    return
                if fraction >= 0:
                    progress.update(task, completed=fraction)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            yield
        finally:
            done.set()
            poller.join()
            progress.update(task, completed=100)
