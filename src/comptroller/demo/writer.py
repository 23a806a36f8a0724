"""The demo's period arithmetic, FOCUS row helpers and byte-stable file writers.

Generators build rows as plain dicts of Decimal/datetime/str so the same row can be written as a
CSV with empty cells, a CSV with literal ``NULL`` cells, or a typed Parquet file; the quirks of
each export live here and nowhere else. Writers never consult the clock or the file system's
state, so the same rows always give the same bytes (gzip mtime is pinned to 0).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from comptroller.ledger.schema import FOCUS_COLUMNS, Column, Kind

Row = dict[str, Any]

COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
TEN_PLACES = Decimal("0.0000000001")
UTC = dt.UTC


@dataclass(frozen=True, slots=True)
class Period:
    """``months`` calendar months ending with the month of ``end``; the last one month-to-date."""

    start: dt.date
    end: dt.date
    """Inclusive: the last day with data."""

    @classmethod
    def ending(cls, end: dt.date, months: int) -> Period:
        if months < 1:
            raise ValueError("months must be at least 1")
        year, month = end.year, end.month - (months - 1)
        while month < 1:
            month += 12
            year -= 1
        return cls(dt.date(year, month, 1), end)

    @property
    def days(self) -> list[dt.date]:
        n = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(n)]

    @property
    def months(self) -> list[tuple[dt.date, dt.date]]:
        """(first day, first day of the next month) for each billing month in the period."""
        out, first = [], self.start
        while first <= self.end:
            nxt = next_month(first)
            out.append((first, nxt))
            first = nxt
        return out

    def month_days(self, first: dt.date) -> list[dt.date]:
        return [d for d in self.days if (d.year, d.month) == (first.year, first.month)]


def next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def at_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def money(value: Decimal) -> Decimal:
    """Costs carry ten places like real exports; generators keep products exact at that scale."""
    return value.quantize(TEN_PLACES)


def weekday_factor(day: dt.date, weekend: float) -> float:
    """Business traffic: weekends run at a fraction of a weekday."""
    return weekend if day.weekday() >= 5 else 1.0


def running_hours(rng: np.random.Generator, day: dt.date, weekday: str, weekend: str) -> Decimal:
    """Hours a resource ran on ``day``, drawn from its weekday or weekend 'lo~hi' range; a range
    starting at 24 means always on, which is what makes an idle GPU expensive."""
    lo, hi = span(weekend if day.weekday() >= 5 else weekday)
    return Decimal("24.00") if lo >= 24 else dec(rng.uniform(lo, hi), 2)


def dec(value: float, places: int) -> Decimal:
    """A float from numpy made into an exact decimal with a fixed number of places."""
    return Decimal(f"{value:.{places}f}")


def billed_by(account_id: str, account_name: str, issuer: str, provider: str) -> Row:
    """The columns every row of one vendor's export repeats: who bills whom, in USD."""
    return {
        "BillingAccountId": account_id,
        "BillingAccountName": account_name,
        "BillingCurrency": "USD",
        "InvoiceIssuerName": issuer,
        "ProviderName": provider,
        "PublisherName": provider,
    }


def costs(list_price: Decimal, contracted_price: Decimal, quantity: Decimal, effective: Decimal) -> Row:
    """Prices, quantity and the four costs of a row that was billed as it was consumed (billed =
    effective); list and contracted cost follow from unit price x quantity, exactly."""
    return {
        "PricingQuantity": quantity,
        "ListUnitPrice": list_price,
        "ContractedUnitPrice": contracted_price,
        "ListCost": money(list_price * quantity),
        "ContractedCost": money(contracted_price * quantity),
        "BilledCost": money(effective),
        "EffectiveCost": money(effective),
    }


