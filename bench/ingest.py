"""Ingest throughput: ``ingest_focus`` against raw DuckDB reading the same FOCUS file.

For one generated FOCUS 1.2 export (see ``focus_data.py``) in Parquet and in CSV.gz, each run in
a fresh DuckDB file and in its own child process (so peak RSS belongs to that run alone):

* raw       the named baseline, DuckDB alone: ``CREATE TABLE t AS SELECT * FROM read_parquet(...)``
            / ``read_csv(...)`` into a new database file, then ``close()``;
* ours      ``ingest_focus(ledger, [file])`` into a new ledger file, then ``ledger.close()``;
* re-ingest the same file again into the ledger ``ours`` wrote: a replacing delivery that must
            leave the ledger as it was (it replaces every row the first ingest wrote).

The goal is ours/raw >= 0.5 in rows/s. Wall time is the measure; CPU time (user + system, all
DuckDB threads) is shown beside it because it is steadier when the machine is shared.
``--profile`` takes the ingest SELECT apart step by step (in-memory CREATE TABLE AS each).

    .venv/bin/python bench/ingest.py --rows 5000000
    .venv/bin/python bench/ingest.py --rows 200000                 # quick
    .venv/bin/python bench/ingest.py --rows 1000000 --profile      # where ingest's time goes
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import os
import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import focus_data  # bench/ is sys.path[0] when run as a script

GOAL_RATIO = 0.5
CHILD_TIMEOUT_SECONDS = 900


@dataclass
class Run:
    """What a child process measured."""

    rows: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)
    """step -> (wall seconds, CPU seconds)."""
    note: str = ""
    peak_rss_bytes: int = 0
    load: tuple[float, float] = (0.0, 0.0)
    """1-minute load average before and after."""
    db_bytes: int = 0
    """Size of the database file afterwards."""


@dataclass
class Measurement:
    label: str
    fmt: str
    run: Run

    @property
    def rows_per_second(self) -> float:
        return self.run.rows / self.run.seconds if self.run.seconds else 0.0


# ---------------------------------------------------------------------------------------------
# Child processes.


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_bytes() -> int:
    """Peak resident set of this process (VmHWM), falling back to getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@contextmanager
def _clock(run: Run) -> Iterator[None]:
    """Times the block into ``run`` (wall, CPU and load average around it)."""
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), _cpu_seconds()
    yield
    run.seconds, run.cpu_seconds = time.perf_counter() - wall, _cpu_seconds() - cpu
    run.load = (load, os.getloadavg()[0])


def _child(conn: Connection, target: Callable[..., Run], args: tuple[Any, ...]) -> None:
    try:
        run = target(*args)
        run.peak_rss_bytes = _peak_rss_bytes()
        conn.send(("ok", run))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        conn.close()


def _timed_phases(run: Run) -> None:
    """Wrap the steps of a delivery so one real ``ingest_focus`` call reports where time went."""
    from comptroller.ingest import focus_ingest
    from comptroller.ledger import duckdb_ledger

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), _cpu_seconds()
            try:
                return fn(*args, **kwargs)
            finally:
                w, c = run.phases.get(name, (0.0, 0.0))
                run.phases[name] = (w + time.perf_counter() - wall, c + _cpu_seconds() - cpu)

        return wrapper

    focus_ingest.inspect_focus_files = timed("inspect (DESCRIBE)", focus_ingest.inspect_focus_files)
    focus_ingest.prepare = timed("prepare (distinct Tags/SKU pre-scan)", focus_ingest.prepare)
    focus_ingest.failing_checks = timed("checks", focus_ingest.failing_checks)
    delivery = duckdb_ledger._DuckDBDelivery
    delivery.insert_cost_lines = timed("INSERT ... SELECT", delivery.insert_cost_lines)
    delivery.replace_scopes = timed("replace_scopes (DELETE)", delivery.replace_scopes)


ARROW_LABEL = "ours: ingest_focus --csv-reader arrow"


