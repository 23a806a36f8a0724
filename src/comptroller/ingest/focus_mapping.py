"""Mapping any FOCUS 1.0–1.3 file onto the ledger's cost-line columns, as DuckDB SQL.

The mapping is pure SQL so that DuckDB reads, casts and inserts in one parallel pass; Python only
decides, once per file, which expression fills each column. Business dimensions come from lookup
functions over the file's distinct ``Tags`` and ``SkuPriceDetails`` values (``json_lookups``),
so no JSON is parsed per row.
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


@dataclass(frozen=True, slots=True)
class Relation:
    """Something DuckDB can select from, and the DuckDB type of each of its columns."""

    sql: str
    types: dict[str, str]


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

    def cast_expression(self, col: Column, cast: str = "CAST", types: dict[str, str] | None = None) -> str:
        """The expression that fills one ledger column from this file (read as ``types``)."""
        types = types if types is not None else self.source_types
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

    def relation(self, row_numbers: bool = False) -> Relation:
        """The file as DuckDB reads it (CSV cells as text)."""
        return Relation(self.reader(row_numbers), self.source_types)

    def inner_select(
        self, cast: str = "CAST", row_numbers: bool = False, source: Relation | None = None
    ) -> str:
        source = source or self.relation(row_numbers)
        exprs = [f"{self.cast_expression(c, cast, source.types)} AS {quote(c.name)}" for c in FOCUS_COLUMNS]
        exprs += [f"CAST({quote(src)} AS VARCHAR) AS {quote(dst)}" for src, dst in self.extras.items()]
        if row_numbers:
            exprs.append(f"{self.row_number_sql()} AS _row")
        return f"SELECT {', '.join(exprs)} FROM {source.sql}"

    def distinct_json_sql(self, column: str, source: Relation | None = None) -> str:
        """The distinct texts of a JSON column, as the ledger will store them."""
        source = source or self.relation()
        col = next(c for c in FOCUS_COLUMNS if c.name == column)
        expression = self.cast_expression(col, "TRY_CAST", source.types)
        return f"SELECT DISTINCT {expression} AS v FROM {source.sql} WHERE {expression} IS NOT NULL"

    def ledger_columns(self) -> list[str]:
        return [c.name for c in COST_LINE_COLUMNS] + list(self.extras.values())

    def select_sql(
        self,
        delivery_id: str,
        lookups: tuple[str, str],
        cast: str = "CAST",
        row_numbers: bool = False,
        source: Relation | None = None,
    ) -> str:
        """Rows of this file shaped as ledger cost lines (FOCUS columns, ours, then extras).

        ``lookups`` names the tag and SKU lookup functions (``Lookups.register``)."""
        own = {
            "x_Source": literal(self.source),
            "x_DeliveryId": literal(delivery_id),
            "x_SourceFile": literal(self.path.name),
            "x_FocusVersion": literal(self.version),
            "x_PriceVersion": "CAST(NULL AS VARCHAR)",
            "x_PricingFlag": "CAST(NULL AS VARCHAR)",
            "x_ConsumedTokens": _tokens_expression(),
            "x_TokenKind": "_sku.token_kind",
        }
        for dim in BUSINESS_DIMENSIONS:
            own[dimension_column(dim)] = dimension_expression(dim)
        exprs = [quote(c.name) for c in FOCUS_COLUMNS]
        exprs += [
            f"{own.get(c.name, f'CAST(NULL AS {DUCKDB_TYPES[c.kind]})')} AS {quote(c.name)}"
            for c in LEDGER_CUSTOM_COLUMNS
        ]
        exprs += [quote(dst) for dst in self.extras.values()]
        if row_numbers:
            exprs.append("_row")
        tags, skus = lookups
        looked_up = (
            f'SELECT *, {tags}("Tags") AS _tag, {skus}("SkuPriceDetails") AS _sku '
            f"FROM ({self.inner_select(cast, row_numbers, source)}) AS i"
        )
        return f"SELECT {', '.join(exprs)} FROM ({looked_up}) AS f"


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


SKU_MODEL = "_sku.model"


def dimension_expression(dimension: str) -> str:
    """A dimension's own value on an ingested line: its tag, or what FOCUS columns imply."""
    tagged = f"_tag.{dimension}"
    if dimension == "model":
        return f"COALESCE({SKU_MODEL}, {tagged})"
    if dimension == "vendor":
        return f'COALESCE({tagged}, _sku.developer, "PublisherName", "ProviderName")'
    if dimension == "cost_layer":
        return f"COALESCE({tagged}, {COST_LAYER_SQL})"
    return tagged


# Which of the four AI cost layers a FOCUS line belongs to, when no tag or rule says otherwise.
COST_LAYER_SQL = f"""CASE
    WHEN "PricingUnit" ILIKE '%seat%' OR "PricingUnit" ILIKE '%user%' OR "PricingUnit" ILIKE '%licen%'
      OR "ConsumedUnit" ILIKE '%seat%' THEN 'saas_seats'
    WHEN {SKU_MODEL} IS NOT NULL
      OR "PricingUnit" ILIKE '%token%' OR "ConsumedUnit" ILIKE '%token%' THEN 'model_api'
    WHEN "ServiceCategory" IN ('Compute', 'Storage', 'Networking', 'Databases') THEN 'infrastructure'
    WHEN "ServiceSubcategory" = 'Machine Learning' THEN 'infrastructure'
    ELSE 'ai_platform'
  END"""
