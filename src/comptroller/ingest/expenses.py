"""Expense reports, procurement exports and card transactions: the AI spend in them as FOCUS lines.

Much AI spend never reaches a cloud bill: a ChatGPT subscription on a corporate card, a Midjourney
plan on an expense report. Each CSV row whose merchant (or description) names a catalog vendor
(``comptroller.ingest.ai_vendors``) becomes one FOCUS 1.2 ``Purchase`` line, ``One-Time``, on the
day of the transaction, in billing account "expenses" and the transaction's calendar month; a
negative amount (a refund) becomes a ``Credit``. Every line is flagged ``x_ShadowCandidate`` "true":
discovery decides later whether the tool is registered. Rows of other merchants are counted and
ignored.

Every row is checked before anything is written; problems name file, row (the file's line, the
header being row 1) and column. The lines go through ``ingest_focus`` under source "expenses", so
an ingest restates the (billing account, month) scopes it contains: re-ingesting an export changes
nothing, and a month's card exports must be ingested together, or the later one replaces the first.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from comptroller.errors import IngestError, Problem
from comptroller.ingest.ai_vendors import VendorMatch, match_vendor, normalise
from comptroller.ingest.currency import CurrencyConversion
from comptroller.ingest.focus_ingest import DeliveryResult, ingest_focus_rows
from comptroller.ledger.store import Ledger

SOURCE = "expenses"
BILLING_ACCOUNT = "expenses"

COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "transaction date", "posted date", "posting date", "trans date", "expense date"),
    "merchant": ("vendor", "merchant", "payee", "merchant name", "vendor name", "supplier"),
    "amount": ("amount", "transaction amount", "total", "amount total"),
    "currency": ("currency", "currency code", "transaction currency"),
    "cost_centre": ("cost centre", "cost center", "department", "dept"),
    "employee": ("employee", "cardholder", "card holder", "cardholder name", "employee name"),
    "description": ("description", "memo", "purpose"),
}
"""Canonical column -> accepted headers, compared normalised ("Cost_Center" reads "cost center")."""

REQUIRED = ("date", "merchant", "amount")

SUBCATEGORIES = {
    "model_api": "Generative AI",
    "saas_seats": "Generative AI",
    "ai_platform": "AI Platforms",
    "infrastructure": "Machine Learning",
}
"""Catalog category -> FOCUS ServiceSubcategory under "AI and Machine Learning"."""

_SIGNATURES = frozenset({"billedcost", "chargeperiodstart", "line item line item type", "event id"})
"""Normalised columns of the FOCUS, CUR 2.0 and usage-event sources: such files are not expenses."""


@dataclass(frozen=True, slots=True)
class ExpensesResult:
    delivery: DeliveryResult | None
    """None when no row was AI spend: nothing was written."""
    ai_rows: int
    ignored_rows: int
    vendors: tuple[str, ...]


def looks_like_expenses(columns: Iterable[str]) -> bool:
    """A date, a merchant and an amount column, and none of the FOCUS, CUR or usage signatures."""
    names = {normalise(c) for c in columns}
    return not names & _SIGNATURES and all(names & set(COLUMNS[c]) for c in REQUIRED)


def ingest_expenses(
    ledger: Ledger,
    paths: Sequence[Path],
    *,
    default_currency: str | None = None,
    fx: CurrencyConversion | None = None,
) -> ExpensesResult:
    """Ingest the AI spend of expense CSVs as one delivery; any bad cell rejects all of it.

    ``default_currency`` applies to files without a currency column; without it they are rejected.
    With ``fx``, transactions in other currencies are converted to its reporting currency."""
    problems: list[Problem] = []
    lines: list[dict[str, str | None]] = []
    ignored = 0
    for path in map(Path, paths):
        for row in _read(path, problems, default_currency):
            match = match_vendor(row["merchant"], row.get("description"))
            if match is None:
                ignored += 1
            else:
                lines.append(_line(row, match))
    if problems:
        raise IngestError(problems)
    delivery = None
    if lines:
        delivery = ingest_focus_rows(ledger, lines, source=SOURCE, name="expenses", fx=fx)
    vendors = tuple(sorted({str(line["ProviderName"]) for line in lines}))
    return ExpensesResult(delivery, len(lines), ignored, vendors)


def _read(path: Path, problems: list[Problem], default_currency: str | None) -> list[dict]:
    """Parsed rows of one file; problems are appended, and rows with any are left out."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            table = list(csv.reader(fh))
    except FileNotFoundError:
        problems.append(Problem(str(path), "no such file"))
        return []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem(str(path), f"cannot be read as CSV: {exc}"))
        return []
    if not table:
        problems.append(Problem(str(path), "is empty; expected a header row"))
        return []
    headers = table[0]
    index: dict[str, int] = {}
    for i, h in enumerate(headers):
        index.setdefault(normalise(h), i)
    cols = {
        name: next(index[a] for a in aliases if a in index)
        for name, aliases in COLUMNS.items()
        if any(a in index for a in aliases)
    }
    needed = [*REQUIRED, *(() if default_currency else ("currency",))]
    missing = [c for c in needed if c not in cols]
    for name in missing:
        message = f"missing required column (accepted names: {', '.join(COLUMNS[name])})"
        problems.append(Problem(str(path), message, column=name))
    if missing:
        return []
    rows = []
    for line_no, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(headers):
            problems.append(
                Problem(str(path), f"has {len(cells)} cells; the header has {len(headers)}", line_no)
            )
            continue
        found = len(problems)
        row: dict = {name: cells[i].strip() or None for name, i in cols.items()}
        for name, parse in (("date", _date), ("amount", _amount), ("currency", _currency)):
            text = row.get(name) or (default_currency if name == "currency" else None)
            column = headers[cols[name]] if name in cols else name
            if text is None:
                problems.append(Problem(str(path), "is empty", line_no, column))
                continue
            try:
                row[name] = parse(text)
            except ValueError as exc:
                problems.append(Problem(str(path), f"{text!r} {exc}", line_no, column))
        if row.get("merchant") is None:
            problems.append(Problem(str(path), "is empty", line_no, headers[cols["merchant"]]))
        if len(problems) == found:
            rows.append(row)
    return rows


