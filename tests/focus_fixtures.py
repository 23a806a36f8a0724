"""Writing small FOCUS exports for tests: each test states only the cells that matter.

``write_focus(path, rows)`` writes CSV, CSV.gz or Parquet (chosen by the file name) with every
column of the requested FOCUS version, filled from sensible defaults. A row is a dict of column ->
value; ``cost`` is a shorthand that sets all four cost columns; a ``dict`` value (e.g. ``Tags``) is
written as JSON text; any key that is not a FOCUS column becomes an extra provider column.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from comptroller.ledger.schema import FOCUS_COLUMNS

COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")

DEFAULTS: dict[str, Any] = {
    "AvailabilityZone": None,
    "BilledCost": "1",
    "BillingAccountId": "acct-1",
    "BillingAccountName": "Main account",
    "BillingAccountType": "Billing Account",
    "BillingCurrency": "USD",
    "BillingPeriodEnd": "2025-02-01T00:00:00Z",
    "BillingPeriodStart": "2025-01-01T00:00:00Z",
    "CapacityReservationId": None,
    "CapacityReservationStatus": None,
    "ChargeCategory": "Usage",
    "ChargeClass": None,
    "ChargeDescription": "Model tokens",
    "ChargeFrequency": "Usage-Based",
    "ChargePeriodEnd": "2025-01-11T00:00:00Z",
    "ChargePeriodStart": "2025-01-10T00:00:00Z",
    "CommitmentDiscountCategory": None,
    "CommitmentDiscountId": None,
    "CommitmentDiscountName": None,
    "CommitmentDiscountQuantity": None,
    "CommitmentDiscountStatus": None,
    "CommitmentDiscountType": None,
    "CommitmentDiscountUnit": None,
    "ConsumedQuantity": None,
    "ConsumedUnit": None,
    "ContractedCost": "1",
    "ContractedUnitPrice": None,
    "EffectiveCost": "1",
    "InvoiceId": "INV-1",
    "InvoiceIssuerName": "Anthropic",
    "ListCost": "1",
    "ListUnitPrice": None,
    "PricingCategory": "Standard",
    "PricingCurrency": "USD",
    "PricingCurrencyContractedUnitPrice": None,
    "PricingCurrencyEffectiveCost": None,
    "PricingCurrencyListUnitPrice": None,
    "PricingQuantity": "1",
    "PricingUnit": "1000000 Tokens",
    "ProviderName": "Anthropic",
    "PublisherName": "Anthropic",
    "RegionId": None,
    "RegionName": None,
    "ResourceId": None,
    "ResourceName": None,
    "ResourceType": None,
    "ServiceCategory": "AI and Machine Learning",
    "ServiceName": "Claude API",
    "ServiceSubcategory": "Generative AI",
    "SkuId": None,
    "SkuMeter": None,
    "SkuPriceDetails": None,
    "SkuPriceId": None,
    "SubAccountId": "ws-1",
    "SubAccountName": "Default workspace",
    "SubAccountType": "Workspace",
    "Tags": None,
    "AllocatedMethodDetails": None,
    "AllocatedMethodId": None,
    "AllocatedResourceId": None,
    "AllocatedResourceName": None,
    "AllocatedTags": None,
    "ContractApplied": None,
    "HostProviderName": None,
    "ServiceProviderName": "Anthropic",
}
assert set(DEFAULTS) == {c.name for c in FOCUS_COLUMNS}, "DEFAULTS must cover every FOCUS column"

_ORDER = ("1.0", "1.1", "1.2", "1.3")
DEPRECATED_IN_1_3 = ("ProviderName", "PublisherName")


def version_columns(version: str) -> list[str]:
    """The FOCUS columns a file of ``version`` carries (1.3 files use ServiceProviderName)."""
    upto = _ORDER.index(version)
    names = [c.name for c in FOCUS_COLUMNS if _ORDER.index(c.since) <= upto]
    if version == "1.3":
        names = [n for n in names if n not in DEPRECATED_IN_1_3]
    return names


def focus_rows(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Full rows: defaults, then the ``cost`` shorthand, then each row's own cells."""
    out = []
    for given in rows:
        given = dict(given)
        cost = given.pop("cost", None)
        row = {name: DEFAULTS.get(name) for name in columns}
        if cost is not None:
            row.update(dict.fromkeys(COST_COLUMNS, str(cost)))
        for name, value in given.items():
            row[name] = json.dumps(value) if isinstance(value, dict) else value
        out.append(row)
    return out


def _text(value: Any, null: str) -> str:
    if value is None:
        return null
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_focus(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    version: str = "1.2",
    drop: Sequence[str] = (),
    null: str = "NULL",
) -> Path:
    """Write a FOCUS export; the format follows the name (``.csv``, ``.csv.gz``, ``.parquet``).

    CSV cells that are None are written as ``null`` (real exports' literal ``NULL`` by default);
    Parquet columns are all strings, as a converted CSV export would carry them.
    """
    rows = list(rows)
    columns = [c for c in version_columns(version) if c not in drop]
    for row in rows:
        columns += [k for k in row if k != "cost" and k not in columns and k not in drop]
    full = [{k: v for k, v in r.items() if k in columns} for r in focus_rows(rows, columns)]
    name = path.name.lower()
    if name.endswith(".parquet"):
        data = {
            c: pa.array([None if r[c] is None else _text(r[c], "") for r in full], pa.string())
            for c in columns
        }
        pq.write_table(pa.table(data), path)
        return path
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for r in full:
        writer.writerow([_text(r[c], null) for c in columns])
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
            fh.write(buffer.getvalue())
    else:
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def ledger_totals(ledger: Any) -> tuple[int, Decimal, Decimal]:
    """(row count, sum of BilledCost, sum of EffectiveCost) of the ledger's cost lines."""
    count, billed, effective = ledger.execute(
        'SELECT count(*), sum("BilledCost"), sum("EffectiveCost") FROM cost_lines'
    )[0]
    return int(count), Decimal(billed or 0), Decimal(effective or 0)