def ours(path: str, ledger_path: str, csv_reader: str = "duckdb") -> Run:
    import duckdb

    from comptroller.ingest.focus_ingest import ingest_focus
    from comptroller.ledger.store import open_ledger

    run = Run()
    _timed_phases(run)
    with _clock(run):
        ledger = open_ledger(f"duckdb:///{ledger_path}")
        ledger.execute("SET enable_progress_bar = false")  # as in raw(); it only draws on a tty
        result = ingest_focus(ledger, [Path(path)], source="focus", csv_reader=csv_reader)  # type: ignore[arg-type]
        ledger.close()
    run.phases["open, commit, close, other"] = (
        run.seconds - sum(w for w, _ in run.phases.values()),
        run.cpu_seconds - sum(c for _, c in run.phases.values()),
    )
    run.rows = result.rows
    run.db_bytes = Path(ledger_path).stat().st_size
    with duckdb.connect(ledger_path, read_only=True) as con:  # after the clock: not timed
        row = con.execute("SELECT count(*) FROM cost_lines").fetchone()
    held = int(row[0]) if row else 0
    run.note = f"replaced {result.replaced_rows:,}; ledger holds {held:,}" if result.replaced_rows else ""
    return run


def raw(path: str, db_path: str, fmt: str) -> Run:
    import duckdb

    reader = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}')"
    run = Run()
    with _clock(run):
        con = duckdb.connect(db_path)
        con.execute("SET enable_progress_bar = false")
        con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}")
        row = con.execute("SELECT count(*) FROM t").fetchone()
        con.close()
    run.rows = int(row[0]) if row else 0
    run.db_bytes = Path(db_path).stat().st_size
    return run


def profile_steps(path: str, fmt: str) -> Run:
    """The ingest SELECT taken apart: each step CREATE TABLE AS in memory (no disk writes)."""
    import duckdb

    from comptroller.ingest.focus_ingest import inspect_focus_files
    from comptroller.ingest.focus_sources import prepare

    (file,) = inspect_focus_files([Path(path)])
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    reader = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}')"
    run = Run()
    with _clock(run):
        wall, cpu = time.perf_counter(), _cpu_seconds()
        con.execute(f"CREATE TABLE raw AS SELECT * FROM {reader}")
        run.phases[f"raw: SELECT * FROM {reader.split('(')[0]}(...)"] = (
            time.perf_counter() - wall,
            _cpu_seconds() - cpu,
        )
        con.execute("DROP TABLE raw")
        wall, cpu = time.perf_counter(), _cpu_seconds()
        ready = prepare(file, con, fast=True)
        lookups = ready.lookups.bind(con, "_lookup")
        run.phases["ours: prepare (distinct Tags/SkuPriceDetails, lookups)"] = (
            time.perf_counter() - wall,
            _cpu_seconds() - cpu,
        )
        wall, cpu = time.perf_counter(), _cpu_seconds()
        con.execute(f"CREATE TABLE ours AS {file.select_sql('profile', lookups, source=ready.source)}")
        run.phases[f"ours: full ingest SELECT ({'arrow' if ready.registered else 'duckdb'} reader)"] = (
            time.perf_counter() - wall,
            _cpu_seconds() - cpu,
        )
        row = con.execute("SELECT count(*) FROM ours").fetchone()
        run.rows = int(row[0]) if row else 0
    con.close()
    run.note = f"{len(ready.lookups.tags)} distinct Tags, {len(ready.lookups.skus)} distinct SkuPriceDetails"
    return run


def run_child(label: str, fmt: str, target: Callable[..., Run], *args: Any) -> Measurement:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, target, args))
    process.start()
    child.close()
    if not parent.poll(CHILD_TIMEOUT_SECONDS):
        process.kill()
        process.join()
        raise TimeoutError(f"{label} ({fmt}) took longer than {CHILD_TIMEOUT_SECONDS} s")
    status, payload = parent.recv()
    process.join()
    if status != "ok":
        raise RuntimeError(f"{label} ({fmt}) failed: {payload}")
    return Measurement(label, fmt, payload)


# ---------------------------------------------------------------------------------------------
# Orchestration and report.


