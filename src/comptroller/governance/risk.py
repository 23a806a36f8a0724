"""Risk tiers of AI use cases, computed from intake facts by a documented table of rules.

Every rule whose condition holds contributes its tier; the use case takes the highest, and the
matched rules are kept as the reasons. With no rule matching the tier is ``low``.

| rule | when | tier |
| --- | --- | --- |
| autonomous-external | acts autonomously and can take external actions (send, pay, change systems) | critical |
| autonomous-regulated | acts autonomously on regulated data | critical |
| autonomous-customer | acts autonomously with direct customer impact | critical |
| regulated-data | touches regulated data (health, payment card, financial records) | high |
| autonomous | acts autonomously | high |
| customer-personal | direct customer impact and touches personal data | high |
| cost-high | expected cost of 50,000 USD a month or more | high |
| personal-data | touches personal data | medium |
| confidential-data | touches confidential data | medium |
| external-actions | can take external actions (under human approval) | medium |
| customer-facing | direct customer impact | medium |
| cost-medium | expected cost of 5,000 USD a month or more | medium |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class RiskTier(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(RiskTier).index(self)


class DataClass(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    PERSONAL = "personal"
    REGULATED = "regulated"


class Autonomy(StrEnum):
    """``assistive``: a person acts on suggestions; ``human_approved``: the system acts once a
    person approves each action; ``autonomous``: it acts on its own."""

    ASSISTIVE = "assistive"
    HUMAN_APPROVED = "human_approved"
    AUTONOMOUS = "autonomous"


class CustomerImpact(StrEnum):
    """``none``: internal only; ``indirect``: customers see results a person passed on;
    ``direct``: customers interact with it or receive its output unreviewed."""

    NONE = "none"
    INDIRECT = "indirect"
    DIRECT = "direct"


@dataclass(frozen=True, slots=True)
class RiskFacts:
    """The intake fields the tier depends on."""

    data_classes: frozenset[DataClass]
    autonomy: Autonomy
    customer_impact: CustomerImpact
    external_actions: bool
    expected_monthly_cost: Decimal


@dataclass(frozen=True, slots=True)
class RiskRule:
    id: str
    tier: RiskTier
    description: str
    applies: Callable[[RiskFacts], bool]


def _autonomous(f: RiskFacts) -> bool:
    return f.autonomy is Autonomy.AUTONOMOUS


def _touches(data_class: DataClass) -> Callable[[RiskFacts], bool]:
    return lambda f: data_class in f.data_classes


def _direct(f: RiskFacts) -> bool:
    return f.customer_impact is CustomerImpact.DIRECT


RULES: tuple[RiskRule, ...] = (
    RiskRule(
        "autonomous-external",
        RiskTier.CRITICAL,
        "acts autonomously and can take external actions",
        lambda f: _autonomous(f) and f.external_actions,
    ),
    RiskRule(
        "autonomous-regulated",
        RiskTier.CRITICAL,
        "acts autonomously on regulated data",
        lambda f: _autonomous(f) and DataClass.REGULATED in f.data_classes,
    ),
    RiskRule(
        "autonomous-customer",
        RiskTier.CRITICAL,
        "acts autonomously with direct customer impact",
        lambda f: _autonomous(f) and _direct(f),
    ),
    RiskRule("regulated-data", RiskTier.HIGH, "touches regulated data", _touches(DataClass.REGULATED)),
    RiskRule("autonomous", RiskTier.HIGH, "acts autonomously", _autonomous),
    RiskRule(
        "customer-personal",
        RiskTier.HIGH,
        "direct customer impact and touches personal data",
        lambda f: _direct(f) and DataClass.PERSONAL in f.data_classes,
    ),
    RiskRule(
        "cost-high",
        RiskTier.HIGH,
        "expected cost of 50,000 USD a month or more",
        lambda f: f.expected_monthly_cost >= 50_000,
    ),
    RiskRule("personal-data", RiskTier.MEDIUM, "touches personal data", _touches(DataClass.PERSONAL)),
    RiskRule(
        "confidential-data", RiskTier.MEDIUM, "touches confidential data", _touches(DataClass.CONFIDENTIAL)
    ),
    RiskRule("external-actions", RiskTier.MEDIUM, "can take external actions", lambda f: f.external_actions),
    RiskRule("customer-facing", RiskTier.MEDIUM, "direct customer impact", _direct),
    RiskRule(
        "cost-medium",
        RiskTier.MEDIUM,
        "expected cost of 5,000 USD a month or more",
        lambda f: f.expected_monthly_cost >= 5_000,
    ),
)


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    tier: RiskTier
    reasons: tuple[RiskRule, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "tier": self.tier.value,
            "reasons": [
                {"rule": r.id, "tier": r.tier.value, "description": r.description} for r in self.reasons
            ],
        }


def assess(facts: RiskFacts, rules: tuple[RiskRule, ...] = RULES) -> RiskAssessment:
    matched = tuple(rule for rule in rules if rule.applies(facts))
    tier = max((r.tier for r in matched), key=lambda t: t.rank, default=RiskTier.LOW)
    return RiskAssessment(tier, matched)
