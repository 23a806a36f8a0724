"""Formats of single values: date/times, numbers, JSON key-value objects, and column names."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from comptroller.focus_validation.dataset import Dataset, clean
from comptroller.focus_validation.registry import Rule, register
from comptroller.focus_validation.report import Severity, Violation
from comptroller.focus_validation.rules.values import sample
from comptroller.focus_validation.spec import (
    DRAFT_SKU_PROPERTY_VALUES,
    FOCUS_SKU_PROPERTIES,
    NUMERIC_SKU_PROPERTIES,
    STRING_SKU_PROPERTIES,
    columns_of,
)
from comptroller.ledger.schema import FOCUS_COLUMNS, Kind


@dataclass(frozen=True, kw_only=True)
class DateTimeFormat(Rule):
    """A date/time is not UTC ISO 8601 ('YYYY-MM-DDTHH:mm:ssZ').

    Charge and billing periods are compared and bucketed across providers; a local time or an
    offset shifts charges into the wrong day or month.
    """

    def check(self, data: Dataset) -> list[Violation]:
        col = data.raw(self.column)
        if pa.types.is_timestamp(col.type) and col.type.tz is None:
            return [
                self.violation(
                    f"{self.column} is stored as a timestamp without time zone, so readers cannot "
                    "tell it is UTC; store it as timestamp[UTC].",
                    severity=Severity.WARNING,
                )
            ]
        bad = data.datetime_invalid(self.column)
        if not pc.any(bad).as_py():
            return []
        found = sample(data.strings(self.column), bad)
        return self.from_mask(bad, f"{self.spec} Found {found}.")


@dataclass(frozen=True, kw_only=True)
class NumericFormat(Rule):
    """A numeric column holds text that is not a plain number ("$1,200.50", "+3", "1/2").

    Amounts feed sums and unit-price checks; a value that only looks numeric to a person is
    silently dropped or mis-parsed by consumers.
    """

    def check(self, data: Dataset) -> list[Violation]:
        bad = data.numeric_invalid(self.column)
        if not pc.any(bad).as_py():
            return []
        found = sample(data.strings(self.column), bad)
        return self.from_mask(bad, f"{self.spec} Found {found}.")


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_TYPES[type(None)] = "null"


def _no_constants(name: str) -> None:
    """ECMA-404 has no NaN or Infinity, though Python's json module accepts them."""
    raise ValueError(f"{name} is not a JSON value")


