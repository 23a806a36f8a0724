"""The intake registry of AI use cases: intake, edits, and reads scoped to the caller's teams.

Who may write: admins and finops for any team, team owners for their own teams. Every change
is audited in the same transaction. The lifecycle (submit, review, go live, retire) is in
``lifecycle``; the risk tier is recomputed from the intake fields on every edit (``risk``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.errors import ForbiddenError, GovernanceError, NotFoundError
from comptroller.governance import audit
from comptroller.governance.fields import LongText, Name, ShortText
from comptroller.governance.models import UseCase, UseCaseReview
from comptroller.governance.rbac import Principal, Role
from comptroller.governance.review import policy_for
from comptroller.governance.risk import Autonomy, CustomerImpact, DataClass, RiskFacts, RiskTier, assess
from comptroller.ledger.schema import BUSINESS_DIMENSIONS


class UseCaseStatus(StrEnum):
    PROPOSED = "proposed"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    LIVE = "live"
    RETIRED = "retired"


EDITABLE = (UseCaseStatus.PROPOSED, UseCaseStatus.REJECTED)
"""States whose intake fields may change; links may change in every state but retired."""
DIMENSION_NAME = re.compile(r"^(tag:[A-Za-z0-9_.:/-]{1,120}|[A-Za-z][A-Za-z0-9_]{0,63})$")
Money = Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), allow_inf_nan=False, decimal_places=2)]
Ids = Annotated[list[ShortText], Field(max_length=100)]


class UseCaseLinks(BaseModel):
    """What ties a use case to the rest of the system. ``dimensions`` select its spend in the
    ledger (all must match), e.g. ``{"product": "nw-assist", "feature": "triage"}``."""

    model_config = ConfigDict(extra="forbid")

    keys: Ids = Field(default_factory=list)
    agents: Ids = Field(default_factory=list)
    budgets: Ids = Field(default_factory=list)
    dimensions: dict[ShortText, ShortText] = Field(default_factory=dict, max_length=10)

    @field_validator("dimensions")
    @classmethod
    def _dimension_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not DIMENSION_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a dimension: use {', '.join(BUSINESS_DIMENSIONS)}, a ledger column or tag:KEY"
                )
        return value


class UseCaseSpec(BaseModel):
    """The intake form."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    purpose: LongText = Field(min_length=1)
    owner: ShortText = Field(min_length=1, description="The accountable person.")
    team: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$")]
    users: LongText = Field(default="", description="Who uses it, e.g. 'support agents (40)'.")
    data_classes: list[DataClass] = Field(default_factory=list, max_length=5)
    vendor: ShortText = Field(min_length=1)
    model: ShortText = Field(min_length=1)
    expected_monthly_value: Money = Decimal(0)
    expected_monthly_cost: Money = Decimal(0)
    customer_impact: CustomerImpact = CustomerImpact.NONE
    autonomy: Autonomy = Autonomy.ASSISTIVE
    external_actions: bool = False
    success_metric: LongText = ""
    links: UseCaseLinks = Field(default_factory=UseCaseLinks)


