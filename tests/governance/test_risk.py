"""The documented tier rules and review routing."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from comptroller.governance import review, risk
from comptroller.governance.risk import Autonomy, CustomerImpact, DataClass, RiskFacts, RiskTier, assess


def facts(**kw) -> RiskFacts:
    base = dict(
        data_classes=frozenset(),
        autonomy=Autonomy.ASSISTIVE,
        customer_impact=CustomerImpact.NONE,
        external_actions=False,
        expected_monthly_cost=Decimal(0),
    )
    return RiskFacts(**{**base, **kw})


def test_examples_from_the_table():
    assert assess(facts()).tier is RiskTier.LOW
    assert assess(facts(data_classes=frozenset({DataClass.INTERNAL, DataClass.PUBLIC}))).tier is RiskTier.LOW
    assert assess(facts(data_classes=frozenset({DataClass.PERSONAL}))).tier is RiskTier.MEDIUM
    assert assess(facts(expected_monthly_cost=Decimal("4999.99"))).tier is RiskTier.LOW
    assert assess(facts(expected_monthly_cost=Decimal(5000))).tier is RiskTier.MEDIUM
    assert assess(facts(expected_monthly_cost=Decimal(50000))).tier is RiskTier.HIGH
    assert assess(facts(data_classes=frozenset({DataClass.REGULATED}))).tier is RiskTier.HIGH
    assert assess(facts(autonomy=Autonomy.HUMAN_APPROVED, external_actions=True)).tier is RiskTier.MEDIUM
    critical = assess(facts(autonomy=Autonomy.AUTONOMOUS, external_actions=True))
    assert critical.tier is RiskTier.CRITICAL
    assert [r.id for r in critical.reasons] == ["autonomous-external", "autonomous", "external-actions"]


def test_the_module_documents_every_rule():
    documented = re.findall(r"^\| ([a-z-]+) \| .+ \| (\w+) \|$", risk.__doc__ or "", re.M)  # header row first
    assert documented[1:] == [(r.id, r.tier.value) for r in risk.RULES]


def test_review_policy_per_tier():
    assert review.policy_for(RiskTier.LOW).automatic
    assert review.policy_for(RiskTier.CRITICAL).approvals == 2
    assert all(not p.automatic for t, p in review.POLICIES.items() if t is not RiskTier.LOW)


fact_sets = st.builds(
    facts,
    data_classes=st.frozensets(st.sampled_from(list(DataClass))),
    autonomy=st.sampled_from(list(Autonomy)),
    customer_impact=st.sampled_from(list(CustomerImpact)),
    external_actions=st.booleans(),
    expected_monthly_cost=st.decimals(min_value=0, max_value=10**7, places=2),
)


@given(fact_sets, st.sampled_from(list(DataClass)), st.booleans())
def test_more_exposure_never_lowers_the_tier(f, extra_class, more_autonomy):
    """Touching one more data class, acting more on its own or taking external actions can only
    keep or raise the tier."""
    worse = RiskFacts(
        data_classes=f.data_classes | {extra_class},
        autonomy=Autonomy.AUTONOMOUS if more_autonomy else f.autonomy,
        customer_impact=f.customer_impact,
        external_actions=True,
        expected_monthly_cost=f.expected_monthly_cost,
    )
    assert assess(worse).tier.rank >= assess(f).tier.rank
