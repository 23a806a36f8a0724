"""Mapping any FOCUS 1.0–1.3 file onto the ledger's cost-line columns, as DuckDB SQL.

The mapping is pure SQL so that DuckDB reads, casts and inserts in one parallel pass; Python only
decides, once per file, which expression fills each column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from comptroller.ingest.files import FileFormat, reader_sql
from comptroller.ledger.schema import (
    BUSINESS_DIMENSIONS,
    COST_LINE_COLUMNS,
    FOCUS_COLUMNS,
    LEDGER_CUSTOM_COLUMNS,
    Column,
    Kind,
    dimension_column,
)
from comptroller.ledger.sqltypes import DUCKDB_TYPES, literal, quote

FOCUS_NAMES = {c.name for c in FOCUS_COLUMNS}
OUR_NAMES = {c.name for c in LEDGER_CUSTOM_COLUMNS}
_OUR_NAMES_FOLDED = {n.lower() for n in OUR_NAMES}

# FOCUS 1.3 deprecates ProviderName/PublisherName in favour of these; older files lack them.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "ProviderName": ("ServiceProviderName",),
    "PublisherName": ("ServiceProviderName", "ProviderName"),
    "ServiceProviderName": ("ProviderName",),
    "InvoiceIssuerName": ("ServiceProviderName", "ProviderName"),
}


def detect_version(names: set[str]) -> str:
    if names & {"AllocatedMethodId", "ServiceProviderName", "HostProviderName", "ContractApplied"}:
        return "1.3"
    if names & {"InvoiceId", "PricingCurrency", "BillingAccountType", "SubAccountType"}:
        return "1.2"
    if names & {"SkuPriceDetails", "ServiceSubcategory", "SkuMeter", "CommitmentDiscountQuantity"}:
        return "1.1"
    return "1.0"


def provider_column_name(name: str) -> str:
    """Extra provider columns are kept, renamed into the x_ namespace the spec reserves."""
    candidate = name if name.startswith("x_") else f"x_{name}"
    return f"x_Provider_{name.removeprefix('x_')}" if candidate.lower() in _OUR_NAMES_FOLDED else candidate


def valid_json(sql: str) -> str:
    """Invalid JSON reads as NULL here, so the row reaches the check that names it."""
    return f"CASE WHEN json_valid({sql}) THEN {sql} END"


SKU_DETAILS = valid_json('"SkuPriceDetails"')


def tag_keys(dimension: str) -> tuple[str, ...]:
    """Spellings of a dimension's tag key seen in real exports (AWS user: prefix, hyphens, case)."""
    camel = "".join(p.capitalize() for p in dimension.split("_"))
    variants = [
        dimension,
        dimension.replace("_", "-"),
        camel,
        camel[0].lower() + camel[1:],
        dimension.upper(),
    ]
    variants += [f"user:{v}" for v in variants[:2]]
    return tuple(dict.fromkeys(variants))


def tag_expression(tags_sql: str, dimension: str) -> str:
    document = valid_json(tags_sql)
    parts = [f"json_extract_string({document}, {literal('$.' + _json_key(k))})" for k in tag_keys(dimension)]
    return f"COALESCE({', '.join(parts)})"


