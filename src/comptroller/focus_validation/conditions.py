"""Row conditions the spec states rules under ("when ChargeCategory is \\"Tax\\"", ...).

They mirror the requirements model's CheckValue/CheckNotValue/AND/OR so each rule reads like the
sentence it enforces. An absent column reads as all-null, which is how the spec treats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import pyarrow as pa
import pyarrow.compute as pc

from comptroller.focus_validation.dataset import Dataset, clean


class Condition:
    """A boolean mask over rows, plus the words for it in a message."""

    def mask(self, data: Dataset) -> pa.ChunkedArray:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class IsNull(Condition):
    column: str

    def mask(self, data: Dataset) -> pa.ChunkedArray:
        return data.is_null(self.column)

    def describe(self) -> str:
        return f"{self.column} is null"


@dataclass(frozen=True)
class NotNull(Condition):
    column: str

    def mask(self, data: Dataset) -> pa.ChunkedArray:
        return data.not_null(self.column)

    def describe(self) -> str:
        return f"{self.column} is not null"


@dataclass(frozen=True)
class Is(Condition):
    """column equals one of the values (null never matches)."""

    column: str
    values: tuple[str, ...]

    def mask(self, data: Dataset) -> pa.ChunkedArray:
        return data.one_of(self.column, frozenset(self.values))

    def describe(self) -> str:
        return f"{self.column} is " + " or ".join(f'"{v}"' for v in self.values)


@dataclass(frozen=True)
class IsNot(Condition):
    """column equals none of the values; null counts as "not", as in "ChargeClass is not Correction"."""

    column: str
    values: tuple[str, ...]

    def mask(self, data: Dataset) -> pa.ChunkedArray:
        return clean(pc.invert(data.one_of(self.column, frozenset(self.values))))

    def describe(self) -> str:
        return f"{self.column} is not " + " or ".join(f'"{v}"' for v in self.values)


@dataclass(frozen=True)
class All(Condition):
    parts: tuple[Condition, ...]

    def mask(self, data: Dataset) -> pa.ChunkedArray:
        return reduce(lambda a, b: clean(pc.and_(a, b)), (p.mask(data) for p in self.parts))

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.parts)


@dataclass(frozen=True)
class Any_(Condition):
    parts: tuple[Condition, ...]

    def mask(self, data: Dataset) -> pa.ChunkedArray:
        return reduce(lambda a, b: clean(pc.or_(a, b)), (p.mask(data) for p in self.parts))

    def describe(self) -> str:
        return "(" + ", or ".join(p.describe() for p in self.parts) + ")"


def all_of(*parts: Condition) -> Condition:
    return parts[0] if len(parts) == 1 else All(parts)


def any_of(*parts: Condition) -> Condition:
    return parts[0] if len(parts) == 1 else Any_(parts)


USAGE_OR_PURCHASE = Is("ChargeCategory", ("Usage", "Purchase"))
NOT_CORRECTION = IsNot("ChargeClass", ("Correction",))
TAX = Is("ChargeCategory", ("Tax",))
