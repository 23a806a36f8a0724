"""Business dimensions from JSON cells, resolved once per distinct value instead of per row.

A billing export repeats a few hundred tag sets across millions of lines. ``Tags`` and
``SkuPriceDetails`` are parsed once per distinct value in Python; DuckDB then looks each row's
value up through a vectorised Arrow function returning a struct. Parsing JSON on every row made
ingest three times slower, and a SQL join to the lookup doubled its memory, because a join
stops DuckDB from writing an ordered insert out row group by row group.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from comptroller.ledger.schema import BUSINESS_DIMENSIONS

SKU_FIELDS: dict[str, str] = {
    "ModelId": "model",
    "ModelDeveloper": "developer",
    "x_TokenKind": "token_kind",
}


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


TAG_KEYS: dict[str, tuple[str, ...]] = {d: tag_keys(d) for d in BUSINESS_DIMENSIONS}


def json_object(text: str | None) -> dict[str, Any] | None:
    """The cell as a JSON object, or None; invalid cells are reported by the ingest checks."""
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def as_text(value: Any) -> str | None:
    """What DuckDB's json_extract_string gives: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def first_present(document: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = document.get(key)
        if value is not None:
            return as_text(value)
    return None


Reader = Callable[[dict[str, Any]], str | None]
"""Reads one value out of a parsed JSON object."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """Distinct JSON texts and, for each, the struct of values read from it."""

    keys: pa.Array
    values: pa.StructArray

    @classmethod
    def build(cls, texts: Iterable[str], fields: dict[str, Reader]) -> Lookup:
        distinct = sorted(set(texts))
        documents = [json_object(t) or {} for t in distinct]
        arrays = [pa.array([read(d) for d in documents], pa.string()) for read in fields.values()]
        return cls(pa.array(distinct, pa.string()), pa.StructArray.from_arrays(arrays, names=list(fields)))

    def __len__(self) -> int:
        return len(self.keys)

    def __call__(self, texts: pa.Array) -> pa.Array:
        return pc.take(self.values, pc.index_in(texts, value_set=self.keys))

    def register(self, con: duckdb.DuckDBPyConnection, name: str) -> str:
        text = duckdb.sqltype("VARCHAR")
        struct = duckdb.struct_type(dict.fromkeys((f.name for f in self.values.type), text))
        con.create_function(name, self, [text], struct, type="arrow")
        return name


TAG_FIELDS: dict[str, Reader] = {
    dimension: (lambda d, keys=keys: first_present(d, keys)) for dimension, keys in TAG_KEYS.items()
}
SKU_READERS: dict[str, Reader] = {
    name: (lambda d, key=key: as_text(d.get(key))) for key, name in SKU_FIELDS.items()
}


@dataclass(frozen=True, slots=True)
class Lookups:
    tags: Lookup
    skus: Lookup

    @classmethod
    def build(cls, tags: Iterable[str], skus: Iterable[str]) -> Lookups:
        return cls(Lookup.build(tags, TAG_FIELDS), Lookup.build(skus, SKU_READERS))

    def register(self, con: duckdb.DuckDBPyConnection, prefix: str) -> tuple[str, str]:
        """Define both lookups as SQL functions on ``con``; returns their names (tags, skus)."""
        return self.tags.register(con, f"{prefix}_tags"), self.skus.register(con, f"{prefix}_skus")

    @staticmethod
    def unregister(con: duckdb.DuckDBPyConnection, names: tuple[str, str]) -> None:
        """Drop the functions; after a failed statement the rollback drops them instead (DuckDB
        still reserves their names on the connection, which is why callers make names unique)."""
        for name in names:
            try:
                con.remove_function(name)
            except duckdb.TransactionException:
                return
