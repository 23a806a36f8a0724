"""Daily totals of the attributed lines, kept in memory: the spend explorer's questions without a
pass over the ledger.

Attribution runs at query time, so every new explorer question (another group-by, filter or
grain) would scan, rank, attribute and allocate every line of its period again; on millions of
lines that is seconds per question. Instead, the first question of a period sums that period's
attributed lines once per day and per combination of every business dimension and the ledger
columns the explorer offers, into an in-process DuckDB table (in the background, once that
first question has been answered directly). Every later question of the same period, whatever
it groups or filters by, is a small aggregate of that table.

The totals are exact: each is a decimal sum of the same attributed amounts a direct query adds
up, and a period's lines (and so its precedence and allocation) are the same for both. A cube
belongs to one version of an embedded DuckDB ledger file (its size and modification time), one
attribution, one cost kind, one allocation choice and one period; any change makes a new one.
Other ledgers, tags and ledger columns outside the cube are answered by the direct query.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir

from comptroller.attribution.specs import Attribution
from comptroller.ledger.schema import BUSINESS_DIMENSIONS
from comptroller.ledger.store import Ledger, open_ledger
from comptroller.reports.cache import attribution_fingerprint, duckdb_file_version
from comptroller.reports.dimensions import filter_dimensions
from comptroller.reports.prepared import LINES, splice

LEDGER_COLUMNS: tuple[str, ...] = (
    "ServiceName",
    "ServiceCategory",
    "ProviderName",
    "SubAccountName",
    "RegionName",
    "ChargeCategory",
    "x_Source",
)
"""Ledger columns the explorer offers to group and filter by, kept in every cube."""

COLUMNS: frozenset[str] = frozenset((*BUSINESS_DIMENSIONS, *LEDGER_COLUMNS))
MAX_ROWS = 2_000_000
"""A period whose daily combinations outnumber this is not kept: its cube would be nearly as
large as its lines and save little."""
_KEPT = 4

_store = duckdb.connect()
_cubes: OrderedDict[Hashable, DailyCube | None] = OrderedDict()
_builds: dict[Hashable, threading.Thread] = {}
_lock = threading.Lock()
_names = itertools.count()
log = logging.getLogger(__name__)


class DailyCube:
    """One period's daily totals, with the interface of ``prepared.PreparedLines``: build the
    question on ``table`` (filters through :meth:`filtered`) and run it with :meth:`fetch`."""

    def __init__(self, name: str, schema: ibis.Schema, rows: int) -> None:
        self.name = name
        self.rows = rows
        self.table = ibis.table(schema, name=LINES)

    def filtered(self, filters: dict[str, str]) -> ir.Table:
        """``table`` restricted to rows whose dimension equals each filter ('' means unset)."""
        return filter_dimensions(self.table, filters)

    def fetch(self, expr: ir.Table) -> list[dict[str, Any]]:
        sql = splice(f'SELECT * FROM "{self.name}"', str(ibis.to_sql(expr, dialect="duckdb", pretty=False)))
        cursor = _store.cursor()
        try:
            return cursor.sql(sql).to_arrow_table().to_pylist()
        finally:
            cursor.close()


def daily_cube(
    ledger: Ledger,
    attribution: Attribution,
    query: Any,
    amount: str,
    names: Iterable[str],
) -> DailyCube | None:
    """The daily totals of ``query``'s period (a ``spend.SpendQuery``) on ``amount``, waiting
    for them if they are being built; None when they are neither kept nor being built (answer
    directly, then :func:`build_later`), when the ledger is not an embedded DuckDB file, when a
    dimension in ``names`` is not kept in cubes, or when the period's cube would be too large."""
    key = _key(ledger, attribution, query, amount, names)
    if key is None:
        return None
    with _lock:
        if key in _cubes:
            _cubes.move_to_end(key)
            return _cubes[key]
        running = _builds.get(key)
    if running is None:
        return None
    running.join()
    with _lock:
        return _cubes.get(key)


