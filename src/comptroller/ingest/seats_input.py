"""Reading seat contracts and vendors' per-user seat activity exports, every bad cell reported.

Vendors export seats differently (ChatGPT Enterprise user analytics, the GitHub Copilot seat
export, the Microsoft 365 Copilot usage report, Claude for Work and Cursor member lists), so
columns are found by alias and everything is checked before anything is written.

Contract CSV, one row per contract (header names are matched case-insensitively, ignoring
punctuation and "(...)" suffixes; aliases in ``CONTRACT_COLUMNS``): required ``vendor``,
``product``, ``seats``, ``price_per_seat``, ``currency``, ``billing_period`` (monthly/annual),
``term_start``, ``term_end`` (last day covered); optional ``renewal_date``, ``billing_account_id``
(default: the vendor, slugged), ``sku``, ``price_period`` (month/year; default month, because
vendors quote "per user per month" even for annual terms). A month is charged in full when the
term covers any day of it; months after ``as_of`` are not charged yet.

Activity CSV, one row per user (aliases in ``ACTIVITY_COLUMNS``): a ``user`` or ``email`` column,
``last_active`` (required), optional ``department``, ``licence`` (names the contract's product or
sku), ``assigned`` and activity counts (summed). Without a licence column, the product is
recognised from the export's shape (``EXPORT_SHAPES``), or is the only contracted
product. Dates are ISO 8601; "never" or an empty cell means never active. Rows are numbered from 1 after the
header, as in every ``IngestError``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from comptroller.errors import Problem

Parser = Callable[[str], Any]
"""Turns a non-empty cell into a value, or raises ValueError saying what is wrong with it."""

EMPTY_CELLS = frozenset({"", "null", "none", "never", "n/a", "-"})


def _text(text: str) -> str:
    return text


def _date(text: str) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        stamp = datetime.fromisoformat(text.removesuffix(" UTC"))
    except ValueError:
        raise ValueError("is not an ISO 8601 date (YYYY-MM-DD)") from None
    return stamp.date() if stamp.tzinfo is None else stamp.astimezone(UTC).date()


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError("is not a number")
    return value


def _whole(text: str) -> int:
    value = _decimal(text)
    if value < 0 or value != value.to_integral_value():
        raise ValueError("is not a whole number, 0 or more")
    return int(value)


def _price(text: str) -> Decimal:
    value = _decimal(text)
    if value < 0:
        raise ValueError("is negative; a seat price is 0 or more")
    return value


def _currency(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        raise ValueError("is not an ISO 4217 currency code such as USD")
    return text.upper()


_YEARLY = ("annual", "annually", "yearly", "year")


def _one_of(values: dict[str, Any], hint: str) -> Parser:
    def parse(text: str) -> Any:
        if text.lower() not in values:
            raise ValueError(f"is not one of {hint}")
        return values[text.lower()]

    return parse


_billing = _one_of(
    {p: "Monthly" for p in ("monthly", "month")} | {p: "Annual" for p in _YEARLY}, "monthly, annual"
)
_per = _one_of({"month": 1, "monthly": 1} | dict.fromkeys(_YEARLY, 12), "month, year")

# Canonical column: (parser, accepted header names after _norm, in order of preference).
CONTRACT_COLUMNS: dict[str, tuple[Parser, tuple[str, ...]]] = {
    "vendor": (_text, ("vendor", "provider", "publisher", "supplier")),
    "product": (_text, ("product", "product name", "service", "licence", "license", "plan")),
    "seats": (_whole, ("seats", "seat count", "seats purchased", "licences", "licenses", "quantity")),
    "price_per_seat": (_price, ("price per seat", "price per user", "seat price", "unit price", "price")),
    "currency": (_currency, ("currency", "billing currency")),
    "billing_period": (_billing, ("billing period", "billing frequency", "billing cycle", "billing")),
    "term_start": (_date, ("term start", "contract start", "start date", "start")),
    "term_end": (_date, ("term end", "contract end", "end date", "end")),
    "renewal_date": (_date, ("renewal date", "renews on", "renewal")),
    "billing_account_id": (_text, ("billing account id", "account id", "account")),
    "sku": (_text, ("sku", "sku id")),
    "price_period": (_per, ("price period", "price per", "price unit")),
}
REQUIRED_CONTRACT = tuple(CONTRACT_COLUMNS)[:8]
_ASSIGNED = "assigned date|assigned at|assigned|date assigned|license assigned date|created or invited date"
_LAST_ACTIVE = "last active date|last activity date|last active at|last activity at|last active|last activity"
ACTIVITY_COLUMNS: dict[str, tuple[Parser, tuple[str, ...]]] = {
    "user": (_text, ("user", "name", "display name", "user name", "username", "login", "assignee login")),
    "email": (_text, ("email", "email address", "user email", "user principal name", "upn", "mail")),
    "department": (_text, ("department", "dept", "team", "organization unit")),
    "licence": (_text, ("licence", "license", "sku", "plan", "product", "licence type", "license type")),
    "assigned": (_date, (*_ASSIGNED.split("|"), "created at", "seat created at", "added at")),
    "last_active": (
        _date,
        (*_LAST_ACTIVE.split("|"), "last day active", "last day active in period", "last seen"),
    ),
}
COUNT_COLUMNS = frozenset(
    [
        "messages",
        "prompts",
        "suggestions",
        "requests",
        "total messages",
        "total prompts",
        "total suggestions",
        "total requests",
        "messages sent",
        "prompts submitted",
        "copilot chat prompts submitted",
    ]
)
EXPORT_SHAPES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"report refresh date", "user principal name"}), "Microsoft 365 Copilot"),
    (frozenset({"login", "last activity at"}), "GitHub Copilot"),
    (frozenset({"login", "last activity editor"}), "GitHub Copilot"),
    (frozenset({"gpt messages"}), "ChatGPT Enterprise"),
)


@dataclass(frozen=True, slots=True)
class Contract:
    row: int
    vendor: str
    product: str
    seats: int
    price_per_seat: Decimal
    currency: str
    billing_period: str
    term_start: date
    term_end: date
    renewal_date: date | None
    billing_account_id: str | None
    sku: str | None
    price_period: int | None

    @property
    def monthly_price(self) -> Decimal:
        return self.price_per_seat / (self.price_period or 1)


@dataclass(frozen=True, slots=True)
class SeatUser:
    user: str | None
    email: str | None
    department: str | None
    licence: str | None
    assigned: date | None
    last_active: date | None
    activity: int | None = None

    @property
    def key(self) -> str:
        return (self.email or self.user or "").strip().lower()


def read_contracts(path: Path, problems: list[Problem]) -> list[Contract]:
    """Contracts of the CSV; every bad cell becomes a Problem instead of stopping at the first."""
    table = _Csv.read(path, CONTRACT_COLUMNS, REQUIRED_CONTRACT, problems)
    if table.rows and any(c not in table.cols for c in REQUIRED_CONTRACT):
        return []
    if not table.rows and not problems:
        problems.append(Problem(str(path), "has no contract rows"))
    contracts = []
    for row_no, cells in table.rows:
        before = len(problems)
        v = {name: table.value(row_no, cells, name, parse) for name, (parse, _) in CONTRACT_COLUMNS.items()}
        for name in REQUIRED_CONTRACT:
            if v[name] is None and len(problems) == before:
                problems.append(Problem(str(path), "is empty", row_no, table.header(name)))
        if len(problems) == before and v["term_end"] < v["term_start"]:
            problems.append(
                Problem(str(path), "term ends before it starts", row_no, table.header("term_end"))
            )
        if len(problems) == before:
            contracts.append(Contract(row=row_no, **v))
    return contracts


def read_activity(path: Path, problems: list[Problem]) -> list[tuple[int, SeatUser]]:
    """(row number, user) of a vendor's per-user export."""
    table = _Csv.read(path, ACTIVITY_COLUMNS, ("last_active",), problems)
    if table.headers and "user" not in table.cols and "email" not in table.cols:
        problems.append(Problem(str(path), "needs a user or email column", column="user"))
    if "last_active" not in table.cols or ("user" not in table.cols and "email" not in table.cols):
        return []
    counts = [h for h in table.headers if _norm(h) in COUNT_COLUMNS]
    users = []
    for row_no, cells in table.rows:
        before = len(problems)
        v = {name: table.value(row_no, cells, name, parse) for name, (parse, _) in ACTIVITY_COLUMNS.items()}
        found = [table.value(row_no, cells, h, _whole) for h in counts]
        user = SeatUser(activity=sum(n for n in found if n is not None) if counts else None, **v)
        if not user.key and len(problems) == before:
            column = table.header("email") or table.header("user")
            problems.append(Problem(str(path), "has no user or email", row_no, column))
        if len(problems) == before:
            users.append((row_no, user))
    return users


