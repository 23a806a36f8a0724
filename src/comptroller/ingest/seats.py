"""SaaS AI seats and licences (ChatGPT Enterprise, Microsoft 365 Copilot, GitHub Copilot, Claude
for Work, Cursor) as FOCUS cost lines, plus the per-user utilization facts behind them.

Seat vendors invoice a contract, not usage, so the ledger gets one FOCUS ``Purchase`` /
``Recurring`` line per contract and calendar month (``PricingUnit`` "Seats"). What makes seats a
FinOps subject is the gap between seats bought and seats used, so each line also carries
``x_SeatsAssigned`` and ``x_SeatsActive30d`` from the vendors' per-user activity exports. The lines
are written to a Parquet file and go through ``ingest_focus`` like any FOCUS export: one delivery,
atomic, and restating (source "seats", billing account, month) scopes, so re-ingesting is
idempotent and a corrected contract replaces its months.

The CSV formats and their aliases are described in ``comptroller.ingest.seats_input``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from comptroller.errors import IngestError, Problem
from comptroller.ingest.currency import CurrencyConversion
from comptroller.ingest.focus_ingest import DeliveryResult, ingest_focus_rows
from comptroller.ingest.seats_input import (
    Contract,
    SeatUser,
    file_product,
    headers_of,
    match_product,
    read_activity,
    read_contracts,
    shape_product,
    slug,
)
from comptroller.ledger.store import Ledger

SOURCE = "seats"
ACTIVE_WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class ProductSeats:
    """A product's seats on ``as_of``: bought (contracts in term), assigned and recently active."""

    vendor: str
    product: str
    seats: int
    assigned: int | None
    active_30d: int | None


@dataclass(frozen=True, slots=True)
class SeatsResult:
    rows: int
    months: tuple[date, ...]
    products: tuple[ProductSeats, ...]
    unmatched_users: int
    """Activity rows whose licence no contract covers (free tiers, other products)."""
    delivery: DeliveryResult | None


def ingest_seats(
    ledger: Ledger,
    contracts_csv: Path,
    activity_csvs: Sequence[Path],
    *,
    as_of: date,
    fx: CurrencyConversion | None = None,
) -> SeatsResult:
    """Ingest seat contracts as monthly FOCUS lines; all input is checked before anything is written.

    With ``fx``, contracts priced in other currencies are converted to its reporting currency."""
    problems: list[Problem] = []
    contracts = read_contracts(Path(contracts_csv), problems)
    users: dict[str, dict[str, SeatUser]] = {}
    unmatched = 0
    for path in map(Path, activity_csvs):
        rows = read_activity(path, problems)
        default = file_product(path, problems, contracts)
        for row_no, user in rows:
            product = match_product(user.licence or default, contracts, path, row_no, problems)
            if product is None:
                unmatched += 1
            else:
                users.setdefault(product, {})[user.key] = user
    if problems:
        raise IngestError(problems)
    held = {p: list(u.values()) for p, u in users.items()}
    lines = [_line(c, m, held.get(c.product, []), as_of) for c in contracts for m in _months(c, as_of)]
    delivery = None
    if lines:
        delivery = ingest_focus_rows(ledger, lines, source=SOURCE, name="seats", fx=fx)
    return SeatsResult(
        rows=delivery.rows if delivery else 0,
        months=tuple(sorted({m for c in contracts for m in _months(c, as_of)})),
        products=_products(contracts, held, as_of),
        unmatched_users=unmatched,
        delivery=delivery,
    )


UTILIZATION_SCHEMA = pa.schema(
    [
        ("user", pa.string()),
        ("email", pa.string()),
        ("department", pa.string()),
        ("product", pa.string()),
        ("assigned", pa.date32()),
        ("last_active", pa.date32()),
        ("active_last_30d", pa.bool_()),
        ("days_since_last_active", pa.int32()),
        ("activity_count", pa.int64()),
    ]
)


def seat_utilization(activity_csv: Path, as_of: date, *, product: str | None = None) -> pa.Table:
    """Per-user facts for unused-seat findings: who holds a seat and when they last used it.

    ``product`` names the export's product when it has no licence column and an unrecognised
    shape. ``active_last_30d`` is null when the export shows activity after ``as_of``: it cannot
    tell whether the user was also active in the window."""
    problems: list[Problem] = []
    path = Path(activity_csv)
    rows = read_activity(path, problems)
    if problems:
        raise IngestError(problems)
    default = product or shape_product(headers_of(path))
    facts = [
        {
            "user": u.user,
            "email": u.email,
            "department": u.department,
            "product": u.licence or default,
            "assigned": u.assigned,
            "last_active": u.last_active,
            "active_last_30d": _active(u, as_of),
            "days_since_last_active": None if u.last_active is None else (as_of - u.last_active).days,
            "activity_count": u.activity,
        }
        for _, u in rows
    ]
    return pa.Table.from_pylist(facts, schema=UTILIZATION_SCHEMA)


