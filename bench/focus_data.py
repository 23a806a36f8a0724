"""A synthetic but realistic FOCUS 1.2 export, generated in DuckDB SQL and written with COPY.

One billing month (October 2025) of a multi-cloud + model-API estate: 32 columns (every FOCUS
column a row cannot do without, plus the ones AI FinOps reads: SubAccountName from 20 accounts,
Tags JSON with team/product keys on ~70% of rows, SkuPriceDetails with ModelId on AI rows).
Money columns are DECIMAL(38,12); the Parquet file keeps native types (TIMESTAMPTZ, DECIMAL) and
the CSV.gz file writes every timestamp as an ISO 8601 string ending in Z, as real exports do.

Every value is a deterministic function of the row number (``hash(i, k)``), so the generator is
one parallel SELECT over ``range(N)`` and two runs with the same N produce the same rows.

    .venv/bin/python bench/focus_data.py --rows 200000
"""

from __future__ import annotations

import argparse
import json
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

DATA_DIR = Path(__file__).resolve().parent / ".data"
GENERATOR_VERSION = 2
MONTH_START = "2025-10-01 00:00:00+00"
MONTH_END = "2025-11-01 00:00:00+00"
HOURS_IN_MONTH = 31 * 24


@dataclass(frozen=True)
class Service:
    provider: int
    name: str
    category: str
    pricing_unit: str
    consumed_unit: str
    unit_scale: float
    """Consumed units per pricing unit (1M tokens, 1 hour...)."""
    prices: tuple[float, ...]
    """List unit prices; AI services have one per model."""
    models: tuple[str, ...]
    weight: int
    resource: str
    """Resource id prefix; empty for services that report no resource."""


PROVIDERS: tuple[tuple[str, str], ...] = (
    # (ProviderName, a model developer for AI rows that do not name one)
    ("Amazon Web Services", "Amazon"),
    ("Microsoft", "OpenAI"),
    ("Google Cloud", "Google"),
    ("OpenAI", "OpenAI"),
    ("Anthropic", "Anthropic"),
)

# (BillingAccountId, BillingAccountName) per provider.
BILLING_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("111122223333", "Comptroller Payer"),
    ("b1f2c3d4-0000-4a5b-9c8d-billing00001", "Contoso EA"),
    ("01A2B3-C4D5E6-F7A8B9", "Contoso GCP Billing"),
    ("org-Kq3pX9vL2mN8", "Contoso OpenAI"),
    ("anth-org-7f3e2a", "Contoso Anthropic"),
)

# (SubAccountName, provider index, owning team). Twenty accounts; AWS has the most.
SUB_ACCOUNTS: tuple[tuple[str, int, str], ...] = (
    ("Atlas Nimbus", 0, "search"),
    ("Atlas Nimbus Staging", 0, "search"),
    ("Beacon Prod", 0, "ads"),
    ("Beacon Dev", 0, "ads"),
    ("Compass Data Lake", 0, "data"),
    ("Drift ML Research", 0, "ml-research"),
    ("Ember Platform", 0, "platform"),
    ("Fjord Shared Services", 0, "infra"),
    ("Azure Copilot Prod", 1, "support-bots"),
    ("Azure Copilot Dev", 1, "support-bots"),
    ("Azure Risk Analytics", 1, "risk"),
    ("Azure Growth Sandbox", 1, "growth"),
    ("gcp-vertex-prod", 2, "search"),
    ("gcp-vertex-dev", 2, "ml-research"),
    ("gcp-bigquery-analytics", 2, "data"),
    ("OpenAI Default Project", 3, "growth"),
    ("OpenAI Support Assistant", 3, "support-bots"),
    ("OpenAI Mobile", 3, "mobile"),
    ("Claude Code Seats", 4, "platform"),
    ("Claude API Prod", 4, "mobile"),
)

TEAMS: tuple[str, ...] = (
    "search",
    "ads",
    "growth",
    "platform",
    "data",
    "support-bots",
    "risk",
    "infra",
    "ml-research",
    "mobile",
)
PRODUCTS: tuple[str, ...] = ("atlas", "beacon", "compass", "drift", "ember", "fjord")