def file_product(path: Path, problems: list[Problem], contracts: list[Contract]) -> str | None:
    """The product of an export without a licence column: by its shape, else the only one."""
    headers = headers_of(path)
    if not headers or any(_norm(h) in ACTIVITY_COLUMNS["licence"][1] for h in headers):
        return None
    products = {c.product for c in contracts}
    found = shape_product(headers) or (next(iter(products)) if len(products) == 1 else None)
    if found is None and contracts:
        message = "has no licence column and an unrecognised shape; add a licence column naming the product"
        problems.append(Problem(str(path), message, column="licence"))
    return found


def shape_product(headers: list[str]) -> str | None:
    names = {_norm(h) for h in headers}
    return next((product for shape, product in EXPORT_SHAPES if shape <= names), None)


def match_product(
    label: str | None, contracts: list[Contract], path: Path, row: int, problems: list[Problem]
) -> str | None:
    """The contracted product a licence label names: exactly, by sku, or as a whole-word part."""
    if not label:
        return None
    want = _norm(label)
    found = {c.product for c in contracts if want in (_norm(c.product), _norm(c.sku or ""))}
    found = found or {
        c.product for c in contracts if _within(want, _norm(c.product)) or _within(_norm(c.product), want)
    }
    if len(found) > 1:
        message = f"licence {label!r} matches several contracts: {', '.join(sorted(found))}"
        problems.append(Problem(str(path), message, row, "licence"))
    return next(iter(found)) if len(found) == 1 else None