def usage(day: dt.date, prices: tuple[Decimal, Decimal], quantity: Decimal, unit: str, **extra: Any) -> Row:
    """A daily Usage row at on-demand rates; ``extra`` adds or overrides columns."""
    list_price, contracted = prices
    row = daily(day) | costs(list_price, contracted, quantity, contracted * quantity)
    row |= {
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "PricingCategory": "Standard",
        "PricingUnit": unit,
        "ConsumedQuantity": quantity,
        "ConsumedUnit": unit,
    }
    return row | extra


def token_details(model: str, developer: str, family: str, version: str, direction: str, kind: str) -> str:
    """SkuPriceDetails of a model-API line, with the key names of the FOCUS AI-token draft."""
    cache = {"cache_read": "Read", "cache_write": "Write"}.get(kind, "Uncached")
    return details_json(
        {
            "ModelDeveloper": developer,
            "ModelFamily": family,
            "ModelId": model,
            "ModelVersion": version,
            "TokenDirection": direction.capitalize(),
            "TokenCacheAction": cache,
            "x_TokenKind": kind,
        }
    )


def table(text: str) -> list[list[str]]:
    """Rows of a whitespace-separated text table; '#' starts a comment, '+' stands for a space.

    Catalogues of resources read best as aligned tables, one resource a line."""
    lines = (line.split("#")[0].split() for line in text.strip().splitlines())
    return [[cell.replace("+", " ") for cell in cells] for cells in lines if cells]


def span(cell: str) -> tuple[float, float]:
    """A 'lo~hi' range cell."""
    lo, hi = cell.split("~")
    return float(lo), float(hi)


def billing_period(day: dt.date) -> Row:
    first = day.replace(day=1)
    return {"BillingPeriodStart": at_midnight(first), "BillingPeriodEnd": at_midnight(next_month(first))}


def daily(day: dt.date) -> Row:
    """Charge and billing period columns of a daily row."""
    return {
        "ChargePeriodStart": at_midnight(day),
        "ChargePeriodEnd": at_midnight(day + dt.timedelta(days=1)),
        **billing_period(day),
    }


def tags_json(tags: dict[str, str] | None) -> str | None:
    return None if tags is None else json.dumps(tags, sort_keys=True, separators=(",", ":"))


def details_json(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"))


def focus_columns(version: str) -> list[Column]:
    """The FOCUS columns an export of ``version`` carries, in the spec's order.

    The PricingCurrency columns are left out: they are required only of providers that price in
    a currency other than the billing one, and every demo vendor prices and bills in USD."""
    order = ("1.0", "1.1", "1.2", "1.3")
    upto = order[: order.index(version) + 1]
    return [c for c in FOCUS_COLUMNS if c.since in upto and not c.name.startswith("PricingCurrency")]


def _cell(value: Any, null: str) -> str:
    if value is None:
        return null
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(path: Path, names: Sequence[str], rows: Iterable[Row], *, null: str = "") -> Path:
    """A CSV (gzip when the name ends in .gz); ``null`` is what an empty cell holds. JSON cells get
    the doubled quotes of real exports from the csv module's minimal quoting."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    out.writerow(names)
    out.writerows([_cell(row.get(n), null) for n in names] for row in rows)
    data = buf.getvalue().encode("utf-8")
    if path.name.endswith(".gz"):
        with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(data)
    else:
        path.write_bytes(data)
    return path


_ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.STRING: pa.string(),
    Kind.JSON: pa.string(),
    Kind.DECIMAL: pa.decimal128(38, 12),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Kind.INTEGER: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
}


def write_parquet(path: Path, columns: Sequence[Column], rows: Sequence[Row]) -> Path:
    """A typed Parquet file: decimals stay exact (decimal128), timestamps are UTC instants."""
    arrays, fields = [], []
    for col in columns:
        typ = _ARROW_TYPES[col.kind]
        arrays.append(pa.array([row.get(col.name) for row in rows], type=typ))
        fields.append(pa.field(col.name, typ))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    pq.write_table(table, path, compression="zstd", write_statistics=True)
    return path
