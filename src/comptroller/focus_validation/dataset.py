"""A FOCUS table prepared once for many rules: nulls normalised, typed views parsed and cached.

Rules ask for boolean masks over whole columns; nothing here loops over rows in Python except over
*distinct* values where Arrow has no kernel (JSON, odd timestamps), which keeps million-row files
fast because real exports repeat the same tags and timestamps over and over.
"""

from __future__ import annotations

import contextlib

import pyarrow as pa
import pyarrow.compute as pc

from comptroller.focus_validation.spec import DATETIME_PATTERN, NUMERIC_PATTERN, focus_columns

UTC_NAMES = frozenset({"UTC", "ETC/UTC", "UCT", "ETC/UCT", "ZULU", "ETC/ZULU", "Z", "+00:00", "GMT"})
# Microseconds span years 0001-9999 (providers write 9999-12-31 for open ends); fractions finer than
# that are dropped before parsing since ordering rules never need them.
_TS = pa.timestamp("us", tz="UTC")
_FRACTION = r"\.\d+Z$"


def _normalise(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Empty strings become null: CSV has no other way to write one, so both must mean the same.

    Many small chunks (concatenated tables, streamed batches) make every kernel pay per-chunk
    overhead, so chunks are merged when the merged column still fits Arrow's 32-bit offsets.
    """
    if column.num_chunks > 1:
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowCapacityError):
            column = pa.chunked_array([column.combine_chunks()])
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
        column = column.cast(pa.string())
    if pa.types.is_string(column.type):
        return pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    return column


def const_mask(length: int, value: bool) -> pa.ChunkedArray:
    return pa.chunked_array([pa.nulls(length, pa.bool_()).fill_null(value)])


def false_mask(length: int) -> pa.ChunkedArray:
    return const_mask(length, False)


def clean(mask: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """A mask with nulls counted as False, so three-valued logic never hides or invents a row."""
    mask = pc.fill_null(mask, False)
    return mask if isinstance(mask, pa.ChunkedArray) else pa.chunked_array([mask])


class Dataset:
    """The table under validation plus the version-specific knowledge rules need."""

    def __init__(self, table: pa.Table, version: str) -> None:
        self.version = version
        self.table = pa.table({name: _normalise(table.column(name)) for name in table.column_names})
        self.num_rows = table.num_rows
        self.column_names: tuple[str, ...] = tuple(table.column_names)
        self._present = frozenset(self.column_names)
        self.focus_column_names = frozenset(c.name for c in focus_columns(version))
        self._cache: dict[tuple[str, str], pa.ChunkedArray] = {}

    # -- presence ---------------------------------------------------------------------------
    def has(self, *columns: str) -> bool:
        return all(c in self._present for c in columns)

    def raw(self, column: str) -> pa.ChunkedArray:
        return self.table.column(column)

    # -- null masks (an absent column reads as all-null, as the spec treats missing values) ----
    def is_null(self, column: str) -> pa.ChunkedArray:
        if not self.has(column):
            return const_mask(self.num_rows, True)
        return clean(pc.is_null(self.raw(column)))

    def not_null(self, column: str) -> pa.ChunkedArray:
        return clean(pc.invert(self.is_null(column)))

    # -- strings --------------------------------------------------------------------------
    def strings(self, column: str) -> pa.ChunkedArray:
        key = (column, "str")
        if key not in self._cache:
            col = self.raw(column)
            self._cache[key] = col if pa.types.is_string(col.type) else col.cast(pa.string())
        return self._cache[key]

    def equals(self, column: str, value: str) -> pa.ChunkedArray:
        if not self.has(column):
            return false_mask(self.num_rows)
        return clean(pc.equal(self.strings(column), value))

    def one_of(self, column: str, values: frozenset[str] | set[str]) -> pa.ChunkedArray:
        if not self.has(column):
            return false_mask(self.num_rows)
        return clean(pc.is_in(self.strings(column), pa.array(sorted(values), pa.string())))

    # -- numbers --------------------------------------------------------------------------
    def numeric_invalid(self, column: str) -> pa.ChunkedArray:
        """Rows whose value is present but is not a FOCUS NumericFormat number."""
        key = (column, "num_bad")
        if key not in self._cache:
            col = self.raw(column)
            if pa.types.is_string(col.type):
                bad = pc.invert(pc.match_substring_regex(col, NUMERIC_PATTERN))
            elif pa.types.is_floating(col.type):
                bad = pc.or_(pc.is_nan(col), pc.is_inf(col))
            elif pa.types.is_integer(col.type) or pa.types.is_decimal(col.type):
                bad = false_mask(self.num_rows)
            else:
                bad = pc.is_valid(col)
            self._cache[key] = clean(bad)
        return self._cache[key]

    def numbers(self, column: str) -> pa.ChunkedArray:
        """float64 view; values that are not valid numbers read as null so rules skip them."""
        key = (column, "num")
        if key not in self._cache:
            col = self.raw(column)
            bad = self.numeric_invalid(column)
            if pa.types.is_string(col.type) or not (
                pa.types.is_integer(col.type)
                or pa.types.is_floating(col.type)
                or pa.types.is_decimal(col.type)
            ):
                col = self.strings(column)
                col = pc.if_else(bad, pa.scalar(None, pa.string()), col)
            else:
                col = pc.if_else(bad, pa.scalar(None, col.type), col)
            self._cache[key] = pc.cast(col, pa.float64())
        return self._cache[key]

    # -- timestamps -----------------------------------------------------------------------
    def datetime_invalid(self, column: str) -> pa.ChunkedArray:
        """Rows whose value is present but is not a UTC ISO 8601 date/time (see DateTimeFormat)."""
        key = (column, "ts_bad")
        if key not in self._cache:
            col = self.raw(column)
            if pa.types.is_string(col.type):
                bad = clean(pc.invert(pc.match_substring_regex(col, DATETIME_PATTERN)))
                bad = clean(pc.or_(bad, self._unparseable(col, bad)))
            elif pa.types.is_timestamp(col.type) and col.type.tz is not None:
                bad = false_mask(self.num_rows)
                if col.type.tz.upper() not in UTC_NAMES:
                    bad = clean(pc.is_valid(col))
            elif pa.types.is_timestamp(col.type):
                bad = false_mask(self.num_rows)  # naive: reported as a warning by the rule
            else:
                bad = clean(pc.is_valid(col))
            self._cache[key] = bad
        return self._cache[key]

    def timestamps(self, column: str) -> pa.ChunkedArray:
        """UTC timestamps; invalid values read as null so ordering rules skip them."""
        key = (column, "ts")
        if key not in self._cache:
            col = self.raw(column)
            bad = self.datetime_invalid(column)
            if pa.types.is_timestamp(col.type):
                if col.type.tz is None:
                    col = pc.assume_timezone(col, "UTC")
                col = pc.if_else(bad, pa.scalar(None, col.type), col)
                self._cache[key] = pc.cast(col, _TS, safe=False)  # ns input may truncate
            elif pa.types.is_string(col.type):
                col = pc.if_else(bad, pa.scalar(None, pa.string()), col)
                self._cache[key] = _parse(col)
            else:
                self._cache[key] = pa.chunked_array([pa.nulls(self.num_rows, _TS)])
        return self._cache[key]

    def _unparseable(self, col: pa.ChunkedArray, bad: pa.ChunkedArray) -> pa.ChunkedArray:
        """Strings that match the pattern but name no real instant (month 13, hour 25)."""
        shaped = pc.if_else(bad, pa.scalar(None, pa.string()), col)
        try:
            _parse(shaped)
            return false_mask(self.num_rows)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        broken = [v for v in pc.unique(shaped).to_pylist() if v is not None and not _parses(v)]
        return clean(pc.is_in(col, pa.array(broken, pa.string())))


def _parse(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    return pc.replace_substring_regex(col, _FRACTION, "Z").cast(_TS)


def _parses(value: str) -> bool:
    try:
        _parse(pa.array([value]))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True