class UseCasePatch(BaseModel):
    """A partial edit: fields left out (or null) keep their value."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    purpose: LongText | None = Field(default=None, min_length=1)
    owner: ShortText | None = Field(default=None, min_length=1)
    team: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$")] | None = None
    users: LongText | None = None
    data_classes: list[DataClass] | None = Field(default=None, max_length=5)
    vendor: ShortText | None = Field(default=None, min_length=1)
    model: ShortText | None = Field(default=None, min_length=1)
    expected_monthly_value: Money | None = None
    expected_monthly_cost: Money | None = None
    customer_impact: CustomerImpact | None = None
    autonomy: Autonomy | None = None
    external_actions: bool | None = None
    success_metric: LongText | None = None
    links: UseCaseLinks | None = None


def facts_of(row: UseCase) -> RiskFacts:
    return RiskFacts(
        data_classes=frozenset(DataClass(d) for d in row.data_classes),
        autonomy=Autonomy(row.autonomy),
        customer_impact=CustomerImpact(row.customer_impact),
        external_actions=row.external_actions,
        expected_monthly_cost=Decimal(row.expected_monthly_cost),
    )


def _apply_risk(row: UseCase) -> None:
    assessment = assess(facts_of(row))
    row.risk_tier, row.risk_reasons = assessment.tier.value, [r.id for r in assessment.reasons]


def check_can_write(principal: Principal, team: str) -> None:
    """Finops and admins write any team's use cases; a team owner only their own teams'."""
    if principal.has_role(Role.FINOPS):
        return
    if Role.TEAM_OWNER in principal.roles and team in principal.teams:
        return
    raise ForbiddenError(f"team {team!r}: only its team owner, finops or an admin may change its use cases")


def _columns(spec: UseCaseSpec | UseCasePatch, *, partial: bool) -> dict[str, Any]:
    values = {k: v for k, v in spec.model_dump(exclude_unset=partial, mode="python").items() if v is not None}
    if "data_classes" in values:
        values["data_classes"] = sorted({DataClass(d).value for d in values["data_classes"]})
    for key in ("customer_impact", "autonomy"):
        if key in values:
            values[key] = str(values[key])
    if "links" in values:
        values["links"] = UseCaseLinks.model_validate(values["links"]).model_dump(mode="json")
    return values


def _name_free(session: Session, name: str, own_id: int | None = None) -> None:
    other = session.scalar(select(UseCase.id).where(UseCase.name == name))
    if other is not None and other != own_id:
        raise GovernanceError(f"name: a use case named {name!r} exists already (id {other})")


def create_use_case(session: Session, spec: UseCaseSpec, principal: Principal) -> UseCase:
    check_can_write(principal, spec.team)
    _name_free(session, spec.name)
    row = UseCase(
        **_columns(spec, partial=False), status=UseCaseStatus.PROPOSED.value, created_by=principal.actor
    )
    _apply_risk(row)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="use_case.create",
        subject=f"use_case:{row.id}",
        detail={"name": row.name, "team": row.team, "risk_tier": row.risk_tier, "reasons": row.risk_reasons},
    )
    return row


def get_use_case(session: Session, use_case_id: int, principal: Principal) -> UseCase:
    """The use case, if it exists and the principal may see its team (else not found, so team
    owners cannot probe other teams' ids)."""
    row = session.get(UseCase, use_case_id)
    if row is None or not principal.can_access_team(row.team):
        raise NotFoundError(f"no use case with id {use_case_id}")
    return row


def list_use_cases(
    session: Session,
    principal: Principal,
    *,
    status: UseCaseStatus | None = None,
    tier: RiskTier | None = None,
    team: str | None = None,
) -> list[UseCase]:
    query = select(UseCase).order_by(UseCase.id)
    if status:
        query = query.where(UseCase.status == status.value)
    if tier:
        query = query.where(UseCase.risk_tier == tier.value)
    if team:
        query = query.where(UseCase.team == team)
    if (scope := principal.team_scope) is not None:
        query = query.where(UseCase.team.in_(sorted(scope)))
    return list(session.scalars(query))


def update_use_case(session: Session, use_case_id: int, patch: UseCasePatch, principal: Principal) -> UseCase:
    row = get_use_case(session, use_case_id, principal)
    check_can_write(principal, row.team)
    changes = _columns(patch, partial=True)
    if not changes:
        raise GovernanceError("the edit changes nothing: send at least one field")
    status = UseCaseStatus(row.status)
    intake = {k for k in changes if k != "links"}
    if status is UseCaseStatus.RETIRED or (intake and status not in EDITABLE):
        raise GovernanceError(
            f"use case {row.id} is {status.value}: only links may change"
            + ("" if status is not UseCaseStatus.RETIRED else " before retirement")
            + f"; intake fields ({', '.join(sorted(intake))}) change while proposed or rejected"
        )
    if "team" in changes:
        check_can_write(principal, changes["team"])
    if "name" in changes:
        _name_free(session, changes["name"], row.id)
    before = {k: _plain(getattr(row, k)) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    _apply_risk(row)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="use_case.update",
        subject=f"use_case:{row.id}",
        detail={
            "before": before,
            "after": {k: _plain(v) for k, v in changes.items()},
            "risk_tier": row.risk_tier,
        },
    )
    return row


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def reviews_of(session: Session, row: UseCase) -> list[UseCaseReview]:
    return list(
        session.scalars(
            select(UseCaseReview)
            .where(UseCaseReview.use_case_id == row.id, UseCaseReview.review_round == row.review_round)
            .order_by(UseCaseReview.at, UseCaseReview.id)
        )
    )


def use_case_json(row: UseCase, reviews: list[UseCaseReview]) -> dict[str, Any]:
    def ts(value: Any) -> str | None:
        return value.isoformat() + "Z" if value else None

    tier = RiskTier(row.risk_tier)
    assessment = assess(facts_of(row))
    return {
        "id": row.id,
        "name": row.name,
        "purpose": row.purpose,
        "owner": row.owner,
        "team": row.team,
        "users": row.users,
        "data_classes": row.data_classes,
        "vendor": row.vendor,
        "model": row.model,
        "expected_monthly_value": float(row.expected_monthly_value),
        "expected_monthly_cost": float(row.expected_monthly_cost),
        "customer_impact": row.customer_impact,
        "autonomy": row.autonomy,
        "external_actions": row.external_actions,
        "success_metric": row.success_metric,
        "links": row.links,
        "status": row.status,
        "risk": assessment.as_json(),
        "review": {
            **policy_for(tier).as_json(),
            "round": row.review_round,
            "decisions": [
                {
                    "reviewer": r.reviewer,
                    "roles": r.roles,
                    "decision": r.decision,
                    "comment": r.comment,
                    "at": ts(r.at),
                }
                for r in reviews
            ],
        },
        "created_by": row.created_by,
        "created_at": ts(row.created_at),
        "updated_at": ts(row.updated_at),
        "submitted_at": ts(row.submitted_at),
        "decided_at": ts(row.decided_at),
    }
