"""Card transactions and expense reports: where the demo's shadow AI hides.

Northwind's sanctioned AI arrives on cloud bills, seat invoices and the gateway; a handful of
people also pay for AI tools on corporate cards. The export mixes those with ordinary travel and
office spend (which the expenses connector ignores) and spells merchants the way card processors
do. Which tools are shadow AI, who pays and since when is measured from the rows in
``shadow_truth``, not restated from these constants.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from comptroller.demo.enterprise import DOMAIN

HEADER = ("Transaction Date", "Merchant", "Amount", "Currency", "Cardholder", "Cost Center", "Memo")

# vendor (catalog name) -> merchant descriptor, monthly price, cardholders and their cost centre,
# the month index (0 = first month of the period) from which they pay
SHADOW_TOOLS: dict[str, tuple[str, str, tuple[str, ...], str, int]] = {
    "Midjourney": ("MIDJOURNEY INC", "30.00", ("maya.chen", "leo.park", "ines.alvarez"), "Marketing", 0),
    "Perplexity": ("PERPLEXITY.AI PERPLEXITY PRO", "20.00", ("sam.ortiz", "nora.kim", "raj.patel", "ava.jones"), "Sales", 0),
    "Otter.ai": ("OTTER.AI", "16.99", ("tom.reed", "kay.lund"), "Customer Support", 1),
    "Jasper": ("JASPER AI INC", "49.00", ("maya.chen",), "Marketing", 1),
    "ElevenLabs": ("ELEVENLABS.IO", "99.00", ("leo.park",), "Marketing", 2),
}  # fmt: skip

ORDINARY = (
    ("UBER *TRIP", (12, 60), "Travel"),
    ("DELTA AIR LINES", (180, 620), "Travel"),
    ("STAPLES 0042", (15, 120), "Office"),
    ("ZOOM.US", (15, 15), "IT"),
)


def expense_rows(rng: np.random.Generator, months: list[list[dt.date]]) -> list[dict[str, str]]:
    """Monthly charges of each shadow tool per cardholder, among ordinary spend, in time order."""
    rows: list[dict[str, str]] = []
    for index, days in enumerate(months):
        if not days:
            continue
        for vendor, (merchant, price, people, centre, since) in SHADOW_TOOLS.items():
            if index < since:
                continue
            for person in people:
                day = days[min(len(days) - 1, int(rng.integers(0, min(10, len(days)))))]
                rows.append(_row(day, merchant, Decimal(price), person, centre, f"{vendor} subscription"))
        for _ in range(3 * len(days) // 7):
            merchant, (low, high), centre = ORDINARY[int(rng.integers(0, len(ORDINARY)))]
            amount = Decimal(int(rng.integers(low * 100, high * 100 + 1))) / 100
            day = days[int(rng.integers(0, len(days)))]
            rows.append(_row(day, merchant, amount, "pat.doyle", centre, "business expense"))
    return sorted(rows, key=lambda r: r["Transaction Date"])


def _row(day: dt.date, merchant: str, amount: Decimal, person: str, centre: str, memo: str) -> dict[str, str]:
    return {
        "Transaction Date": day.isoformat(),
        "Merchant": merchant,
        "Amount": f"{amount:.2f}",
        "Currency": "USD",
        "Cardholder": f"{person}@{DOMAIN}",
        "Cost Center": centre,
        "Memo": memo,
    }


def write_expenses(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def shadow_truth(rows: list[dict[str, str]]) -> dict[str, Any]:
    """Per shadow vendor: spend, distinct cardholders and the first charge, measured from rows."""
    merchants = {merchant: vendor for vendor, (merchant, *_rest) in SHADOW_TOOLS.items()}
    spend: dict[str, Decimal] = defaultdict(Decimal)
    people: dict[str, set[str]] = defaultdict(set)
    first: dict[str, str] = {}
    for row in rows:
        vendor = merchants.get(row["Merchant"])
        if vendor is None:
            continue
        spend[vendor] += Decimal(row["Amount"])
        people[vendor].add(row["Cardholder"])
        first[vendor] = min(first.get(vendor, row["Transaction Date"]), row["Transaction Date"])
    return {
        vendor: {"spend": str(spend[vendor]), "cardholders": len(people[vendor]), "first_seen": first[vendor]}
        for vendor in sorted(spend)
    }
