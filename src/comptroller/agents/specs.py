"""What the agent registry and the run API accept and answer: typed at the boundary."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class AutonomyLevel(StrEnum):
    """The staged-autonomy ladder. ``observe`` and ``recommend`` agents take no external action;
    an ``approve`` agent needs a human yes for every tool call; an ``automatic`` one only for the
    tools listed in ``approval_tools``."""

    OBSERVE = "observe"
    RECOMMEND = "recommend"
    APPROVE = "approve"
    AUTOMATIC = "automatic"


class AgentPeriod(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class AgentSpec(BaseModel):
    """A registered agent. Limits left empty are not checked."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id, lower case: the `agent` dimension its spend carries.")
    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=256)
    team: str | None = Field(default=None, max_length=128)
    use_case_id: str | None = Field(default=None, max_length=64)
    autonomy_level: AutonomyLevel = AutonomyLevel.AUTOMATIC
    allowed_tools: list[str] = Field(default_factory=list, description="Empty: any tool.")
    approval_tools: list[str] = Field(default_factory=list)
    external_actions: bool = False
    run_frequency: str | None = Field(default=None, max_length=64, description="e.g. hourly, on demand")
    budget_per_run: Decimal | None = Field(default=None, gt=0)
    budget_per_period: Decimal | None = Field(default=None, gt=0)
    period: AgentPeriod = AgentPeriod.MONTHLY
    max_runs_per_period: int | None = Field(default=None, gt=0)
    max_steps: int | None = Field(default=None, gt=0)
    max_tool_calls: int | None = Field(default=None, ge=0)
    max_context_tokens: int | None = Field(default=None, gt=0)
    max_runtime_s: int | None = Field(default=None, gt=0)
    loop_repeats: int = Field(
        default=3, ge=2, le=50, description="Identical calls in a row that count as a loop."
    )
    rollback_webhook: AnyHttpUrl | None = None
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not AGENT_ID.match(value):
            raise ValueError("use 1-64 characters: lower-case letters, digits, '_', '.', '-'")
        return value

    @model_validator(mode="after")
    def _tools_consistent(self) -> AgentSpec:
        if self.allowed_tools:
            unknown = sorted(set(self.approval_tools) - set(self.allowed_tools))
            if unknown:
                raise ValueError(f"approval_tools: {unknown} are not in allowed_tools")
        return self


class StepKind(StrEnum):
    LLM = "llm"
    TOOL = "tool"
    OTHER = "other"


class Compensation(BaseModel):
    """How to undo a step: the tool (or action) to call, with its arguments."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1, max_length=128)
    arguments: dict[str, Any] = Field(default_factory=dict)


class StepReport(BaseModel):
    """One step of a run. ``cost`` is what the agent knows it paid; without it a model step is
    priced from provider, model and tokens."""

    model_config = ConfigDict(extra="forbid")

    kind: StepKind = StepKind.LLM
    tool: str | None = Field(default=None, max_length=128)
    arguments: dict[str, Any] | None = None
    provider: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=256)
    input_tokens: int = Field(default=0, ge=0, description="Uncached input tokens.")
    cache_read_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    context_tokens: int = Field(default=0, ge=0, description="Context window size used by this step.")
    cost: Decimal | None = Field(default=None, ge=0)
    error: str | None = Field(default=None, max_length=2000)
    compensation: Compensation | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> StepReport:
        if self.kind is StepKind.TOOL and not self.tool:
            raise ValueError("tool: a tool step names its tool")
        if (self.provider is None) != (self.model is None):
            raise ValueError("provider and model: give both or neither")
        return self


class NextAction(BaseModel):
    """What the agent means to do next, so the check can judge that call before it happens."""

    model_config = ConfigDict(extra="forbid")

    tool: str | None = Field(default=None, max_length=128)
    arguments: dict[str, Any] | None = None
    external: bool = False
    context_tokens: int | None = Field(default=None, ge=0)
    estimated_cost: Decimal | None = Field(default=None, ge=0)


class RunStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detail: dict[str, Any] = Field(default_factory=dict, description="e.g. trigger, ticket, input ref")


class RunEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(default="success", max_length=32, description="success, failure, cancelled ...")


class Reason(BaseModel):
    """Why a check said no: a stable ``code`` for programs and a message for people."""

    code: str
    message: str


class CheckResult(BaseModel):
    allow: bool
    reasons: list[Reason] = Field(default_factory=list)
    approval_request_id: str | None = None
    approval_opened: bool = Field(default=False, exclude=True)
    run: dict[str, Any] = Field(default_factory=dict)
