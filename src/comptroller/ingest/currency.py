"""Converting cost lines billed in another currency into the ledger's reporting currency, at ingest.

Why at ingest and not at query time: FOCUS requires every cost column of a row to be in that row's
``BillingCurrency``, and everything downstream (showback, budgets, anomaly baselines, the FOCUS
export and its validation) adds costs across rows. Converting once, when the line is written,
gives every reader one currency and keeps each row self-consistent, so exports still validate
(``BillingCurrency`` is the reporting currency and the costs are in it). Rates for past days do
not change once published, so nothing is lost by fixing them at ingest; and nothing is lost of the
invoice either: the original amounts, their currency, the rate and the rate's day are kept in
``x_Original*``, ``x_FxRate`` and ``x_FxRateDate``, and ``PricingCurrency`` with its
``PricingCurrency*`` columns keeps the currency the service was priced in. Query-time conversion
would need the state database's rates joined into every ledger query, on two backends.

A line whose currency has no rate on or before its charge day rejects the whole delivery, naming
the file, the first row, the currency and the day: converting with a guessed rate, or storing the
line unconverted beside converted ones, would both make totals silently wrong.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

from comptroller.errors import IngestError, Problem
from comptroller.ingest.focus_checks import diagnostic_connection
from comptroller.ingest.focus_mapping import FocusFile
from comptroller.ingest.fx_rates import RateBook
from comptroller.ledger.schema import FOCUS_COLUMNS
from comptroller.ledger.sqltypes import literal, quote

CONVERTED_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ListUnitPrice",
    "ContractedUnitPrice",
)
"""FOCUS denominates these in BillingCurrency, so they follow it."""
ORIGINAL_COLUMNS = {
    "BilledCost": "x_OriginalBilledCost",
    "EffectiveCost": "x_OriginalEffectiveCost",
    "ListCost": "x_OriginalListCost",
    "ContractedCost": "x_OriginalContractedCost",
}
PRODUCT = "DECIMAL(38,16)"
_COLUMNS = {c.name: c for c in FOCUS_COLUMNS}


@dataclass(frozen=True, slots=True)
class CurrencyConversion:
    """What ingest needs to convert: the reporting currency and the rates to reach it."""

    reporting_currency: str
    rates: RateBook

    def rates_for(self, file: FocusFile, con: duckdb.DuckDBPyConnection) -> pa.Table | None:
        """The rate of every (currency, charge day) the file has outside the reporting currency;
        None when every line is already in it. Raises naming the first row without a rate."""
        currency = file.cast_expression(_COLUMNS["BillingCurrency"], "TRY_CAST")
        start = file.cast_expression(_COLUMNS["ChargePeriodStart"], "TRY_CAST")
        pairs = con.execute(
            f"SELECT DISTINCT {currency}, CAST({start} AS DATE) FROM {file.reader()} "
            f"WHERE {currency} <> {literal(self.reporting_currency)} AND {start} IS NOT NULL"
        ).fetchall()
        if not pairs:
            return None
        rows, missing = [], []
        for code, day in sorted(pairs):
            applied = self.rates.rate(code, self.reporting_currency, day)
            if applied is None:
                missing.append((code, day))
            else:
                rows.append({"currency": code, "day": day, "rate": applied.rate, "rate_day": applied.day})
        if missing:
            raise IngestError([self._missing(file, code, day) for code, day in missing[:5]])
        return pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [
                    ("currency", pa.string()),
                    ("day", pa.date32()),
                    ("rate", pa.decimal128(38, 16)),
                    ("rate_day", pa.date32()),
                ]
            ),
        )

    def _missing(self, file: FocusFile, code: str, day: date) -> Problem:
        message = (
            f"no {code} to {self.reporting_currency} exchange rate on or before {day}; "
            "load rates with `comptroller fx load rates.csv`"
        )
        return Problem(str(file.path), message, _first_row(file, code, day), "BillingCurrency")


def _first_row(file: FocusFile, code: str, day: date) -> int | None:
    """The file's first row in this currency on this day (one thread, so rows keep file order)."""
    con = diagnostic_connection()
    try:
        relation = f"({file.inner_select(cast='TRY_CAST', row_numbers=True)})"
        row = con.execute(
            f'SELECT min(_row) FROM {relation} WHERE "BillingCurrency" = ? '
            'AND CAST("ChargePeriodStart" AS DATE) = ?',
            [code, day],
        ).fetchone()
    finally:
        con.close()
    return int(row[0]) if row and row[0] is not None else None


def register_rates(con: duckdb.DuckDBPyConnection, rates: pa.Table) -> str:
    name = f"_fx_{uuid.uuid4().hex[:12]}"
    con.register(name, rates)
    return name


FX_COLUMNS = ("x_OriginalCurrency", "x_FxRate", "x_FxRateDate")


def converted_columns(columns: list[str]) -> list[str]:
    """``columns`` and what conversion adds: the rate, its day, and the original of each amount."""
    added = [*FX_COLUMNS, *(ORIGINAL_COLUMNS[c] for c in columns if c in ORIGINAL_COLUMNS)]
    return columns + [c for c in added if c not in columns]


def converted_select(select_sql: str, columns: list[str], rates: str, reporting_currency: str) -> str:
    """``select_sql`` (ledger columns in ``columns`` order) with lines of other currencies converted
    and their original amounts kept. Lines already in the reporting currency pass unchanged."""
    exprs = []
    for name in columns:
        column = f"s.{quote(name)}"
        if name in CONVERTED_COLUMNS:
            # 10 places in each factor keep 18 integer digits in DuckDB's 38-digit product.
            product = f"CAST({column} AS DECIMAL(38,10)) * CAST(fx.rate AS DECIMAL(20,10))"
            expr = f"CASE WHEN fx.rate IS NULL THEN {column} ELSE CAST({product} AS {PRODUCT}) END"
        elif name == "BillingCurrency":
            expr = f"CASE WHEN fx.rate IS NULL THEN {column} ELSE {literal(reporting_currency)} END"
        elif name == "x_OriginalCurrency":
            expr = 'CASE WHEN fx.rate IS NOT NULL THEN s."BillingCurrency" END'
        elif name in ORIGINAL_COLUMNS.values():
            source = next(k for k, v in ORIGINAL_COLUMNS.items() if v == name)
            expr = f"CASE WHEN fx.rate IS NOT NULL THEN s.{quote(source)} END"
        elif name == "x_FxRate":
            expr = "fx.rate"
        elif name == "x_FxRateDate":
            expr = "CAST(fx.rate_day AS TIMESTAMP)"
        else:
            expr = column
        exprs.append(f"{expr} AS {quote(name)}")
    return (
        f"SELECT {', '.join(exprs)} FROM ({select_sql}) AS s LEFT JOIN {rates} AS fx "
        f'ON s."BillingCurrency" = fx.currency AND CAST(s."ChargePeriodStart" AS DATE) = fx.day'
    )