def build_later(
    ledger: Ledger, attribution: Attribution, query: Any, amount: str, names: Iterable[str]
) -> None:
    """Start building the daily totals :func:`daily_cube` did not have, in the background.
    Summing every combination costs about twice one question's query, so the question that
    found no cube is answered directly first and only then starts the build; the next question
    of the period waits for it rather than scan the ledger again."""
    key = _key(ledger, attribution, query, amount, names)
    if key is None:
        return
    with _lock:
        if key in _cubes or key in _builds:
            return
        thread = threading.Thread(
            target=_build_into, args=(key, f"duckdb:///{key[0]}", attribution, query, amount), daemon=True
        )
        _builds[key] = thread
        thread.start()


def _key(
    ledger: Ledger, attribution: Attribution, query: Any, amount: str, names: Iterable[str]
) -> Hashable | None:
    path = getattr(ledger, "path", None)
    version = duckdb_file_version(f"duckdb:///{path}") if isinstance(path, str) else None
    if version is None or not set(names) <= COLUMNS:
        return None
    if query.start and query.end and query.start > query.end:
        return None  # the direct query says why the period is empty
    return (
        path,
        version,
        attribution_fingerprint(attribution),
        amount,
        query.allocate,
        query.start,
        query.end,
    )


def settle() -> None:
    """Wait for the cubes being built (the start-up warm-up, tests)."""
    with _lock:
        running = list(_builds.values())
    for thread in running:
        thread.join()


def _build_into(key: Hashable, url: str, attribution: Attribution, query: Any, amount: str) -> None:
    """Build a cube on a connection of its own (the asker's closes with its request) and keep it;
    a failure only leaves the period to direct queries, and the next asker tries again."""
    try:
        with open_ledger(url) as ledger:
            cube = _build(ledger, attribution, query, amount)
    except Exception:
        log.warning("daily totals for %s not built", key[3:], exc_info=True)
        with _lock:
            _builds.pop(key, None)
        return
    with _lock:
        _cubes[key] = cube
        _builds.pop(key, None)
        while len(_cubes) > _KEPT:
            _, evicted = _cubes.popitem(last=False)
            if evicted is not None:
                _drop(evicted.name)


def _build(ledger: Ledger, attribution: Attribution, query: Any, amount: str) -> DailyCube | None:
    # Imported here: spend's reports build on this module.
    from comptroller.reports.spend import SpendQuery, prepared_lines

    whole = SpendQuery(start=query.start, end=query.end, cost=query.cost, allocate=query.allocate)
    prepared, table = prepared_lines(ledger, attribution, whole, [amount], [])
    kept = [c for c in (*BUSINESS_DIMENSIONS, *LEDGER_COLUMNS) if c in table.columns]
    daily = table.group_by(
        ChargePeriodStart=table["ChargePeriodStart"].truncate("D"),
        BillingCurrency=table["BillingCurrency"],
        **{c: table[c] for c in kept},
    ).aggregate(**{amount: table[amount].sum()})
    sql = prepared.sql(daily)
    arrow = ledger.backend.con.sql(f"{sql} LIMIT {MAX_ROWS + 1}").to_arrow_table()  # type: ignore[attr-defined]
    if arrow.num_rows > MAX_ROWS:
        return None
    name = f"daily_{next(_names)}"
    cursor = _store.cursor()
    try:
        cursor.register("_arrow", arrow)
        cursor.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _arrow')
        cursor.unregister("_arrow")
    finally:
        cursor.close()
    return DailyCube(name, ibis.Schema.from_pyarrow(arrow.schema), arrow.num_rows)


def _drop(name: str) -> None:
    cursor = _store.cursor()
    try:
        cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
    finally:
        cursor.close()


def clear() -> None:
    """Forget every cube (tests, and a process that knows the ledger was replaced)."""
    settle()
    with _lock:
        for cube in _cubes.values():
            if cube is not None:
                _drop(cube.name)
        _cubes.clear()