TOKENS, M = "Tokens", 1_000_000.0
SERVICES: tuple[Service, ...] = (
    Service(0, "Amazon EC2", "Compute", "Hours", "Hours", 1, (0.096, 0.384, 3.06), (), 30, "arn:aws:ec2:i-"),
    Service(0, "Amazon S3", "Storage", "GB-Mo", "GB-Mo", 1, (0.023,), (), 12, "arn:aws:s3:::bucket-"),
    Service(
        0,
        "Amazon Bedrock",
        "AI and Machine Learning",
        "1M Tokens",
        TOKENS,
        M,
        (3.0, 15.0, 0.8, 0.72),
        ("anthropic.claude-sonnet-4", "anthropic.claude-opus-4", "amazon.nova-pro-v1", "meta.llama3-70b"),
        14,
        "",
    ),
    Service(
        0,
        "Amazon SageMaker",
        "AI and Machine Learning",
        "Hours",
        "Hours",
        1,
        (1.21,),
        (),
        6,
        "arn:aws:sm:ep-",
    ),
    Service(1, "Virtual Machines", "Compute", "Hours", "Hours", 1, (0.192, 0.9), (), 8, "/subscriptions/vm-"),
    Service(
        1,
        "Azure OpenAI Service",
        "AI and Machine Learning",
        "1M Tokens",
        TOKENS,
        M,
        (2.5, 0.15, 10.0),
        ("gpt-4o", "gpt-4o-mini", "o1"),
        10,
        "/subscriptions/aoai-",
    ),
    Service(
        2,
        "Compute Engine",
        "Compute",
        "Hours",
        "Hours",
        1,
        (0.134, 2.48),
        (),
        5,
        "//compute.googleapis.com/vm-",
    ),
    Service(
        2,
        "Vertex AI",
        "AI and Machine Learning",
        "1M Tokens",
        TOKENS,
        M,
        (1.25, 0.075),
        ("gemini-2.5-pro", "gemini-2.5-flash"),
        6,
        "",
    ),
    Service(
        3,
        "OpenAI API",
        "AI and Machine Learning",
        "1M Tokens",
        TOKENS,
        M,
        (2.5, 0.15, 10.0, 0.02),
        ("gpt-4o", "gpt-4o-mini", "o3", "text-embedding-3-small"),
        6,
        "",
    ),
    Service(
        4,
        "Claude API",
        "AI and Machine Learning",
        "1M Tokens",
        TOKENS,
        M,
        (3.0, 15.0, 0.8),
        ("claude-sonnet-4", "claude-opus-4", "claude-haiku-3-5"),
        2,
        "",
    ),
    Service(4, "Claude Team", "AI and Machine Learning", "Seat-Month", "Seats", 1, (30.0,), (), 1, ""),
)
TOKEN_KINDS: tuple[str, ...] = ("uncached_input", "output", "cache_read", "cache_write")

REGIONS: tuple[tuple[str, ...], ...] = (
    ("us-east-1", "us-west-2", "eu-west-1"),
    ("eastus", "westeurope"),
    ("us-central1", "europe-west4"),
    ("global",),
    ("global",),
)

FOCUS_COLUMN_ORDER: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "ResourceId",
    "ServiceCategory",
    "ServiceName",
    "SkuPriceDetails",
    "SubAccountId",
    "SubAccountName",
    "Tags",
)
TIMESTAMP_COLUMNS: tuple[str, ...] = (
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargePeriodEnd",
    "ChargePeriodStart",
)


@dataclass(frozen=True)
class FocusFiles:
    rows: int
    parquet: Path
    csv_gz: Path
    parquet_bytes: int
    csv_gz_bytes: int
    csv_uncompressed_bytes: int
    column_bytes: int
    """The rows' size as typed columns: string bytes plus the width of fixed-size values."""
    seconds: float

    def meta_path(self) -> Path:
        return self.parquet.with_suffix(".json")


def sql_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def num_list(values: list[float] | tuple[float, ...]) -> str:
    return "([" + ", ".join(repr(float(v)) for v in values) + "]::DOUBLE[])"


def int_list(values: list[int] | tuple[int, ...]) -> str:
    return "([" + ", ".join(str(v) for v in values) + "]::INTEGER[])"


def flat_lists(groups: Sequence[Sequence[Any]], render: Callable[[Any], str]) -> tuple[str, str, str]:
    """Nested lists flattened into one SQL list plus per-group offsets and lengths, so that every
    lookup in the generator is a plain index into a constant list."""
    flat = [v for g in groups for v in g]
    offsets = [sum(len(g) for g in groups[:k]) for k in range(len(groups))]
    return render(flat), int_list(offsets), int_list([len(g) for g in groups])


def _pick(list_sql: str, length: int | str, h: str) -> str:
    """Element of a SQL list chosen by hash column ``h`` (1-based lists)."""
    return f"{list_sql}[1 + ({h} % {length})::INTEGER]"