def _within(part: str, whole: str) -> bool:
    return bool(part) and f" {part} " in f" {whole} "


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _norm(header: str) -> str:
    """'Last activity date (UTC)', 'last_activity_date' and 'LastActivityDate' read alike."""
    text = re.sub(r"\([^)]*\)", " ", header.strip().lstrip("\ufeff"))
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def headers_of(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


@dataclass
class _Csv:
    """A CSV read whole (these files are small), with canonical columns resolved by alias."""

    path: Path
    headers: list[str]
    cols: dict[str, int]
    problems: list[Problem]
    rows: list[tuple[int, list[str]]] | None = None

    @classmethod
    def read(
        cls,
        path: Path,
        spec: dict[str, tuple[Parser, tuple[str, ...]]],
        required: Sequence[str],
        problems: list[Problem],
    ) -> _Csv:
        """Header and data rows (numbered from 1); a ragged row is a Problem, not an IndexError."""
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                table = list(csv.reader(fh))
        except FileNotFoundError:
            table, problem = [], Problem(str(path), "no such file")
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            table, problem = [], Problem(str(path), f"cannot be read as CSV: {exc}")
        else:
            problem = None if table else Problem(str(path), "is empty; expected a header row")
        if problem:
            problems.append(problem)
            return cls(path, [], {}, problems, [])
        headers, rows = table[0], []
        for i, cells in enumerate(table[1:], start=1):
            if len(cells) != len(headers) and any(c.strip() for c in cells):
                problems.append(
                    Problem(str(path), f"has {len(cells)} cells; the header has {len(headers)}", i)
                )
            elif any(c.strip() for c in cells):
                rows.append((i, cells))
        index: dict[str, int] = {}
        for i, h in enumerate(headers):
            index.setdefault(_norm(h), i)
        cols = {}
        for name, (_, names) in spec.items():
            found = next((index[a] for a in names if a in index), None)
            if found is not None:
                cols[name] = found
            elif name in required:
                message = f"missing required column (accepted names: {', '.join(names)})"
                problems.append(Problem(str(path), message, column=name))
        return cls(path, headers, cols, problems, rows)

    def header(self, name: str) -> str | None:
        return self.headers[self.cols[name]] if name in self.cols else None

    def value(self, row: int, cells: list[str], name: str, parse: Parser) -> Any:
        """The parsed cell of a canonical column (or of a header), None when empty or absent."""
        index = self.cols.get(name, self.headers.index(name) if name in self.headers else None)
        text = "" if index is None else cells[index].strip()
        if text.lower() in EMPTY_CELLS:
            return None
        try:
            return parse(text)
        except ValueError as exc:
            self.problems.append(Problem(str(self.path), f"{text!r} {exc}", row, self.headers[index]))
            return None