def _line(c: Contract, month: date, users: list[SeatUser], as_of: date) -> dict[str, str | None]:
    """One FOCUS 1.2 row: the contract's seats for one calendar month, charged in full."""
    following = _next_month(month)
    assigned, active = _counts(users, min(following - timedelta(days=1), as_of)) if users else (None, None)
    price, cost = _num(c.monthly_price), _num(c.monthly_price * c.seats)
    sku = c.sku or f"{c.vendor}/{c.product}"
    start, end = f"{month.isoformat()}T00:00:00Z", f"{following.isoformat()}T00:00:00Z"
    return {
        "BillingAccountId": c.billing_account_id or slug(c.vendor),
        **dict.fromkeys(
            ("BillingAccountName", "ProviderName", "PublisherName", "InvoiceIssuerName"), c.vendor
        ),
        **dict.fromkeys(("BillingPeriodStart", "ChargePeriodStart"), start),
        **dict.fromkeys(("BillingPeriodEnd", "ChargePeriodEnd"), end),
        **dict.fromkeys(("BillingCurrency", "PricingCurrency"), c.currency),
        **dict.fromkeys(("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"), cost),
        **dict.fromkeys(("ListUnitPrice", "ContractedUnitPrice", "PricingCurrencyListUnitPrice"), price),
        "PricingCurrencyContractedUnitPrice": price,
        "PricingCurrencyEffectiveCost": cost,
        "BillingAccountType": "Billing Account",
        "ChargeCategory": "Purchase",
        "ChargeClass": None,
        "ChargeDescription": f"{c.product}: {c.seats} seats at {price} {c.currency} per seat per month",
        "ChargeFrequency": "Recurring",
        "PricingCategory": "Standard",
        "PricingQuantity": str(c.seats),
        "PricingUnit": "Seats",
        "ServiceCategory": "AI and Machine Learning",
        "ServiceSubcategory": "Generative AI",
        "ServiceName": c.product,
        "SkuId": sku,
        "SkuMeter": "Seat",
        "SkuPriceId": f"{sku}/{c.billing_period}/{price}",
        "x_SeatsAssigned": None if assigned is None else str(assigned),
        "x_SeatsActive30d": None if active is None else str(active),
        "x_RenewalDate": c.renewal_date.isoformat() if c.renewal_date else None,
        "x_SeatBillingPeriod": c.billing_period,
    }


def _counts(users: list[SeatUser], window_end: date) -> tuple[int, int | None]:
    """Seats assigned by ``window_end`` and users active in the 30 days up to it; the active count
    is None when someone's last activity is later, because the export then cannot tell."""
    holders = [u for u in users if u.assigned is None or u.assigned <= window_end]
    states = [_active(u, window_end) for u in holders]
    return len(holders), (None if any(s is None for s in states) else sum(bool(s) for s in states))


def _active(user: SeatUser, as_of: date) -> bool | None:
    if user.last_active is None:
        return False
    if user.last_active > as_of:
        return None
    return (as_of - user.last_active).days < ACTIVE_WINDOW_DAYS


def _products(
    contracts: list[Contract], held: dict[str, list[SeatUser]], as_of: date
) -> tuple[ProductSeats, ...]:
    out = []
    for vendor, product in dict.fromkeys((c.vendor, c.product) for c in contracts):
        seats = sum(
            c.seats for c in contracts if c.product == product and c.term_start <= as_of <= c.term_end
        )
        assigned, active = _counts(held[product], as_of) if product in held else (None, None)
        out.append(ProductSeats(vendor, product, seats, assigned, active))
    return tuple(out)


def _months(c: Contract, as_of: date) -> list[date]:
    """Calendar months the term touches, up to ``as_of``'s month: later ones are not charged yet."""
    month, last = c.term_start.replace(day=1), min(c.term_end, as_of).replace(day=1)
    months = []
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _num(value: Decimal) -> str:
    return format(value.quantize(Decimal("1e-10")).normalize(), "f")
