"""The lifecycle of a use case: proposed -> in_review -> approved -> live -> retired.

``submit`` starts a review round (a low tier is approved at once); ``review`` records one
reviewer's decision under the tier's policy (``review``); ``transition`` moves between the
remaining states. Anything else is refused with the allowed moves named.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from comptroller.errors import ForbiddenError, GovernanceError
from comptroller.governance import audit
from comptroller.governance.models import UseCase, UseCaseReview
from comptroller.governance.rbac import Principal
from comptroller.governance.registry import UseCaseStatus, check_can_write, get_use_case, reviews_of
from comptroller.governance.review import policy_for
from comptroller.governance.risk import RiskTier
from comptroller.state.models import utcnow

S = UseCaseStatus
MOVES: dict[UseCaseStatus, tuple[UseCaseStatus, ...]] = {
    S.PROPOSED: (S.IN_REVIEW, S.RETIRED),
    S.REJECTED: (S.IN_REVIEW, S.RETIRED),
    S.IN_REVIEW: (S.APPROVED, S.REJECTED, S.PROPOSED),
    S.APPROVED: (S.LIVE, S.RETIRED),
    S.LIVE: (S.RETIRED,),
    S.RETIRED: (),
}
"""Every allowed move. ``in_review`` is reached by submitting, ``approved`` and ``rejected`` by
review; the transition endpoint makes the others (withdraw to proposed, go live, retire)."""
BY_TRANSITION = (S.PROPOSED, S.LIVE, S.RETIRED)


def _move(session: Session, row: UseCase, to: UseCaseStatus, actor: str, action: str, detail: dict) -> None:
    current = UseCaseStatus(row.status)
    if to not in MOVES[current]:
        allowed = ", ".join(m.value for m in MOVES[current]) or "none (retired is final)"
        raise GovernanceError(f"use case {row.id} is {current.value}; it can move to: {allowed}")
    row.status = to.value
    audit.record(
        session,
        actor=actor,
        action=action,
        subject=f"use_case:{row.id}",
        detail={"from": current.value, "to": to.value, **detail},
    )


def submit(session: Session, use_case_id: int, principal: Principal) -> UseCase:
    """Start a review round; a low-risk use case is approved by policy at once."""
    row = get_use_case(session, use_case_id, principal)
    check_can_write(principal, row.team)
    policy = policy_for(RiskTier(row.risk_tier))
    _move(session, row, S.IN_REVIEW, principal.actor, "use_case.submit", {"risk_tier": row.risk_tier})
    row.review_round += 1
    row.submitted_by, row.submitted_at, row.decided_at = principal.actor, utcnow(), None
    if policy.automatic:
        row.decided_at = utcnow()
        _move(
            session, row, S.APPROVED, "system:review", "use_case.auto_approve", {"risk_tier": row.risk_tier}
        )
    session.flush()
    return row


def review(
    session: Session, use_case_id: int, principal: Principal, *, approve: bool, comment: str = ""
) -> UseCase:
    """One reviewer's decision. A rejection ends the round; approvals count per distinct
    reviewer until the tier's policy is met. Proposers and submitters cannot review."""
    row = get_use_case(session, use_case_id, principal)
    if row.status != S.IN_REVIEW:
        raise GovernanceError(f"use case {row.id} is {row.status}, not in_review: submit it first")
    policy = policy_for(RiskTier(row.risk_tier))
    if not principal.has_role(*policy.roles):
        need = " or ".join(r.value for r in policy.roles)
        raise ForbiddenError(f"use case {row.id} is {row.risk_tier} risk: its review needs the role {need}")
    if principal.actor in (row.created_by, row.submitted_by):
        raise ForbiddenError(
            f"use case {row.id}: you proposed or submitted it, so someone else must review it"
        )
    decisions = reviews_of(session, row)
    if any(d.reviewer == principal.username for d in decisions):
        raise GovernanceError(f"use case {row.id}: you have already reviewed this round")
    decision = "approve" if approve else "reject"
    session.add(
        UseCaseReview(
            use_case_id=row.id,
            review_round=row.review_round,
            reviewer=principal.username,
            roles=sorted(principal.roles),
            decision=decision,
            comment=comment,
        )
    )
    approvals = 1 + sum(d.decision == "approve" for d in decisions) if approve else 0
    audit.record(
        session,
        actor=principal.actor,
        action=f"use_case.{decision}",
        subject=f"use_case:{row.id}",
        detail={
            "round": row.review_round,
            "risk_tier": row.risk_tier,
            "comment": comment,
            "approvals": approvals,
            "needed": policy.approvals,
        },
    )
    if not approve:
        row.decided_at = utcnow()
        _move(session, row, S.REJECTED, principal.actor, "use_case.rejected", {"round": row.review_round})
    elif approvals >= policy.approvals:
        row.decided_at = utcnow()
        _move(session, row, S.APPROVED, principal.actor, "use_case.approved", {"round": row.review_round})
    session.flush()
    return row


def transition(session: Session, use_case_id: int, to: UseCaseStatus, principal: Principal) -> UseCase:
    """Withdraw from review, go live, or retire."""
    if to not in BY_TRANSITION:
        how = "submit it" if to is S.IN_REVIEW else "review it (approve or reject)"
        raise GovernanceError(f"to: {to.value} is reached by the review, not a transition: {how}")
    row = get_use_case(session, use_case_id, principal)
    check_can_write(principal, row.team)
    _move(session, row, to, principal.actor, "use_case.transition", {})
    session.flush()
    return row