def remove_database(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def machine() -> str:
    import duckdb

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), {mem:.0f} GiB RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=5_000_000, help="rows in the FOCUS file (default 5,000,000)"
    )
    parser.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet,csv")
    parser.add_argument(
        "--profile", action="store_true", help="only take the ingest SELECT apart, step by step"
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the generated FOCUS files in bench/.data"
    )
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]

    print(f"machine: {machine()}")
    started = time.perf_counter()
    files = focus_data.ensure(args.rows)
    print(
        f"FOCUS file: {files.rows:,} rows, {len(focus_data.FOCUS_COLUMN_ORDER)} columns, one month "
        f"(generated or reused in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    data = focus_data.DATA_DIR
    results: list[Measurement] = []
    try:
        for fmt in formats:
            path = str(files.parquet if fmt == "parquet" else files.csv_gz)
            if args.profile:
                results.append(run_child("profile", fmt, profile_steps, path, fmt))
                continue
            raw_db, ledger_db = data / f"raw_{fmt}.duckdb", data / f"ledger_{fmt}.duckdb"
            arrow_db = data / f"ledger_{fmt}_arrow.duckdb"
            runs: list[tuple[str, Callable[..., Run], tuple[Any, ...]]] = [
                ("raw DuckDB (baseline)", raw, (str(raw_db), fmt)),
                ("ours: ingest_focus", ours, (str(ledger_db),)),
                ("ours: re-ingest, same file", ours, (str(ledger_db),)),
            ]
            if fmt == "csv":
                runs.append((ARROW_LABEL, ours, (str(arrow_db), "arrow")))
            for db in (raw_db, ledger_db, arrow_db):
                remove_database(db)
            try:
                for label, target, extra in runs:
                    m = run_child(label, fmt, target, path, *extra)
                    results.append(m)
                    print(
                        f"  {fmt:8} {label:38} {m.run.seconds:7.2f} s (CPU {m.run.cpu_seconds:6.1f} s) "
                        f"{m.rows_per_second:10,.0f} rows/s  peak {mib(m.run.peak_rss_bytes)} MiB  "
                        f"db {mib(m.run.db_bytes)} MiB  "
                        f"load {m.run.load[0]:.1f}->{m.run.load[1]:.1f}  {m.run.note}",
                        flush=True,
                    )
            finally:
                for db in (raw_db, ledger_db, arrow_db):
                    remove_database(db)
    finally:
        if not args.keep_data:
            focus_data.remove(files)
    print()
    print(profile_report(results) if args.profile else report(results, files))


def report(results: list[Measurement], files: focus_data.FocusFiles) -> str:
    sizes = {
        "parquet": ("Parquet", files.parquet_bytes, files.column_bytes),
        "csv": ("CSV.gz", files.csv_gz_bytes, files.csv_uncompressed_bytes),
    }
    lines = [
        "| Format | Run | Wall s | CPU s | Rows/s | Peak RSS MiB | File MiB | Uncompressed MiB "
        "| Peak RSS / uncompressed | DB file after, MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        name, file_bytes, plain_bytes = sizes[m.fmt]
        run = m.label + (f" ({m.run.note})" if m.run.note else "")
        lines.append(
            f"| {name} | {run} | {m.run.seconds:.1f} | {m.run.cpu_seconds:.1f} | {m.rows_per_second:,.0f} | "
            f"{mib(m.run.peak_rss_bytes)} | {mib(file_bytes)} | {mib(plain_bytes)} | "
            f"{m.run.peak_rss_bytes / plain_bytes:.2f} | {mib(m.run.db_bytes)} |"
        )
    lines += ["", "Uncompressed: Parquet = decoded column bytes; CSV.gz = bytes of the CSV text.", ""]
    for fmt in dict.fromkeys(m.fmt for m in results):
        by_label = {m.label: m for m in results if m.fmt == fmt}
        base = by_label["raw DuckDB (baseline)"]
        for label in ("ours: ingest_focus", ARROW_LABEL):
            if label not in by_label:
                continue
            mine = by_label[label]
            ratio = mine.rows_per_second / base.rows_per_second
            cpu_ratio = base.run.cpu_seconds / mine.run.cpu_seconds
            lines.append(
                f"- {sizes[fmt][0]} {label}: ours/raw = {ratio:.2f} in rows/s "
                f"({'meets' if ratio >= GOAL_RATIO else 'MISSES'} the goal of >= {GOAL_RATIO}); "
                f"{cpu_ratio:.2f} in rows per CPU-second; peak RSS ours/raw = "
                f"{mine.run.peak_rss_bytes / base.run.peak_rss_bytes:.2f}"
            )
    lines.append("")
    for m in results:
        if m.run.phases:
            total = m.run.seconds
            parts = ", ".join(f"{k} {w:.1f} s ({w / total:.0%})" for k, (w, _) in m.run.phases.items())
            lines.append(f"- {sizes[m.fmt][0]} {m.label}: {parts}")
    return "\n".join(lines)


def profile_report(results: list[Measurement]) -> str:
    lines = []
    for m in results:
        name = "Parquet" if m.fmt == "parquet" else "CSV.gz"
        lines += [
            f"{name}, {m.run.rows:,} rows, in-memory CREATE TABLE AS per step ({m.run.note}):",
            "",
            "| Step | Wall s | CPU s |",
            "|---|---:|---:|",
        ]
        lines += [f"| {k} | {w:.2f} | {c:.2f} |" for k, (w, c) in m.run.phases.items()]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