def _parse_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """Strict JSON object parse that also reports duplicate keys, which json.loads would hide."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg})"
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return None, f"a JSON {_JSON_TYPES.get(type(value), 'value')}, not a JSON object"
    if duplicates:
        return None, f"duplicate key {duplicates[0]!r}"
    return value, None


def _scalar_values(obj: dict[str, Any]) -> str | None:
    for key, value in obj.items():
        if isinstance(value, dict | list):
            return f"value of key {key!r} is a JSON {'object' if isinstance(value, dict) else 'array'}"
    return None


@dataclass(frozen=True, kw_only=True)
class JsonObjectRule(Rule):
    """Base for checks that parse each distinct JSON text once and test it with ``problem``."""

    scalar_values: bool = True
    parse_errors: bool = True
    """False for rules that refine a column whose JSON validity another rule already reports."""

    def problem(self, obj: dict[str, Any]) -> str | None:
        return _scalar_values(obj) if self.scalar_values else None

    def check(self, data: Dataset) -> list[Violation]:
        col = data.raw(self.column)
        if pa.types.is_null(col.type):
            return []
        if not pa.types.is_string(col.type):
            if pa.types.is_struct(col.type) or (
                pa.types.is_map(col.type) and pa.types.is_string(col.type.key_type)
            ):
                return []  # already structured: string keys, one declared type per value
            return [self.violation(f"{self.spec} The column has type {col.type}, not JSON text.")]
        reasons: dict[str, str] = {}
        for text in pc.unique(col).to_pylist():
            if text is None:
                continue
            obj, reason = _parse_object(text)
            if reason and not self.parse_errors:
                continue
            reason = reason or self.problem(obj or {})
            if reason:
                reasons[text] = reason
        if not reasons:
            return []
        bad = clean(pc.is_in(col, pa.array(list(reasons), pa.string())))
        first_text = col[pc.index(bad, True).as_py()].as_py()
        return self.from_mask(
            bad, f"{self.spec} First offending value is {reasons[first_text]}: {first_text!r}."
        )


@dataclass(frozen=True, kw_only=True)
class SkuCustomKeys(JsonObjectRule):
    """A SkuPriceDetails key is neither FOCUS-defined nor x_-prefixed.

    Unprefixed provider keys collide with keys FOCUS may define later and cannot be told apart from
    misspelt FOCUS keys ("Corecount"), which breaks cross-provider queries on the property.
    """

    def problem(self, obj: dict[str, Any]) -> str | None:
        for key in obj:
            if key not in FOCUS_SKU_PROPERTIES and not key.startswith("x_"):
                return f"key {key!r} is not FOCUS-defined and lacks the x_ prefix"
        return None


@dataclass(frozen=True, kw_only=True)
class SkuPropertyTypes(JsonObjectRule):
    """A FOCUS-defined SkuPriceDetails property has the wrong JSON type ("CoreCount": "4")."""

    def problem(self, obj: dict[str, Any]) -> str | None:
        for key, value in obj.items():
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if key in NUMERIC_SKU_PROPERTIES and value is not None and not is_number:
                return f"{key} must be a JSON number, got {value!r}"
            if key in STRING_SKU_PROPERTIES and value is not None and not isinstance(value, str):
                return f"{key} must be a JSON string, got {value!r}"
        return None


@dataclass(frozen=True, kw_only=True)
class SkuDraftValues(JsonObjectRule):
    """An AI token property (working draft after 1.3) holds a value outside its allowed list."""

    def problem(self, obj: dict[str, Any]) -> str | None:
        for key, allowed in DRAFT_SKU_PROPERTY_VALUES.items():
            if key in obj and obj[key] not in allowed:
                return f"{key} is {obj[key]!r}, allowed: {', '.join(sorted(allowed))}"
        return None


@dataclass(frozen=True, kw_only=True)
class CustomColumnPrefix(Rule):
    """A column FOCUS does not define lacks the x_ prefix.

    The prefix is what keeps provider columns from colliding with columns later FOCUS versions add
    (1.3 added ServiceProviderName; an unprefixed provider column of that name would be ambiguous).
    """

    def check(self, data: Dataset) -> list[Violation]:
        later = {c.name: c.since for c in FOCUS_COLUMNS}
        out = []
        for name in data.column_names:
            if name in data.focus_column_names or name.startswith("x_"):
                continue
            hint = (
                f" ({name} is a FOCUS {later[name]} column; validate as version {later[name]!r} "
                "if the dataset follows it)"
                if name in later
                else ""
            )
            out.append(
                self.violation(
                    f"{self.spec} Column {name!r} is not a FOCUS {data.version} column.{hint}", column=name
                )
            )
        return out


def _format_rules() -> list[Rule]:
    rules: list[Rule] = []
    for column in columns_of("1.2", Kind.TIMESTAMP):
        rules.append(
            DateTimeFormat(
                rule_id=f"FOCUS-1.2/{column}/datetime-format",
                column=column,
                spec=f"{column} MUST conform to DateTimeFormat: extended ISO 8601 in UTC "
                "('YYYY-MM-DDTHH:mm:ssZ', date and time separated by 'T', ending in 'Z').",
                ref=f"{column}-C-002-M, DateTimeFormat-A-003..006-M",
                requires=(column,),
            )
        )
    for column in columns_of("1.2", Kind.DECIMAL):
        rules.append(
            NumericFormat(
                rule_id=f"FOCUS-1.2/{column}/numeric-format",
                column=column,
                spec=f"{column} MUST conform to NumericFormat: an integer, decimal or E-notation "
                "number with no '+' sign, thousands separators, currency symbols or units.",
                ref="NumericFormat-A-002..011-M",
                requires=(column,),
            )
        )
    for column in ("Tags", "SkuPriceDetails"):
        rules.append(
            JsonObjectRule(
                rule_id=f"FOCUS-1.2/{column}/key-value-format",
                column=column,
                spec=f"{column} MUST conform to KeyValueFormat: a serialized JSON object with unique "
                "keys whose values are numbers, strings, true, false or null (not objects or arrays).",
                ref=f"{column}-C-001-M, KeyValueFormat-A-001..004-M",
                requires=(column,),
            )
        )
    return rules


_SKU = {
    "column": "SkuPriceDetails",
    "requires": ("SkuPriceDetails",),
    "scalar_values": False,
    "parse_errors": False,
}

register(
    *_format_rules(),
    SkuCustomKeys(
        rule_id="FOCUS-1.2/SkuPriceDetails/custom-key-prefix",
        spec='SkuPriceDetails property key MUST begin with the string "x_" unless it is a '
        "FOCUS-defined property.",
        ref="SkuPriceDetails-C-017-C",
        **_SKU,
    ),
    SkuPropertyTypes(
        rule_id="FOCUS-1.2/SkuPriceDetails/property-type",
        spec="FOCUS-defined SKU Price property value MUST be of the type specified for that property.",
        ref="SkuPriceDetails-C-021-M",
        **_SKU,
    ),
    SkuDraftValues(
        rule_id="FOCUS-1.2/SkuPriceDetails/token-property-values",
        spec='TokenDirection MUST be "Input" or "Output" and TokenCacheAction one of "Uncached", '
        '"Read", "Write", "Other" (FOCUS AI working draft after 1.3, so only a warning).',
        severity=Severity.WARNING,
        **_SKU,
    ),
    CustomColumnPrefix(
        rule_id="FOCUS-1.2/ColumnHandling/custom-prefix",
        column="*",
        spec="Custom columns MUST be prefixed with a consistent x_ prefix.",
        ref="ColumnHandling-A-010-M",
    ),
    JsonObjectRule(
        rule_id="FOCUS-1.3/AllocatedTags/key-value-format",
        column="AllocatedTags",
        spec="AllocatedTags MUST conform to KeyValueFormat requirements.",
        requires=("AllocatedTags",),
        versions=frozenset({"1.3"}),
    ),
    *(
        JsonObjectRule(
            rule_id=f"FOCUS-1.3/{column}/json-object",
            column=column,
            spec=f"{column} MUST be a JSON object (serialized as a string where necessary).",
            requires=(column,),
            versions=frozenset({"1.3"}),
            scalar_values=False,
        )
        for column in ("AllocatedMethodDetails", "ContractApplied")
    ),
)
