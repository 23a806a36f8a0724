"""Business dimensions from JSON cells, resolved once per distinct value instead of per row.

A billing export repeats a few hundred tag sets across millions of lines. ``Tags`` and
``SkuPriceDetails`` are parsed once per distinct value in Python, and the results go into the
ingest SQL as constants: the row's value is cast to an ENUM of the distinct texts, whose code
indexes one constant list per dimension. That keeps the insert pure SQL (parallel, no Python
function holding the GIL), and a dimension no tag set carries becomes a plain NULL. Parsing JSON
on every row made ingest three times slower; a SQL join to the lookup doubled its memory, because
a join stops DuckDB from writing an ordered insert out row group by row group. Past
``INLINE_LIMIT`` distinct values the SQL text itself would grow too large, so the lookup becomes a
vectorised Arrow function returning a struct instead (slower, but its size does not matter).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from comptroller.ledger.schema import BUSINESS_DIMENSIONS
from comptroller.ledger.sqltypes import literal

INLINE_LIMIT = 20_000
"""Distinct values up to which a lookup is written into the SQL (100,000 take ~1.6 s to parse)."""

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

    def bind(self, con: duckdb.DuckDBPyConnection, name: str) -> BoundLookup:
        """This lookup as SQL usable on ``con``: constants when small enough, else a function
        registered there as ``name``."""
        texts = self.keys.to_pylist()
        if len(texts) <= INLINE_LIMIT and not any("\x00" in t for t in texts):
            return InlineLookup.of(self)
        text = duckdb.sqltype("VARCHAR")
        struct = duckdb.struct_type(dict.fromkeys((f.name for f in self.values.type), text))
        con.create_function(name, self, [text], struct, type="arrow")
        return FunctionLookup(name)


class BoundLookup(Protocol):
    """A lookup as SQL: a per-row key computed once, then each field read from that key."""

    functions: tuple[str, ...]
    """SQL functions registered for it, to remove afterwards."""

    def key(self, text: str) -> str:
        """Expression of the row's key, given the expression of its JSON text."""
        ...

    def field(self, name: str, key: str) -> str | None:
        """Expression of one field given the key's column; None when no text has the field."""
        ...


@dataclass(frozen=True, slots=True)
class InlineLookup:
    """The lookup as constants: ENUM of the texts, and per field a list indexed by enum code."""

    texts: tuple[str, ...]
    fields: dict[str, str | None]
    functions: tuple[str, ...] = ()

    @classmethod
    def of(cls, lookup: Lookup) -> InlineLookup:
        fields: dict[str, str | None] = {}
        for i, field in enumerate(lookup.values.type):
            values = lookup.values.field(i).to_pylist()
            present = any(v is not None for v in values)
            items = ", ".join("NULL" if v is None else literal(v) for v in values)
            fields[field.name] = f"CAST([{items}] AS VARCHAR[])" if present else None
        return cls(tuple(lookup.keys.to_pylist()), fields)

    def key(self, text: str) -> str:
        if not self.texts:
            return "CAST(NULL AS INTEGER)"
        enum = ", ".join(literal(t) for t in self.texts)
        return f"CAST(enum_code(TRY_CAST({text} AS ENUM({enum}))) AS INTEGER) + 1"

    def field(self, name: str, key: str) -> str | None:
        values = self.fields[name]
        return None if values is None else f"list_extract({values}, {key})"


@dataclass(frozen=True, slots=True)
class FunctionLookup:
    """The lookup as a registered Arrow function returning a struct of every field."""

    name: str

    @property
    def functions(self) -> tuple[str, ...]:
        return (self.name,)

    def key(self, text: str) -> str:
        return f"{self.name}({text})"

    def field(self, name: str, key: str) -> str | None:
        return f"struct_extract({key}, {literal(name)})"


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

    def bind(self, con: duckdb.DuckDBPyConnection, prefix: str) -> tuple[BoundLookup, BoundLookup]:
        """Both lookups as SQL on ``con`` (tags, skus); release them with :meth:`release`."""
        return self.tags.bind(con, f"{prefix}_tags"), self.skus.bind(con, f"{prefix}_skus")

    @staticmethod
    def release(con: duckdb.DuckDBPyConnection, bound: tuple[BoundLookup, ...]) -> None:
        """Drop any functions; after a failed statement the rollback drops them instead (DuckDB
        still reserves their names on the connection, which is why callers make names unique)."""
        for name in (n for b in bound for n in b.functions):
            try:
                con.remove_function(name)
            except duckdb.TransactionException:
                return
