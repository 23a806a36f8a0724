"""Value sets: closed lists the spec allows, currency codes, and values that fake a null."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from comptroller.focus_validation.dataset import Dataset, clean
from comptroller.focus_validation.registry import Rule, register
from comptroller.focus_validation.report import Severity, Violation
from comptroller.focus_validation.spec import (
    CAPACITY_RESERVATION_STATUSES,
    CHARGE_CATEGORIES,
    CHARGE_CLASSES,
    CHARGE_FREQUENCIES,
    COMMITMENT_DISCOUNT_CATEGORIES,
    COMMITMENT_DISCOUNT_STATUSES,
    ISO_4217_CODES,
    NULL_PLACEHOLDERS,
    PRICING_CATEGORIES,
    SERVICE_CATEGORIES,
    SERVICE_SUBCATEGORIES,
    SUBCATEGORY_PARENT,
    columns_of,
)
from comptroller.ledger.schema import FOCUS_1_2_COLUMNS, Kind


def sample(values: pa.ChunkedArray, mask: pa.ChunkedArray, limit: int = 3) -> str:
    """A few distinct offending values, quoted, so a message shows what to fix without a query."""
    found = pc.unique(values.filter(mask)).to_pylist()
    shown = ", ".join(repr(v) for v in found[:limit])
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    return f"{shown}{more}"


@dataclass(frozen=True, kw_only=True)
class AllowedValues(Rule):
    """A normalised column holds a value outside its closed list.

    Allowed values are what make columns comparable across providers; a near-miss such as
    "usage" or "One Time" silently drops rows from every cross-provider group-by.
    """

    allowed: frozenset[str]

    def check(self, data: Dataset) -> list[Violation]:
        values = data.strings(self.column)
        bad = clean(pc.and_(data.not_null(self.column), pc.invert(data.one_of(self.column, self.allowed))))
        if not pc.any(bad).as_py():
            return []
        return self.from_mask(bad, f"{self.spec} Found {sample(values, bad)}.")


@dataclass(frozen=True, kw_only=True)
class SubcategoryParent(Rule):
    """ServiceSubcategory belongs to a different ServiceCategory than the row's.

    The pair is a hierarchy: reports roll subcategories up into categories, so a mismatched pair
    counts the same spend under two different parents.
    """

    def check(self, data: Dataset) -> list[Violation]:
        sub = data.strings("ServiceSubcategory")
        cat = data.strings("ServiceCategory")
        known = data.one_of("ServiceSubcategory", SERVICE_SUBCATEGORIES)
        pairs = pc.binary_join_element_wise(cat, sub, "\x1f")
        valid = pa.array(sorted(f"{p}\x1f{s}" for s, p in SUBCATEGORY_PARENT.items()))
        bad = clean(pc.and_(known, pc.invert(clean(pc.is_in(pairs, valid)))))
        if not pc.any(bad).as_py():
            return []
        shown = pc.binary_join_element_wise(cat, sub, " / ")
        message = f"{self.spec} Mismatched (category / subcategory): {sample(shown, bad)}."
        return self.from_mask(bad, message)


@dataclass(frozen=True, kw_only=True)
class CurrencyCode(Rule):
    """A currency column holds something other than an ISO 4217 code.

    Amounts are only comparable and convertible when the currency is unambiguous; "US$" or "usd"
    cannot be joined to exchange rates.
    """

    def check(self, data: Dataset) -> list[Violation]:
        values = data.strings(self.column)
        bad = clean(pc.and_(data.not_null(self.column), pc.invert(data.one_of(self.column, ISO_4217_CODES))))
        if not pc.any(bad).as_py():
            return []
        return self.from_mask(bad, f"{self.spec} Found {sample(values, bad)}.")


@dataclass(frozen=True, kw_only=True)
class NoPlaceholders(Rule):
    """String columns spell "no value" as a word ("NULL", "N/A") instead of leaving it null.

    Exports from some providers write the literal text; every null-based rule and every
    ``IS NULL`` filter downstream then treats the placeholder as a real value.
    """

    def check(self, data: Dataset) -> list[Violation]:
        out: list[Violation] = []
        for column in columns_of(data.version, Kind.STRING):
            if not data.has(column):
                continue
            bad = data.one_of(column, NULL_PLACEHOLDERS)
            if pc.any(bad).as_py():
                values = data.strings(column)
                out += self.from_mask(bad, f"{self.spec} Found {sample(values, bad)} in {column}.", column)
        return out


@dataclass(frozen=True, kw_only=True)
class NoBlankStrings(Rule):
    """A not-nullable string column holds only spaces, which satisfies not-null in letter only."""

    def check(self, data: Dataset) -> list[Violation]:
        out: list[Violation] = []
        for column in (c.name for c in FOCUS_1_2_COLUMNS if c.kind is Kind.STRING and not c.nullable):
            if not data.has(column):
                continue
            bad = clean(pc.match_substring_regex(data.strings(column), r"^\s+$"))
            out += self.from_mask(bad, f"{self.spec} {column} holds whitespace-only values.", column)
        return out


_ALLOWED: tuple[tuple[str, frozenset[str], str], ...] = (
    ("ChargeCategory", CHARGE_CATEGORIES, "ChargeCategory-C-003-M"),
    ("ChargeClass", CHARGE_CLASSES, "ChargeClass-C-005-C"),
    ("ChargeFrequency", CHARGE_FREQUENCIES, "ChargeFrequency-C-003-M"),
    ("PricingCategory", PRICING_CATEGORIES, "PricingCategory-C-007-M"),
    ("CommitmentDiscountCategory", COMMITMENT_DISCOUNT_CATEGORIES, "CommitmentDiscountCategory-C-005-M"),
    ("CommitmentDiscountStatus", COMMITMENT_DISCOUNT_STATUSES, "CommitmentDiscountStatus-C-005-M"),
    ("CapacityReservationStatus", CAPACITY_RESERVATION_STATUSES, "CapacityReservationStatus-C-006-M"),
    ("ServiceCategory", SERVICE_CATEGORIES, "ServiceCategory-C-003-M"),
    ("ServiceSubcategory", SERVICE_SUBCATEGORIES, "ServiceSubcategory-C-003-M"),
)


def _allowed_spec(column: str, allowed: frozenset[str]) -> str:
    if column == "ChargeClass":
        return 'ChargeClass MUST be "Correction" when ChargeClass is not null.'
    return f"{column} MUST be one of the allowed values ({', '.join(sorted(allowed))})."


register(
    *(
        AllowedValues(
            rule_id=f"FOCUS-1.2/{column}/allowed-values",
            column=column,
            spec=_allowed_spec(column, allowed),
            ref=ref,
            requires=(column,),
            allowed=allowed,
        )
        for column, allowed, ref in _ALLOWED
    ),
    SubcategoryParent(
        rule_id="FOCUS-1.2/ServiceSubcategory/parent-category",
        column="ServiceSubcategory",
        spec="ServiceSubcategory MUST have one and only one parent ServiceCategory as specified in "
        "the allowed values.",
        ref="ServiceSubcategory-C-004-M",
        requires=("ServiceSubcategory", "ServiceCategory"),
    ),
    CurrencyCode(
        rule_id="FOCUS-1.2/BillingCurrency/iso-4217",
        column="BillingCurrency",
        spec="BillingCurrency MUST be expressed in national currency as an ISO 4217 alphabetic "
        "code (e.g., USD, EUR).",
        ref="BillingCurrency-C-003-M, BillingCurrency-C-006-M",
        requires=("BillingCurrency",),
    ),
    CurrencyCode(
        rule_id="FOCUS-1.2/PricingCurrency/iso-4217",
        column="PricingCurrency",
        spec="PricingCurrency MUST be an ISO 4217 code when it is a national currency; a virtual "
        "currency (credits, tokens) is allowed, so an unknown code only warns.",
        ref="PricingCurrency-C-003-M, CurrencyFormat-A-001-C",
        requires=("PricingCurrency",),
        severity=Severity.WARNING,
    ),
    NoPlaceholders(
        rule_id="FOCUS-1.2/NullHandling/no-placeholders",
        column="*",
        spec='Columns MUST NOT use placeholder values such as "Not Applicable" to represent a '
        "null or not having a value.",
        ref="NullHandling-A-002-M",
    ),
    NoBlankStrings(
        rule_id="FOCUS-1.2/StringHandling/no-blank-strings",
        column="*",
        spec="Empty strings and strings consisting solely of spaces SHOULD NOT be used in "
        "not-nullable string columns.",
        ref="StringHandling-A-007-M",
        severity=Severity.WARNING,
    ),
)
