"""Mapping any FOCUS 1.0–1.3 file onto the ledger's cost-line columns, as DuckDB SQL.

The mapping is pure SQL so that DuckDB reads, casts and inserts in one parallel pass; Python only
decides, once per file, which expression fills each column. Business dimensions come from lookups
over the file's distinct ``Tags`` and ``SkuPriceDetails`` values (``json_lookups``), so no JSON is
parsed per row.

Some conversions are written the long way because DuckDB's direct one is slow: text to
DECIMAL(38,16) costs ~3 µs a cell (128-bit arithmetic per digit), and a TIMESTAMPTZ to TIMESTAMP cast
goes through ICU. Each fast form below is taken only where it gives the same value as the direct
cast, which remains the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from comptroller.ingest.files import FileFormat, reader_sql
from comptroller.ingest.json_lookups import BoundLookup
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
        return [
            col.name
            for col in FOCUS_COLUMNS
            if col.requirement == "M" and not col.nullable and not self.fills(col.name)
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
        if self.counts_tokens():
            exprs.append(f"{token_count_from_source(source.types)} AS _tokens")
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

    def fills(self, column: str) -> bool:
        """Whether some cell of this file can fill a FOCUS column (itself or a fallback)."""
        present = self.source_types
        return column in present or any(f in present for f in FALLBACKS.get(column, ()))

    def counts_tokens(self) -> bool:
        return self.fills("ConsumedUnit") and self.fills("ConsumedQuantity")

    def ledger_expressions(
        self, delivery_id: str, lookups: tuple[BoundLookup, BoundLookup]
    ) -> dict[str, str]:
        """The ledger columns this file fills, in ledger order, each with its expression over the
        looked-up rows (``select_sql``); every other column stays empty for this file's lines."""
        tags, skus = lookups
        sku = {name: skus.field(name, "_sku") for name in ("model", "developer", "token_kind")}
        own: dict[str, str | None] = {
            "x_Source": literal(self.source),
            "x_DeliveryId": literal(delivery_id),
            "x_SourceFile": literal(self.path.name),
            "x_FocusVersion": literal(self.version),
            "x_ConsumedTokens": _tokens_expression() if self.counts_tokens() else None,
            "x_TokenKind": sku["token_kind"],
        }
        for dim in BUSINESS_DIMENSIONS:
            own[dimension_column(dim)] = dimension_expression(dim, tags.field(dim, "_tag"), sku)
        exprs = {c.name: quote(c.name) for c in FOCUS_COLUMNS if self.fills(c.name)}
        exprs |= {c.name: e for c in LEDGER_CUSTOM_COLUMNS if (e := own.get(c.name)) is not None}
        exprs |= {dst: quote(dst) for dst in self.extras.values()}
        return exprs

    def filled_columns(self, lookups: tuple[BoundLookup, BoundLookup]) -> list[str]:
        """What an insert of this file writes: the ledger stores no column that is empty on every
        line (``ledger.duckdb_ledger``)."""
        return list(self.ledger_expressions("", lookups))

    def select_sql(
        self,
        delivery_id: str,
        lookups: tuple[BoundLookup, BoundLookup],
        cast: str = "CAST",
        row_numbers: bool = False,
        source: Relation | None = None,
        columns: Sequence[str] | None = None,
    ) -> str:
        """Rows of this file shaped as ledger cost lines: ``columns`` in their order (default every
        ledger column, FOCUS ones first, then ours, then extras; NULL where the file has none).

        ``lookups`` are the tag and SKU lookups bound to the connection (``Lookups.bind``)."""
        tags, skus = lookups
        filled = self.ledger_expressions(delivery_id, lookups)
        names = self.ledger_columns() if columns is None else columns
        exprs = [f"{filled.get(n) or f'CAST(NULL AS {_LEDGER_TYPES[n]})'} AS {quote(n)}" for n in names]
        if row_numbers:
            exprs.append("_row")
        looked_up = (
            f"SELECT *, {tags.key(quote('Tags'))} AS _tag, {skus.key(quote('SkuPriceDetails'))} AS _sku "
            f"FROM ({self.inner_select(cast, row_numbers, source)}) AS i"
        )
        return f"SELECT {', '.join(exprs)} FROM ({looked_up}) AS f"


_LEDGER_TYPES = {c.name: DUCKDB_TYPES[c.kind] for c in COST_LINE_COLUMNS}


def convert(source: str, source_type: str, kind: Kind, cast: str = "CAST") -> str:
    upper = source_type.upper()
    if kind is Kind.TIMESTAMP:
        if upper.startswith("TIMESTAMP") and "TIME ZONE" not in upper:
            return source
        instant = source if upper == "TIMESTAMP WITH TIME ZONE" else f"{cast}({source} AS TIMESTAMPTZ)"
        # The instant's UTC wall time, as a TIMESTAMPTZ to TIMESTAMP cast in UTC gives, without ICU.
        return f"make_timestamp(epoch_us({instant}))"
    if kind is Kind.JSON:
        if upper.startswith(("MAP", "STRUCT")):
            return f"CAST(to_json({source}) AS VARCHAR)"
        return f"NULLIF(TRIM(CAST({source} AS VARCHAR)), '')"
    if kind is Kind.DECIMAL and upper == "VARCHAR":
        return decimal_from_text(source, cast)
    return f"{cast}({source} AS {DUCKDB_TYPES[kind]})"


FAST_DECIMAL = "DECIMAL(18,12)"
FAST_DECIMAL_SCALE = 12
WIDE_FAST_DECIMAL = "DECIMAL(18,6)"
WIDE_FAST_DECIMAL_SCALE = 6


