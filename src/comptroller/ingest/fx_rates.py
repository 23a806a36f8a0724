"""Exchange rates: a dated table in the state database, loaded from CSV, looked up by charge day.

A rate row says that on ``day`` one unit of ``from_currency`` was worth ``rate`` units of
``to_currency`` (USD unless loaded otherwise). Lookups take the rate of the charge day or, when that
day has none (weekends, holidays: reference rates are published on business days), the nearest
earlier day's. A later day's rate is never used: it did not exist when the charge was made.
Conversions between two non-USD currencies go through USD, so one column of USD rates serves any
reporting currency.
"""

from __future__ import annotations

import bisect
import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Date, DateTime, Numeric, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from comptroller.errors import IngestError, Problem
from comptroller.state.db import StateDB
from comptroller.state.models import Base, utcnow

PIVOT = "USD"
CSV_COLUMNS = ("date", "currency", "rate_to_usd")
CURRENCY = re.compile(r"[A-Z]{3}")


class FxRate(Base):
    """One published exchange rate: 1 ``from_currency`` = ``rate`` ``to_currency`` on ``day``."""

    __tablename__ = "fx_rates"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    from_currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    to_currency: Mapped[str] = mapped_column(String(3), primary_key=True, default=PIVOT)
    rate: Mapped[Decimal] = mapped_column(Numeric(24, 12))
    source: Mapped[str | None] = mapped_column(String(256), default=None)
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class Rate:
    day: date
    from_currency: str
    to_currency: str
    rate: Decimal
    source: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedRate:
    """The rate used for a conversion and the (earliest) publication day it came from."""

    rate: Decimal
    day: date


def read_rates_csv(path: Path) -> list[Rate]:
    """Rates from ``date,currency,rate_to_usd``; every bad cell is reported before anything loads."""
    origin = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            table = list(csv.reader(fh))
    except FileNotFoundError as exc:
        raise IngestError([Problem(origin, "no such file")]) from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise IngestError([Problem(origin, f"cannot be read as CSV: {exc}")]) from exc
    if not table:
        raise IngestError([Problem(origin, f"is empty; expected the header {','.join(CSV_COLUMNS)}")])
    header = [h.strip().lower() for h in table[0]]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise IngestError([Problem(origin, "missing required column", column=c) for c in missing])
    index = {c: header.index(c) for c in CSV_COLUMNS}
    problems: list[Problem] = []
    rates: dict[tuple[date, str], Rate] = {}
    for row_no, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(Problem(origin, f"has {len(cells)} cells; the header has {len(header)}", row_no))
            continue
        day_text, currency, rate_text = (cells[index[c]].strip() for c in CSV_COLUMNS)
        found = len(problems)
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            problems.append(Problem(origin, f"{day_text!r} is not a date (YYYY-MM-DD)", row_no, "date"))
        currency = currency.upper()
        if not CURRENCY.fullmatch(currency):
            message = f"{currency!r} is not an ISO 4217 currency code such as EUR"
            problems.append(Problem(origin, message, row_no, "currency"))
        try:
            rate = Decimal(rate_text)
            if not rate.is_finite() or rate <= 0:
                raise InvalidOperation
        except InvalidOperation:
            message = f"{rate_text!r} is not a positive number"
            problems.append(Problem(origin, message, row_no, "rate_to_usd"))
        if len(problems) == found:
            if (day, currency) in rates and rates[(day, currency)].rate != rate:
                message = f"a second, different {currency} rate for {day}"
                problems.append(Problem(origin, message, row_no, "rate_to_usd"))
            rates[(day, currency)] = Rate(day, currency, PIVOT, rate, path.name)
    if problems:
        raise IngestError(problems)
    return list(rates.values())


def store_rates(state: StateDB, rates: list[Rate]) -> int:
    """Insert or replace rates by (day, from, to); loading the same file twice changes nothing."""
    with state.session() as session, session.begin():
        for r in rates:
            session.execute(
                delete(FxRate).where(
                    FxRate.day == r.day,
                    FxRate.from_currency == r.from_currency,
                    FxRate.to_currency == r.to_currency,
                )
            )
            session.add(
                FxRate(
                    day=r.day,
                    from_currency=r.from_currency,
                    to_currency=r.to_currency,
                    rate=r.rate,
                    source=r.source,
                )
            )
    return len(rates)


def list_rates(state: StateDB, currency: str | None = None) -> list[Rate]:
    query = select(FxRate).order_by(FxRate.from_currency, FxRate.to_currency, FxRate.day)
    if currency:
        query = query.where(FxRate.from_currency == currency.upper())
    with state.session() as session:
        return [
            Rate(r.day, r.from_currency, r.to_currency, Decimal(r.rate), r.source)
            for r in session.scalars(query)
        ]


class RateBook:
    """Every stored rate, indexed for "this day or the nearest earlier one" lookups."""

    def __init__(self, rates: list[Rate]) -> None:
        self._days: dict[tuple[str, str], list[date]] = {}
        self._rates: dict[tuple[str, str], list[Decimal]] = {}
        for r in sorted(rates, key=lambda r: r.day):
            pair = (r.from_currency, r.to_currency)
            self._days.setdefault(pair, []).append(r.day)
            self._rates.setdefault(pair, []).append(r.rate)

    @classmethod
    def from_state(cls, state: StateDB) -> RateBook:
        return cls(list_rates(state))

    def _direct(self, source: str, target: str, day: date) -> AppliedRate | None:
        days = self._days.get((source, target))
        if not days:
            return None
        i = bisect.bisect_right(days, day)
        return AppliedRate(self._rates[(source, target)][i - 1], days[i - 1]) if i else None

    def _one_way(self, source: str, target: str, day: date) -> AppliedRate | None:
        direct = self._direct(source, target, day)
        if direct is not None:
            return direct
        inverse = self._direct(target, source, day)
        return AppliedRate(1 / inverse.rate, inverse.day) if inverse else None

    def rate(self, source: str, target: str, day: date) -> AppliedRate | None:
        """How many ``target`` one ``source`` was worth on ``day``; None when no rate is known."""
        if source == target:
            return AppliedRate(Decimal(1), day)
        found = self._one_way(source, target, day)
        if found is not None or PIVOT in (source, target):
            return found
        to_pivot, from_pivot = self._one_way(source, PIVOT, day), self._one_way(PIVOT, target, day)
        if to_pivot is None or from_pivot is None:
            return None
        return AppliedRate(to_pivot.rate * from_pivot.rate, min(to_pivot.day, from_pivot.day))