def rows_sql(rows: int) -> str:
    """A SELECT yielding ``rows`` FOCUS rows with native types (TIMESTAMPTZ, DECIMAL(38,12))."""
    # Sub account -> provider -> service (weighted, within provider) -> model / price.
    services_by_provider = [
        [i for i, s in enumerate(SERVICES) if s.provider == p for _ in range(s.weight)]
        for p in range(len(PROVIDERS))
    ]
    acct_provider = int_list([a[1] for a in SUB_ACCOUNTS])
    svc_ids, svc_offsets, svc_counts = flat_lists(services_by_provider, int_list)
    n_variants = int_list([len(s.prices) for s in SERVICES])
    models, model_offsets, _ = flat_lists([s.models or ("",) * len(s.prices) for s in SERVICES], sql_list)
    prices, price_offsets, _ = flat_lists([s.prices for s in SERVICES], num_list)
    regions, region_offsets, region_counts = flat_lists(REGIONS, sql_list)
    developers = sql_list([p[1] for p in PROVIDERS])

    def svc(attr: str) -> str:
        return sql_list([str(getattr(s, attr)) for s in SERVICES]) + "[svc + 1]"

    account_team = sql_list([a[2] for a in SUB_ACCOUNTS])
    # Stage 1: the random draws. Stage 2: choices. Stage 3: amounts. Stage 4: output columns.
    # BIGINT, not hash()'s UBIGINT: UBIGINT % INTEGER widens to HUGEINT, which is ~50x slower.
    draws = ", ".join(f"(hash(i, {k}) >> 1)::BIGINT AS h{k}" for k in range(1, 13))
    stage1 = f"SELECT i, {draws} FROM range({rows}) t(i)"
    stage2 = f"""
      SELECT *,
        (h1 % {len(SUB_ACCOUNTS)})::INTEGER AS acct,
        {acct_provider}[1 + (h1 % {len(SUB_ACCOUNTS)})::INTEGER] AS prov,
        CASE WHEN h3 % 1000 < 980 THEN 'Usage' WHEN h3 % 1000 < 990 THEN 'Tax' ELSE 'Credit' END AS cat,
        (h4 % {HOURS_IN_MONTH})::INTEGER AS hour
      FROM ({stage1})"""
    stage2b = f"""
      SELECT *, {svc_ids}[{svc_offsets}[prov + 1] + 1 + (h2 % {svc_counts}[prov + 1])::INTEGER] AS svc
      FROM ({stage2})"""
    stage3 = f"""
      SELECT *,
        (h5 % {n_variants}[svc + 1])::INTEGER AS variant,
        {num_list([s.unit_scale for s in SERVICES])}[svc + 1] AS scale,
        {svc("pricing_unit")} AS pricing_unit,
        {svc("consumed_unit")} AS consumed_unit,
        {svc("category")} = 'AI and Machine Learning' AND {svc("consumed_unit")} = '{TOKENS}' AS is_tokens,
        CASE {svc("consumed_unit")}
          WHEN '{TOKENS}' THEN round(pow(10, 2.5 + (h6 % 100000) / 100000.0 * 4.2))
          WHEN 'Hours' THEN CASE WHEN h6 % 10 < 8 THEN 1.0 ELSE (h6 % 3600) / 3600.0 END
          WHEN 'GB-Mo' THEN (h6 % 1000000) / 1000.0 / {HOURS_IN_MONTH}
          ELSE 1.0 + h6 % 40
        END AS consumed,
        0.05 + (prov * 0.02) AS discount,
        h7 % 10 < 3 AS committed
      FROM ({stage2b})"""
    tags = f"""CASE
        WHEN h8 % 100 < 70 THEN
          '{{"' || {sql_list(["user:team", "Team", "team", "team", "team"])}[prov + 1] || '":"'
          || CASE WHEN h9 % 10 < 8 THEN {account_team}[acct + 1] ELSE {_pick(sql_list(TEAMS), len(TEAMS), "h9")} END
          || '","' || {sql_list(["user:product", "Product", "product", "product", "product"])}[prov + 1] || '":"'
          || {_pick(sql_list(PRODUCTS), len(PRODUCTS), "h10")}
          || '","env":"' || CASE WHEN h10 % 5 = 0 THEN 'dev' ELSE 'prod' END || '"}}'
        WHEN h8 % 100 < 85 THEN '{{"env":"' || CASE WHEN h10 % 3 = 0 THEN 'dev' ELSE 'prod' END || '"}}'
      END"""
    money = "CAST({} AS DECIMAL(38,12))"
    list_cost = "(consumed / scale * unit_price)"
    eff = f"({list_cost} * (1 - discount) * CASE WHEN committed THEN 0.72 ELSE 1 END)"
    sign = "CASE cat WHEN 'Usage' THEN 1 WHEN 'Tax' THEN 0.08 ELSE -0.15 END"
    usage = "cat = 'Usage'"
    stage4 = f"""
      SELECT *, {prices}[{price_offsets}[svc + 1] + variant + 1] AS unit_price,
        CASE WHEN is_tokens THEN {models}[{model_offsets}[svc + 1] + variant + 1] END AS model
      FROM ({stage3})"""
    columns = {
        "BilledCost": money.format(f"{eff} * {sign}"),
        "BillingAccountId": f"{sql_list([b[0] for b in BILLING_ACCOUNTS])}[prov + 1]",
        "BillingAccountName": f"{sql_list([b[1] for b in BILLING_ACCOUNTS])}[prov + 1]",
        "BillingCurrency": "'USD'",
        "BillingPeriodEnd": f"TIMESTAMPTZ '{MONTH_END}'",
        "BillingPeriodStart": f"TIMESTAMPTZ '{MONTH_START}'",
        "ChargeCategory": "cat",
        "ChargeClass": "CAST(NULL AS VARCHAR)",
        "ChargeDescription": (
            f"CASE WHEN {usage} THEN {svc('name')} || ' ' || coalesce(model || ' ', '') || consumed_unit "
            "|| ' usage' ELSE cat || ' for ' || " + svc("name") + " END"
        ),
        "ChargeFrequency": (
            f"CASE WHEN NOT {usage} THEN 'One-Time' WHEN consumed_unit = 'Seats' THEN 'Recurring' "
            "ELSE 'Usage-Based' END"
        ),
        "ChargePeriodEnd": f"TIMESTAMPTZ '{MONTH_START}' + to_hours(hour + 1)",
        "ChargePeriodStart": f"TIMESTAMPTZ '{MONTH_START}' + to_hours(hour)",
        "ConsumedQuantity": f"CASE WHEN {usage} THEN {money.format('consumed')} END",
        "ConsumedUnit": f"CASE WHEN {usage} THEN consumed_unit END",
        "ContractedCost": money.format(f"{list_cost} * (1 - discount) * {sign}"),
        "EffectiveCost": money.format(f"{eff} * {sign}"),
        "InvoiceId": f"'INV-2025-10-' || {int_list([7301 + k for k in range(len(BILLING_ACCOUNTS))])}[prov + 1]",
        "InvoiceIssuerName": f"{sql_list([p[0] for p in PROVIDERS])}[prov + 1]",
        "ListCost": money.format(f"{list_cost} * {sign}"),
        "ListUnitPrice": f"CASE WHEN {usage} THEN {money.format('unit_price')} END",
        "PricingQuantity": f"CASE WHEN {usage} THEN {money.format('consumed / scale')} END",
        "PricingUnit": f"CASE WHEN {usage} THEN pricing_unit END",
        "ProviderName": f"{sql_list([p[0] for p in PROVIDERS])}[prov + 1]",
        "PublisherName": f"{sql_list([p[0] for p in PROVIDERS])}[prov + 1]",
        "RegionId": f"{regions}[{region_offsets}[prov + 1] + 1 + (h11 % {region_counts}[prov + 1])::INTEGER]",
        "ResourceId": (
            f"CASE WHEN {svc('resource')} <> '' THEN {svc('resource')} || printf('%012x', h12 % 40000) END"
        ),
        "ServiceCategory": svc("category"),
        "ServiceName": svc("name"),
        "SkuPriceDetails": (
            f'CASE WHEN is_tokens AND {usage} THEN \'{{"ModelId":"\' || model || \'","ModelDeveloper":"\' '
            f'|| {developers}[prov + 1] || \'","x_TokenKind":"\' || '
            f"{_pick(sql_list(TOKEN_KINDS), len(TOKEN_KINDS), 'h11')} || '\"}}' "
            f"WHEN consumed_unit = 'Hours' AND {usage} THEN '{{\"CoreCount\":' || (2 << (h12 % 5)::INTEGER) || '}}' END"
        ),
        "SubAccountId": "'sub-' || printf('%04d', acct)",
        "SubAccountName": f"{sql_list([a[0] for a in SUB_ACCOUNTS])}[acct + 1]",
        "Tags": tags,
    }
    assert tuple(columns) == FOCUS_COLUMN_ORDER
    select = ",\n        ".join(f'{expr} AS "{name}"' for name, expr in columns.items())
    return f"SELECT {select}\n FROM ({stage4})"


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    return con