def _json_key(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'


@dataclass
class FocusFile:
    path: Path
    fmt: FileFormat
    source_columns: list[tuple[str, str]]
    source: str = "focus"
    extras: dict[str, str] = field(default_factory=dict)
    """source column name -> ledger column name for provider columns we keep."""

    def __post_init__(self) -> None:
        names = {n for n, _ in self.source_columns}
        self.version = detect_version(names)
        self.extras = {n: provider_column_name(n) for n, _ in self.source_columns if n not in FOCUS_NAMES}

    @property
    def source_types(self) -> dict[str, str]:
        return dict(self.source_columns)

    def missing_mandatory(self) -> list[str]:
        """Mandatory columns a row cannot do without; nullable ones missing are filled with NULL."""
        present = set(self.source_types)
        return [
            col.name
            for col in FOCUS_COLUMNS
            if col.requirement == "M"
            and not col.nullable
            and col.name not in present
            and not any(f in present for f in FALLBACKS.get(col.name, ()))
        ]

    def cast_expression(self, col: Column, cast: str = "CAST") -> str:
        """The expression that fills one ledger column from this file."""
        types = self.source_types
        if col.name not in types:
            for fallback in FALLBACKS.get(col.name, ()):
                if fallback in types:
                    return f"CAST({quote(fallback)} AS VARCHAR)"
            return f"CAST(NULL AS {DUCKDB_TYPES[col.kind]})"
        return convert(quote(col.name), types[col.name], col.kind, cast)

    def reader(self, row_numbers: bool = False) -> str:
        return reader_sql(self.path, self.fmt, row_numbers=row_numbers)

    def row_number_sql(self) -> str:
        """1-based data row (the header is not a row); only meaningful on one thread for CSV."""
        return "file_row_number + 1" if self.fmt is FileFormat.PARQUET else "row_number() OVER ()"

    def inner_select(self, cast: str = "CAST", row_numbers: bool = False) -> str:
        exprs = [f"{self.cast_expression(c, cast)} AS {quote(c.name)}" for c in FOCUS_COLUMNS]
        exprs += [f"CAST({quote(src)} AS VARCHAR) AS {quote(dst)}" for src, dst in self.extras.items()]
        if row_numbers:
            exprs.append(f"{self.row_number_sql()} AS _row")
        return f"SELECT {', '.join(exprs)} FROM {self.reader(row_numbers)}"

    def ledger_columns(self) -> list[str]:
        return [c.name for c in COST_LINE_COLUMNS] + list(self.extras.values())

    def select_sql(self, delivery_id: str, cast: str = "CAST", row_numbers: bool = False) -> str:
        """Rows of this file shaped as ledger cost lines (FOCUS columns, ours, then extras)."""
        own = {
            "x_Source": literal(self.source),
            "x_DeliveryId": literal(delivery_id),
            "x_SourceFile": literal(self.path.name),
            "x_FocusVersion": literal(self.version),
            "x_PriceVersion": "CAST(NULL AS VARCHAR)",
            "x_PricingFlag": "CAST(NULL AS VARCHAR)",
            "x_ConsumedTokens": _tokens_expression(),
            "x_TokenKind": f"json_extract_string({SKU_DETAILS}, '$.x_TokenKind')",
        }
        for dim in BUSINESS_DIMENSIONS:
            own[dimension_column(dim)] = dimension_expression(dim)
        exprs = [quote(c.name) for c in FOCUS_COLUMNS]
        exprs += [f"{own[c.name]} AS {quote(c.name)}" for c in LEDGER_CUSTOM_COLUMNS]
        exprs += [quote(dst) for dst in self.extras.values()]
        if row_numbers:
            exprs.append("_row")
        return f"SELECT {', '.join(exprs)} FROM ({self.inner_select(cast, row_numbers)}) AS f"


def convert(source: str, source_type: str, kind: Kind, cast: str = "CAST") -> str:
    upper = source_type.upper()
    if kind is Kind.TIMESTAMP:
        if upper.startswith("TIMESTAMP") and "TIME ZONE" not in upper:
            return source
        return f"{cast}({cast}({source} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if kind is Kind.JSON:
        if upper.startswith(("MAP", "STRUCT")):
            return f"CAST(to_json({source}) AS VARCHAR)"
        return f"NULLIF(TRIM(CAST({source} AS VARCHAR)), '')"
    if kind is Kind.DECIMAL and upper == "VARCHAR":
        return f"{cast}(NULLIF(TRIM({source}), '') AS {DUCKDB_TYPES[kind]})"
    return f"{cast}({source} AS {DUCKDB_TYPES[kind]})"


def _tokens_expression() -> str:
    return 'CASE WHEN "ConsumedUnit" ILIKE \'%token%\' THEN TRY_CAST("ConsumedQuantity" AS BIGINT) END'


def dimension_expression(dimension: str) -> str:
    """A dimension's own value on an ingested line: its tag, or what FOCUS columns imply."""
    tagged = tag_expression('"Tags"', dimension)
    if dimension == "model":
        return f"COALESCE(json_extract_string({SKU_DETAILS}, '$.ModelId'), {tagged})"
    if dimension == "vendor":
        return (
            f"COALESCE({tagged}, json_extract_string({SKU_DETAILS}, '$.ModelDeveloper'), "
            '"PublisherName", "ProviderName")'
        )
    if dimension == "cost_layer":
        return f"COALESCE({tagged}, {COST_LAYER_SQL})"
    return tagged


# Which of the four AI cost layers a FOCUS line belongs to, when no tag or rule says otherwise.
COST_LAYER_SQL = f"""CASE
    WHEN "PricingUnit" ILIKE '%seat%' OR "PricingUnit" ILIKE '%user%' OR "PricingUnit" ILIKE '%licen%'
      OR "ConsumedUnit" ILIKE '%seat%' THEN 'saas_seats'
    WHEN json_extract_string({SKU_DETAILS}, '$.ModelId') IS NOT NULL
      OR "PricingUnit" ILIKE '%token%' OR "ConsumedUnit" ILIKE '%token%' THEN 'model_api'
    WHEN "ServiceCategory" IN ('Compute', 'Storage', 'Networking', 'Databases') THEN 'infrastructure'
    WHEN "ServiceSubcategory" = 'Machine Learning' THEN 'infrastructure'
    ELSE 'ai_platform'
  END"""
