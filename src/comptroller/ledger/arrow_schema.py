"""Arrow schemas of the ledger tables, for moving rows between backends and processes."""

from __future__ import annotations

import pyarrow as pa

from comptroller.ledger.schema import USAGE_EVENT_COLUMNS, Column, Kind
from comptroller.ledger.sqltypes import DECIMAL_PRECISION, DECIMAL_SCALE

ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.STRING: pa.string(),
    Kind.DECIMAL: pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.JSON: pa.string(),
    Kind.INTEGER: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
}


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in columns])


USAGE_SCHEMA = arrow_schema(USAGE_EVENT_COLUMNS)