def _gunzipped_size(path: Path) -> int:
    """Uncompressed bytes of a (possibly multi-member) gzip file; gzip -l wraps at 4 GiB."""
    total = 0
    with path.open("rb") as fh:
        decompressor = zlib.decompressobj(wbits=31)
        while chunk := fh.read(16 << 20):
            while chunk:
                total += len(decompressor.decompress(chunk))
                chunk = decompressor.unused_data
                if decompressor.eof:
                    decompressor = zlib.decompressobj(wbits=31)
                else:
                    break
        total += len(decompressor.flush())
    return total


FIXED_WIDTHS = {"TIMESTAMP WITH TIME ZONE": 8, "TIMESTAMP": 8, "BIGINT": 8, "DOUBLE": 8, "BOOLEAN": 1}


def column_bytes(parquet: Path) -> int:
    """Sum of column sizes once decoded: string bytes, 16 per DECIMAL(38,x), 8 per timestamp."""
    con = _connect()
    try:
        source = f"read_parquet('{parquet}')"
        parts = []
        for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall():
            if kind == "VARCHAR":
                parts.append(f'coalesce(sum(strlen("{name}")), 0)')
            elif kind.startswith("DECIMAL"):
                width = 16 if int(kind.split("(")[1].split(",")[0]) > 18 else 8
                parts.append(f"{width} * count(*)")
            else:
                parts.append(f"{FIXED_WIDTHS[kind]} * count(*)")
        row = con.execute(f"SELECT {' + '.join(parts)} FROM {source}").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def generate(rows: int, out_dir: Path = DATA_DIR) -> FocusFiles:
    out_dir.mkdir(parents=True, exist_ok=True)
    parquet = out_dir / f"focus_{rows}.parquet"
    csv_gz = out_dir / f"focus_{rows}.csv.gz"
    started = time.perf_counter()
    con = _connect()
    try:
        con.execute(
            f"COPY ({rows_sql(rows)}) TO '{parquet}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
        )
        as_text = ", ".join(
            f'strftime("{c}", \'%Y-%m-%dT%H:%M:%SZ\') AS "{c}"' if c in TIMESTAMP_COLUMNS else f'"{c}"'
            for c in FOCUS_COLUMN_ORDER
        )
        con.execute(
            f"COPY (SELECT {as_text} FROM read_parquet('{parquet}')) TO '{csv_gz}' "
            "(FORMAT csv, HEADER true, COMPRESSION gzip)"
        )
    finally:
        con.close()
    files = FocusFiles(
        rows=rows,
        parquet=parquet,
        csv_gz=csv_gz,
        parquet_bytes=parquet.stat().st_size,
        csv_gz_bytes=csv_gz.stat().st_size,
        csv_uncompressed_bytes=_gunzipped_size(csv_gz),
        column_bytes=column_bytes(parquet),
        seconds=time.perf_counter() - started,
    )
    meta = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(files).items()}
    files.meta_path().write_text(json.dumps({"version": GENERATOR_VERSION, **meta}))
    return files


