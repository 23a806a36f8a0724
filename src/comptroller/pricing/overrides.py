"""Contract overrides: what an organisation actually pays when it is not list price.

Enterprise agreements either take a percentage off list or fix per-token rates for some token
kinds. Each override is dated, because contracts are renewed and renegotiated and history has to
be re-priced with the terms that were in force at the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from comptroller.errors import ConfigError
from comptroller.pricing.catalog import PARENT_KIND, utc_date
from comptroller.pricing.providers import catalog_provider_id
from comptroller.pricing.usage import TOKEN_KINDS, TokenKind

_WILDCARDS = frozenset("*?[]")


class ContractOverride(BaseModel):
    """One negotiated price agreement for the models matching ``model`` at ``provider``.

    Exactly one of ``discount_pct`` (percent off list, 0-100) or ``unit_prices`` (USD per 1M
    tokens for some token kinds; the other kinds stay at list) must be set.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    provider: str
    model: str
    """Glob pattern over the model name, case-insensitive, e.g. ``gpt-4o*``."""
    effective_from: date
    effective_to: date | None = None
    """Exclusive: the override no longer applies on this date."""
    discount_pct: Decimal | None = None
    unit_prices: dict[TokenKind, Decimal] | None = None

    @field_validator("id", "provider", "model")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("discount_pct")
    @classmethod
    def _pct_in_range(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not (value.is_finite() and 0 <= value <= 100):
            raise ValueError(f"discount_pct must be between 0 and 100, got {value}")
        return value

    @field_validator("unit_prices", mode="before")
    @classmethod
    def _known_kinds(cls, value: Any) -> Any:
        # Checked before pydantic's own Literal check so the message lists the valid kinds.
        if isinstance(value, Mapping):
            unknown = sorted(str(k) for k in value if k not in TOKEN_KINDS)
            if unknown:
                raise ValueError(
                    f"unit_prices has unknown token kind(s) {', '.join(unknown)}; "
                    f"valid kinds: {', '.join(TOKEN_KINDS)}"
                )
        return value

    @field_validator("unit_prices")
    @classmethod
    def _prices_valid(cls, value: dict[TokenKind, Decimal] | None) -> dict[TokenKind, Decimal] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("unit_prices must name at least one token kind")
        for kind, price in value.items():
            if not price.is_finite() or price < 0:
                raise ValueError(f"unit_prices[{kind}] must be a non-negative USD per 1M tokens, got {price}")
        return value

    @model_validator(mode="after")
    def _one_pricing_rule(self) -> ContractOverride:
        if (self.discount_pct is None) == (self.unit_prices is None):
            raise ValueError(f"override {self.id!r}: set exactly one of discount_pct or unit_prices")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError(
                f"override {self.id!r}: effective_to ({self.effective_to}) must be after "
                f"effective_from ({self.effective_from})"
            )
        return self

    def active_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def matches(self, provider: str, models: Iterable[str]) -> bool:
        """Whether this override covers the provider and any of the model's names."""
        if catalog_provider_id(self.provider) != catalog_provider_id(provider):
            return False
        pattern = self.model.lower()
        return any(fnmatchcase(m.lower(), pattern) for m in models if m)

    @property
    def specificity(self) -> tuple[bool, int]:
        """Exact names beat patterns; among patterns, more literal characters win."""
        literal = sum(1 for ch in self.model if ch not in _WILDCARDS)
        return (not any(ch in _WILDCARDS for ch in self.model), literal)

    def contracted_unit_price(
        self, kind: TokenKind, list_price: Decimal, own_price: frozenset[TokenKind] = frozenset(TOKEN_KINDS)
    ) -> Decimal:
        """The negotiated USD per 1M tokens for one kind, given its list price.

        A kind the catalog bills as its parent (reasoning as output, cache tokens as input when
        the model has no cache price) follows the parent's negotiated rate too: the provider bills
        those tokens as the parent kind, so the contract's rate for that kind covers them.
        """
        prices = self.unit_prices
        if prices is None:  # the validator guarantees discount_pct is set instead
            return list_price * (1 - (self.discount_pct or 0) / 100)
        if kind in prices:
            return prices[kind]
        parent = PARENT_KIND.get(kind)
        if parent is not None and kind not in own_price and parent in prices:
            return prices[parent]
        return list_price


def select_override(
    overrides: Iterable[ContractOverride],
    provider: str,
    model: str | Sequence[str],
    at: datetime | date,
) -> ContractOverride | None:
    """The override in force for a call: latest ``effective_from`` wins, then the most specific
    pattern, then the id (so the choice never depends on list order).

    ``model`` may be several names for one model (as called, and the catalog's id) so an override
    written against either name applies.
    """
    day = utc_date(at) if isinstance(at, datetime) else at
    names = (model,) if isinstance(model, str) else tuple(model)
    candidates = [o for o in overrides if o.active_on(day) and o.matches(provider, names)]
    if not candidates:
        return None
    return max(candidates, key=lambda o: (o.effective_from, o.specificity, o.id))


def check_overrides(overrides: Sequence[ContractOverride]) -> None:
    """Reject sets of overrides that cannot be applied unambiguously (duplicate ids)."""
    seen: set[str] = set()
    for override in overrides:
        if override.id in seen:
            raise ConfigError(f"contract override id {override.id!r} is used twice; ids must be unique")
        seen.add(override.id)


def parse_overrides(raw: Iterable[Mapping[str, Any]]) -> list[ContractOverride]:
    """Validate overrides from a config file, reporting every problem with the override it is in."""
    parsed: list[ContractOverride] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        label = f"override #{index + 1}" + (f" ({item['id']!r})" if isinstance(item.get("id"), str) else "")
        try:
            parsed.append(ContractOverride.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"]) or "(override)"
                problems.append(f"{label}: {field}: {err['msg']}")
    if problems:
        raise ConfigError("invalid contract overrides:\n" + "\n".join(f"  - {p}" for p in problems))
    check_overrides(parsed)
    return parsed
