"""Review routing by risk tier: who may approve a use case, and how many must.

| tier | approval |
| --- | --- |
| low | automatic on submission |
| medium | one approver or finops |
| high | one approver |
| critical | two distinct approvers |

Admins pass every role check. Nobody approves a use case they proposed or submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from comptroller.governance.rbac import Role
from comptroller.governance.risk import RiskTier


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    tier: RiskTier
    roles: tuple[Role, ...]
    """Roles whose holders may approve or reject; empty for automatic approval."""
    approvals: int
    """Distinct approvers needed."""

    @property
    def automatic(self) -> bool:
        return self.approvals == 0

    def as_json(self) -> dict[str, object]:
        return {
            "tier": self.tier.value,
            "automatic": self.automatic,
            "roles": [r.value for r in self.roles],
            "approvals_needed": self.approvals,
        }


POLICIES: dict[RiskTier, ReviewPolicy] = {
    RiskTier.LOW: ReviewPolicy(RiskTier.LOW, (), 0),
    RiskTier.MEDIUM: ReviewPolicy(RiskTier.MEDIUM, (Role.APPROVER, Role.FINOPS), 1),
    RiskTier.HIGH: ReviewPolicy(RiskTier.HIGH, (Role.APPROVER,), 1),
    RiskTier.CRITICAL: ReviewPolicy(RiskTier.CRITICAL, (Role.APPROVER,), 2),
}


def policy_for(tier: RiskTier) -> ReviewPolicy:
    return POLICIES[tier]
