"""Typed attribution configuration, independent of where it is stored."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from comptroller.attribution.conditions import parse_condition
from comptroller.ledger.schema import BUSINESS_DIMENSIONS


def _known_dimension(value: str) -> str:
    if value not in BUSINESS_DIMENSIONS:
        raise ValueError(f"unknown dimension {value!r}; choose one of {', '.join(BUSINESS_DIMENSIONS)}")
    return value


def _valid_condition(value: str) -> str:
    parse_condition(value)
    return value


class RuleSpec(BaseModel):
    """A virtual tag. Non-override rules fill a dimension only where the line carries no value of
    its own (from tags or telemetry); override rules win even over tagged values."""

    model_config = ConfigDict(frozen=True)

    dimension: str
    value: str = Field(min_length=1)
    condition: str = Field(min_length=1)
    override: bool = False
    id: int | None = None
    description: str | None = None

    _dimension = field_validator("dimension")(_known_dimension)
    _condition = field_validator("condition")(_valid_condition)


class OwnerSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    dimension: str
    value: str = Field(min_length=1)
    owner: str = Field(min_length=1)

    _dimension = field_validator("dimension")(_known_dimension)


class AllocationMethod(StrEnum):
    EVEN = "even"
    PROPORTIONAL = "proportional"
    FIXED = "fixed"


class AllocationSpec(BaseModel):
    """Shared cost lines (``condition``) split across values of ``dimension`` per billing period.

    ``proportional`` weighs each target by its own direct spend in the period, or by the sum of
    ``metric`` (a numeric ledger column such as ``x_ConsumedTokens``) when one is named.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    condition: str = Field(min_length=1)
    dimension: str
    method: AllocationMethod
    targets: tuple[str, ...] | None = None
    weights: dict[str, float] | None = None
    metric: str | None = None

    _dimension = field_validator("dimension")(_known_dimension)
    _condition = field_validator("condition")(_valid_condition)

    @model_validator(mode="after")
    def _method_fits(self) -> AllocationSpec:
        if self.method is AllocationMethod.FIXED:
            if not self.weights:
                raise ValueError("weights: a fixed allocation needs weights per target value")
            if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
                raise ValueError("weights: must be non-negative and sum to more than 0")
        elif self.weights:
            raise ValueError(f"weights: only a fixed allocation takes weights, not {self.method.value}")
        if self.metric and self.method is not AllocationMethod.PROPORTIONAL:
            raise ValueError("metric: only a proportional allocation takes a metric")
        return self


class Attribution(BaseModel):
    """Everything query-time attribution needs, loaded once per query from state."""

    model_config = ConfigDict(frozen=True)

    rules: tuple[RuleSpec, ...] = ()
    owners: tuple[OwnerSpec, ...] = ()
    allocations: tuple[AllocationSpec, ...] = ()