def _date(text: str) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        stamp = datetime.fromisoformat(text.replace(" UTC", "").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not an ISO 8601 date (YYYY-MM-DD)") from None
    return stamp.date() if stamp.tzinfo is None else stamp.astimezone(UTC).date()


_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")


def _amount(text: str) -> Decimal:
    """Amounts such as 12.50, -12.50, (12.50), $1,020.00 or € 18 as a decimal; others are errors."""
    body, negative = text.strip(), False
    if body.startswith("(") and body.endswith(")"):
        body, negative = body[1:-1].strip(), True
    if body and body[0] in "+-":
        negative, body = negative ^ (body[0] == "-"), body[1:].strip()
    body = body.lstrip("$€£¥").strip()
    if _GROUPED.fullmatch(body):
        body = body.replace(",", "")
    try:
        value = Decimal(body) if re.fullmatch(r"\d+(\.\d+)?|\.\d+", body) else Decimal("NaN")
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError("is not an amount (a number such as 12.50 or -12.50)")
    return -value if negative else value


def _currency(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        raise ValueError("is not an ISO 4217 currency code such as USD")
    return text.upper()


def _num(value: Decimal) -> str:
    return format(value.quantize(Decimal("1e-10")).normalize(), "f")


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _line(row: dict, match: VendorMatch) -> dict[str, str | None]:
    """One FOCUS 1.2 row for one AI transaction."""
    day: date = row["date"]
    amount: Decimal = row["amount"]
    month = day.replace(day=1)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    credit = amount < 0
    cost = _num(amount)
    tags = {
        "employee": row.get("employee"),
        "cost_centre": row.get("cost_centre"),
        "cost_layer": match.category,
    }
    sku = f"{normalise(match.name).replace(' ', '-')}/{normalise(match.product).replace(' ', '-')}"
    return {
        "BillingAccountId": BILLING_ACCOUNT,
        "BillingAccountName": "Expenses and card transactions",
        "BillingAccountType": "Billing Account",
        "BillingPeriodStart": _stamp(month),
        "BillingPeriodEnd": _stamp(following),
        "ChargePeriodStart": _stamp(day),
        "ChargePeriodEnd": _stamp(day + timedelta(days=1)),
        **dict.fromkeys(("BillingCurrency", "PricingCurrency"), row["currency"]),
        **dict.fromkeys(("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"), cost),
        "PricingCurrencyEffectiveCost": cost,
        **dict.fromkeys(("ProviderName", "PublisherName", "InvoiceIssuerName"), match.name),
        "ChargeCategory": "Credit" if credit else "Purchase",
        "ChargeClass": None,
        "ChargeFrequency": "One-Time",
        "ChargeDescription": row.get("description") or row["merchant"],
        "PricingCategory": None if credit else "Standard",
        "PricingQuantity": None if credit else "1",
        "PricingUnit": None if credit else "Transactions",
        **dict.fromkeys(
            ("ListUnitPrice", "ContractedUnitPrice", "PricingCurrencyListUnitPrice"), None if credit else cost
        ),
        "PricingCurrencyContractedUnitPrice": None if credit else cost,
        "ServiceCategory": "AI and Machine Learning",
        "ServiceSubcategory": SUBCATEGORIES[match.category],
        "ServiceName": match.product,
        "SkuId": sku,
        "SkuMeter": "Transaction",
        "SkuPriceId": f"{sku}/one-time",
        "Tags": json.dumps({k: v for k, v in tags.items() if v is not None}, sort_keys=True),
        "x_Employee": row.get("employee"),
        "x_CostCentre": row.get("cost_centre"),
        "x_Merchant": row["merchant"],
        "x_ExpenseDescription": row.get("description"),
        "x_ShadowCandidate": "true",
    }