def ensure(rows: int, out_dir: Path = DATA_DIR) -> FocusFiles:
    """The files for ``rows``, generated unless an identical earlier generation is still on disk."""
    meta_path = out_dir / f"focus_{rows}.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        files = FocusFiles(
            rows=meta["rows"],
            parquet=Path(meta["parquet"]),
            csv_gz=Path(meta["csv_gz"]),
            parquet_bytes=meta["parquet_bytes"],
            csv_gz_bytes=meta["csv_gz_bytes"],
            csv_uncompressed_bytes=meta["csv_uncompressed_bytes"],
            column_bytes=meta["column_bytes"],
            seconds=meta["seconds"],
        )
        if (
            meta.get("version") == GENERATOR_VERSION
            and files.parquet.exists()
            and files.csv_gz.exists()
            and files.parquet.stat().st_size == files.parquet_bytes
            and files.csv_gz.stat().st_size == files.csv_gz_bytes
        ):
            return files
    return generate(rows, out_dir)


def remove(files: FocusFiles) -> None:
    for path in (files.parquet, files.csv_gz, files.meta_path()):
        path.unlink(missing_ok=True)


def mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    files = generate(args.rows, args.out)
    print(f"{files.rows:,} rows in {files.seconds:.1f} s")
    print(f"  {files.parquet}  {mib(files.parquet_bytes)} ({mib(files.column_bytes)} as columns)")
    print(f"  {files.csv_gz}  {mib(files.csv_gz_bytes)} ({mib(files.csv_uncompressed_bytes)} uncompressed)")


if __name__ == "__main__":
    main()
