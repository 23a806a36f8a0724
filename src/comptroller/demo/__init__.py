"""A deterministic, realistic AI spend dataset for Northwind Labs, with its waste planted on purpose.

The demo feeds every other feature something worth looking at: four FOCUS exports of different
versions and formats (the real ingest path must cope with all of them), per-call usage events,
virtual-tag rules, owners and shared-cost allocations, and ``truth``: what a correct feature must
find. Same arguments give byte-identical files, so tests can pin exact numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from comptroller.demo import enterprise as org
from comptroller.demo import waste
from comptroller.demo.cloud import aws_rows, azure_rows
from comptroller.demo.expenses import expense_rows, shadow_truth, write_expenses
from comptroller.demo.governance_data import shadow_ai_truth
from comptroller.demo.platforms import platform_rows
from comptroller.demo.seats import seat_rows
from comptroller.demo.usage import BLOCKING_BUDGET, gateway_blocks, generate_usage
from comptroller.demo.writer import Period, Row, focus_columns, write_csv, write_parquet

__all__ = ["DemoDataset", "generate"]

AWS_FILE = "aws-focus-1.2.csv.gz"
AZURE_FILE = "azure-focus-1.0.csv"
PLATFORMS_FILE = "ai-platforms-focus-1.2.parquet"
SEATS_FILE = "saas-seats-focus-1.3.csv"
EXPENSES_FILE = "card-transactions.csv"
TRUTH_FILE = "truth.json"


@dataclass(frozen=True)
class DemoDataset:
    """Everything a demo load needs, in the shapes the real entry points take."""

    focus_files: tuple[Path, ...]
    """AWS FOCUS 1.2 CSV.gz, Azure FOCUS 1.0 CSV (literal NULL), AI platforms FOCUS 1.2 Parquet,
    SaaS seats FOCUS 1.3 CSV: for the FOCUS ingest path."""
    usage_events: pa.Table
    """Per-call events in the ledger's usage-event columns, without costs (pricing adds them)."""
    rules: tuple[dict, ...]
    """Virtual-tag rules, first match wins: ``{dimension, value, condition, override}``."""
    owners: tuple[dict, ...]
    allocations: tuple[dict, ...]
    truth: dict
    """What is planted and where, measured from the data; also written to ``truth.json``."""
    expense_files: tuple[Path, ...] = ()
    """Card transactions (AI tools among ordinary spend): for the expenses connector."""
    gateway_blocks: pa.Table | None = None
    """Calls the gateway held on an approval budget, as its spend drain stores them; apart from
    ``usage_events`` so that the truth about the traffic does not depend on them."""


def generate(
    out_dir: Path, *, end: dt.date, months: int = 3, seed: int = 7, scale: float = 1.0
) -> DemoDataset:
    """Write the demo's FOCUS files and truth.json into ``out_dir`` and return the whole dataset.

    The period is ``months`` calendar months ending with the month of ``end``, that month only up
    to ``end``. ``scale`` multiplies the number of usage events (about 150,000 over three months
    at 1.0); the cost files describe the same estate at any scale.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    period = Period.ending(end, months)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    month_days = [period.month_days(first) for first, _ in period.months]
    # Children of a SeedSequence depend only on their index, so adding a stream keeps the others.
    cloud_rng, azure_rng, platform_rng, seat_rng, usage_rng, expense_rng, block_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)
    )
    aws = _by_time(aws_rows(cloud_rng, period.days, month_days))
    azure = _by_time(azure_rows(azure_rng, period.days))
    platforms = _by_time(platform_rows(platform_rng, period.days, month_days))
    seats = seat_rows(seat_rng, month_days, period.end)

    files = (
        write_csv(out_dir / AWS_FILE, _names("1.2", "x_UsageType", "x_Operation", "x_GpuUtilization"), aws),
        write_csv(out_dir / AZURE_FILE, _names("1.0", "ResourceGroup", "MeterCategory"), azure, null="NULL"),
        write_parquet(out_dir / PLATFORMS_FILE, focus_columns("1.2"), platforms),
        write_csv(
            out_dir / SEATS_FILE, _names("1.3", "x_SeatsAssigned", "x_SeatsActive30d", "x_RenewalDate"), seats
        ),
    )
    expenses = expense_rows(expense_rng, month_days)
    expense_file = write_expenses(out_dir / EXPENSES_FILE, expenses)
    tag = f"{seed}|{end.isoformat()}|{months}|{scale!r}"
    events = generate_usage(usage_rng, period, scale, tag)
    blocks = gateway_blocks(block_rng, period, tag)
    by_file = {AWS_FILE: aws, AZURE_FILE: azure, PLATFORMS_FILE: platforms, SEATS_FILE: seats}
    truth = _truth(period, seed, scale, by_file, events)
    truth["shadow_ai"] = shadow_ai_truth(shadow_truth(expenses), events)
    truth["gateway_blocks"] = _blocks_truth(blocks)
    (out_dir / TRUTH_FILE).write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return DemoDataset(files, events, org.RULES, org.OWNERS, org.ALLOCATIONS, truth, (expense_file,), blocks)


def _blocks_truth(blocks: pa.Table) -> dict[str, Any]:
    """The held calls as the approvals page must show them: one pending request per id."""
    return {
        "budget": BLOCKING_BUDGET[0],
        "calls": blocks.num_rows,
        "keys": sorted(set(blocks.column("api_key_id").to_pylist())),
        "approval_request_ids": sorted(blocks.column("approval_request_id").to_pylist()),
    }


def _names(version: str, *extra: str) -> list[str]:
    return [c.name for c in focus_columns(version)] + list(extra)


def _by_time(rows: list[Row]) -> list[Row]:
    """Exports list charges in time order; a stable sort keeps generation order within a day."""
    return sorted(rows, key=lambda r: r["ChargePeriodStart"])


def _truth(
    period: Period, seed: int, scale: float, files: dict[str, list[Row]], events: pa.Table
) -> dict[str, Any]:
    providers = pc.value_counts(events.column("provider")).to_pylist()
    return {
        "company": org.COMPANY,
        "seed": seed,
        "scale": scale,
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "months": [first.isoformat()[:7] for first, _ in period.months],
        },
        "files": {
            AWS_FILE: {"focus_version": "1.2", "rows": len(files[AWS_FILE])},
            AZURE_FILE: {"focus_version": "1.0", "rows": len(files[AZURE_FILE])},
            PLATFORMS_FILE: {"focus_version": "1.2", "rows": len(files[PLATFORMS_FILE])},
            SEATS_FILE: {"focus_version": "1.3", "rows": len(files[SEATS_FILE])},
        },
        "usage_events": {
            "rows": events.num_rows,
            "by_provider": {p["values"]: p["counts"] for p in sorted(providers, key=lambda p: p["values"])},
            "unknown_model": "northwind-llama-ft-v2",
        },
        "unowned_teams": sorted(t.name for t in org.TEAMS if t.owner is None),
        "idle_gpu": waste.idle_gpu_truth(files[AWS_FILE]),
        "commitment": waste.commitment_truth(files[AWS_FILE]),
        "unused_seats": waste.seats_truth(files[SEATS_FILE]),
        "untagged_spend": waste.untagged_truth(files, org.RULES, org.ALLOCATIONS),
        "allocation_pools": waste.pools_truth(files, org.ALLOCATIONS),
        **waste.usage_truth(events, period),
    }
