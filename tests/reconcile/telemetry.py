"""One month of two providers' traffic as both records: per-call telemetry and the provider's bill.

The bills are the providers' cost pages in their real formats (``fixtures/``). The telemetry is
per-call events as the gateway (OpenAI) and the OTLP receiver (Anthropic) store them. They are
built to differ in known ways (prices from the bundled catalog):

- OpenAI ``gpt-4o-mini`` in ``proj_search``: telemetry prices cache reads at $0.015, the bill
  charges $0.075 for them (a cache-pricing gap of $0.06); everything else matches.
- OpenAI ``gpt-4o-mini`` in ``proj_growth``: the bill is $0.0003 above telemetry (rounding).
- OpenAI ``gpt-4o`` in ``proj_legacy``: billed $3.50, no telemetry (bypassed the gateway).
- OpenAI ``acme-finetune-1`` in ``proj_lab``: telemetry cannot price it (unpriced); billed $0.42.
- Anthropic ``claude-sonnet-4`` in ``wrkspc_support``: telemetry and bill agree ($2.625).
- Anthropic ``claude-3-5-haiku`` in ``wrkspc_batch``: billed $0.24, no telemetry.
- 2025-03-03: OpenAI telemetry with no bill yet ($0.105, team growth).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from comptroller.ingest.provider_costs import ANTHROPIC_SOURCE, OPENAI_SOURCE, ingest_provider_costs
from comptroller.ingest.usage_events import TOKEN_COLUMNS, ingest_usage_events
from comptroller.ledger.store import Ledger
from comptroller.pricing import Pricer

FIXTURES = Path(__file__).parent / "fixtures"
OPENAI_BILL = FIXTURES / "openai_costs_2025_03.json"
ANTHROPIC_BILL = FIXTURES / "anthropic_cost_report_2025_03.json"
OPENAI_BILL_TOTAL = Decimal("4.8953")
"""Day 1: 4.31, day 2: 0.5853."""
ANTHROPIC_BILL_TOTAL = Decimal("2.865")
UNBILLED_DAY_TOTAL = Decimal("0.105")

MINI = "gpt-4o-mini-2024-07-18"
SONNET = "claude-sonnet-4-20250514"


def _event(
    n: int, day: int, source: str, provider: str, model: str, project: str, team: str, **tokens: int
) -> dict:
    return {
        "event_id": f"{source}-{n}",
        "timestamp": datetime(2025, 3, day, 10, n),
        "source": source,
        "provider": provider,
        "model": model,
        "project_id": project,
        "team": team,
        **dict.fromkeys(TOKEN_COLUMNS, 0),
        **tokens,
    }


def telemetry_events() -> pa.Table:
    return pa.Table.from_pylist(
        [
            _event(
                1,
                1,
                "gateway",
                "openai",
                MINI,
                "proj_search",
                "search",
                uncached_input_tokens=1_000_000,
                cache_read_tokens=200_000,
                output_tokens=100_000,
            ),
            _event(
                2,
                1,
                "gateway",
                "openai",
                MINI,
                "proj_search",
                "growth",
                uncached_input_tokens=500_000,
                output_tokens=50_000,
            ),
            _event(
                3,
                1,
                "gateway",
                "openai",
                "acme-finetune-1",
                "proj_lab",
                "lab",
                uncached_input_tokens=100_000,
                output_tokens=10_000,
            ),
            _event(
                4,
                2,
                "gateway",
                "openai",
                MINI,
                "proj_search",
                "search",
                uncached_input_tokens=2_000_000,
                output_tokens=300_000,
            ),
            _event(
                5,
                2,
                "gateway",
                "openai",
                MINI,
                "proj_growth",
                "growth",
                uncached_input_tokens=500_000,
                output_tokens=50_000,
            ),
            _event(
                6,
                3,
                "gateway",
                "openai",
                MINI,
                "proj_growth",
                "growth",
                uncached_input_tokens=500_000,
                output_tokens=50_000,
            ),
            _event(
                7,
                1,
                "otlp",
                "anthropic",
                SONNET,
                "wrkspc_support",
                "support",
                uncached_input_tokens=400_000,
                cache_read_tokens=1_000_000,
                cache_write_tokens=100_000,
                output_tokens=50_000,
            ),
        ]
    )


def load_month(ledger: Ledger, *, bills: bool = True, telemetry: bool = True) -> None:
    if telemetry:
        ingest_usage_events(ledger, telemetry_events(), Pricer())
    if bills:
        ingest_provider_costs(ledger, [OPENAI_BILL], OPENAI_SOURCE)
        ingest_provider_costs(ledger, [ANTHROPIC_BILL], ANTHROPIC_SOURCE)