def decimal_from_text(source: str, cast: str = "CAST") -> str:
    """Text to the ledger's DECIMAL (blank text is NULL), through a 64-bit decimal when exact.

    DuckDB parses text into DECIMAL(38,16) with 128-bit arithmetic per digit: ~1 µs a cell, and
    ~11 µs for a 20-character one such as ``1000064.000000000000``. Into a 64-bit decimal it takes
    0.05 µs. So text with at most 12 characters after its point and no exponent goes through
    DECIMAL(18,12); what is too large for that (a million or more) goes through DECIMAL(18,6) when
    nothing but zeros follows its sixth decimal; the rest, and anything that is not a number,
    takes the direct cast, which also reports bad text. Each path is exact and widened without
    loss. The 64-bit casts skip surrounding whitespace themselves, so only the direct one trims."""
    exact = DUCKDB_TYPES[Kind.DECIMAL]
    direct = f"{cast}(NULLIF(TRIM({source}), '') AS {exact})"
    wide = f"CAST(TRY_CAST({source} AS {WIDE_FAST_DECIMAL}) AS {exact})"
    rest = f"CASE WHEN {_fits_wide_fast_decimal(source)} THEN COALESCE({wide}, {direct}) ELSE {direct} END"
    fast = f"CAST(TRY_CAST({source} AS {FAST_DECIMAL}) AS {exact})"
    return f"CASE WHEN {_fits_fast_decimal(source)} THEN COALESCE({fast}, {rest}) ELSE {rest} END"


def _fits_fast_decimal(text: str) -> str:
    """True where ``text`` has at most 12 characters after its point and no exponent."""
    return (
        f"strlen({text}) - strpos({text}, '.') <= {FAST_DECIMAL_SCALE} "
        f"AND strpos({text}, 'e') = 0 AND strpos({text}, 'E') = 0"
    )


def _fits_wide_fast_decimal(text: str) -> str:
    """True where ``text`` has no exponent and only zeros after its sixth decimal (if any)."""
    return (
        f"(strpos({text}, '.') = 0 OR strlen(rtrim({text}, '0')) - strpos({text}, '.') "
        f"<= {WIDE_FAST_DECIMAL_SCALE}) AND strpos({text}, 'e') = 0 AND strpos({text}, 'E') = 0"
    )


def token_count_from_source(types: dict[str, str]) -> str:
    """ConsumedQuantity as a whole number, straight from the file's own cell where that is cheap
    and exact, else NULL (``_tokens_expression`` then rounds the ledger's DECIMAL(38,16), at
    ~0.5 µs a cell: 128-bit division). Text goes through the 64-bit decimals of
    ``decimal_from_text`` where they are exact; a wide decimal with at most 12 places narrows to
    64 bits at its own scale (no division)."""
    quantity = quote("ConsumedQuantity")
    source_type = types.get("ConsumedQuantity", "").upper()
    if source_type == "VARCHAR":
        fast = f"TRY_CAST(TRY_CAST({quantity} AS {FAST_DECIMAL}) AS BIGINT)"
        wide = f"TRY_CAST(TRY_CAST({quantity} AS {WIDE_FAST_DECIMAL}) AS BIGINT)"
        return (
            f"COALESCE(CASE WHEN {_fits_fast_decimal(quantity)} THEN {fast} END, "
            f"CASE WHEN {_fits_wide_fast_decimal(quantity)} THEN {wide} END)"
        )
    wide = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", source_type)
    if wide and int(wide[1]) > 18 and int(wide[2]) <= FAST_DECIMAL_SCALE:
        return f"TRY_CAST(TRY_CAST({quantity} AS DECIMAL(18,{wide[2]})) AS BIGINT)"
    return "CAST(NULL AS BIGINT)"


def _tokens_expression() -> str:
    """Over the inner select: the source's cheap whole number, else the ledger decimal's."""
    return (
        "CASE WHEN \"ConsumedUnit\" ILIKE '%token%' "
        'THEN COALESCE(_tokens, TRY_CAST("ConsumedQuantity" AS BIGINT)) END'
    )


def _coalesce(*parts: str | None) -> str | None:
    present = [p for p in parts if p is not None]
    if len(present) > 1:
        return f"COALESCE({', '.join(present)})"
    return present[0] if present else None


def dimension_expression(dimension: str, tagged: str | None, sku: dict[str, str | None]) -> str | None:
    """A dimension's own value on an ingested line: its tag, or what FOCUS columns imply.

    ``tagged`` and ``sku`` are the lookup fields' expressions (None: no line has one)."""
    if dimension == "model":
        return _coalesce(sku["model"], tagged)
    if dimension == "vendor":
        return _coalesce(tagged, sku["developer"], '"PublisherName"', '"ProviderName"')
    if dimension == "cost_layer":
        return _coalesce(tagged, cost_layer_sql(sku["model"]))
    return tagged


def cost_layer_sql(sku_model: str | None) -> str:
    """Which of the four AI cost layers a FOCUS line belongs to, when no tag or rule says otherwise."""
    model_clause = f"{sku_model} IS NOT NULL OR " if sku_model else ""
    return f"""CASE
    WHEN "PricingUnit" ILIKE '%seat%' OR "PricingUnit" ILIKE '%user%' OR "PricingUnit" ILIKE '%licen%'
      OR "ConsumedUnit" ILIKE '%seat%' THEN 'saas_seats'
    WHEN {model_clause}"PricingUnit" ILIKE '%token%' OR "ConsumedUnit" ILIKE '%token%' THEN 'model_api'
    WHEN "ServiceCategory" IN ('Compute', 'Storage', 'Networking', 'Databases') THEN 'infrastructure'
    WHEN "ServiceSubcategory" = 'Machine Learning' THEN 'infrastructure'
    ELSE 'ai_platform'
  END"""
