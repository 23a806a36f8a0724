"""Memoised reports: a result is reused while the ledger and the attribution are unchanged.

Attribution runs at query time, so a report's cost is mostly compiling and running the rule and
allocation expression over every line. The console asks the same questions on every page load;
answering them from memory until a delivery lands or a rule changes keeps pages fast however
large the ledger grows. The fingerprint is one cheap aggregate (count and cost sums) plus the
attribution's own serialisation, so an edit anywhere invalidates exactly what it should.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from comptroller.attribution.specs import Attribution
from comptroller.ledger.store import Ledger, duckdb_path

T = TypeVar("T")


def ledger_fingerprint(ledger: Ledger) -> str:
    """Changes whenever lines are added, removed or re-priced: one aggregate over the lines."""
    table = ledger.cost_lines()
    row = (
        table.aggregate(
            n=table.count(),
            effective=table["EffectiveCost"].sum(),
            listed=table["ListCost"].sum(),
            latest=table["ChargePeriodStart"].max(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    return "|".join(str(row[k]) for k in ("n", "effective", "listed", "latest"))


def duckdb_file_version(url: str) -> str | None:
    """For an embedded DuckDB ledger, the size and modification time of the file and its
    write-ahead log: every committed write changes one of them, and reading them needs no
    connection (so a cached answer costs no database open at all). None for other ledgers."""
    file = duckdb_path(url)
    if file is None or file == ":memory:":
        return None
    path = Path(file)
    parts = []
    for candidate in (path, path.with_name(path.name + ".wal")):
        try:
            stat = candidate.stat()
        except FileNotFoundError:
            parts.append("-")
            continue
        parts.append(f"{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


def ledger_version(url: str, ledger: Callable[[], Ledger]) -> str:
    """The cheapest fingerprint available for the ledger at ``url``."""
    return duckdb_file_version(url) or ledger_fingerprint(ledger())


def attribution_fingerprint(attribution: Attribution) -> str:
    return hashlib.sha256(attribution.model_dump_json().encode()).hexdigest()


class ReportCache:
    """A bounded LRU map from (ledger, attribution, question) to an answer, safe across threads.

    Two requests asking the same new question both compute it; the second result simply
    replaces the first, which is cheaper than holding a lock over a query.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(
        self, ledger_version: str, attribution: Attribution, question: Hashable, compute: Callable[[], T]
    ) -> T:
        """``compute()``'s answer to ``question``, reused while ``ledger_version`` and the
        attribution stay the same."""
        key = (ledger_version, attribution_fingerprint(attribution), question)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
