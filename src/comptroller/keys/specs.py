"""What a person may ask for (inputs) and what they are shown (records), as pydantic models.

The same models are the REST bodies and responses and what the CLI builds from its options, so
a bad value is refused with the same message, naming the field, whichever way it came in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from comptroller.gateway.snapshot import ATTRIBUTION_FIELDS


def as_utc(moment: datetime | None) -> datetime | None:
    """State keeps naive UTC; everything shown or compared is aware."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class KeySpec(BaseModel):
    """A virtual key to create. ``attribution`` is stamped on every request made with the key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    attribution: dict[str, str] = Field(default_factory=dict)
    models: tuple[str, ...] = ()
    expires_at: datetime | None = None
    cache_opt_in: bool = False
    store_prompts: bool = False
    data_classes: tuple[str, ...] = ()

    @field_validator("attribution")
    @classmethod
    def _known_dimensions(cls, value: dict[str, str]) -> dict[str, str]:
        for name, item in value.items():
            if name not in ATTRIBUTION_FIELDS:
                raise ValueError(f"unknown dimension {name!r}; choose from {', '.join(ATTRIBUTION_FIELDS)}")
            if not item.strip():
                raise ValueError(f"{name} needs a value")
        return value

    @field_validator("models", "data_classes")
    @classmethod
    def _no_blank_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("entries must not be empty")
        return tuple(dict.fromkeys(value))

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: datetime | None) -> datetime | None:
        value = as_utc(value)
        if value is not None and value <= datetime.now(UTC):
            raise ValueError(f"{value.isoformat()} is not in the future")
        return value


class KeyInfo(BaseModel):
    """A key as listed: everything but the secret, which is never stored."""

    id: str
    name: str
    prefix: str
    attribution: dict[str, str]
    models: tuple[str, ...]
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    cache_opt_in: bool
    store_prompts: bool
    data_classes: tuple[str, ...]
    created_by: str
    created_at: datetime

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            return "expired"
        return "active"


class CreatedKey(BaseModel):
    """The one answer that carries the secret: shown once, at creation."""

    key: KeyInfo
    secret: str


class KillScope(StrEnum):
    KEY = "key"
    AGENT = "agent"
    WORKFLOW = "workflow"
    TEAM = "team"


class KillSwitchSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: KillScope
    scope_value: str = Field(min_length=1, max_length=256)
    reason: str = Field(min_length=1, max_length=2000)


class KillSwitchInfo(BaseModel):
    id: str
    scope: KillScope
    scope_value: str
    reason: str
    engaged_by: str
    engaged_at: datetime
    released_by: str | None
    released_at: datetime | None

    @property
    def engaged(self) -> bool:
        return self.released_at is None


class RateLimitScope(StrEnum):
    KEY = "key"
    TEAM = "team"
    MODEL = "model"


class RateLimitSpec(BaseModel):
    """At least one of the three limits; each a positive whole number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: RateLimitScope
    scope_value: str = Field(min_length=1, max_length=256)
    requests_per_minute: int | None = Field(default=None, gt=0, le=1_000_000_000)
    tokens_per_minute: int | None = Field(default=None, gt=0, le=2_000_000_000)
    max_concurrent: int | None = Field(default=None, gt=0, le=1_000_000)

    @model_validator(mode="after")
    def _some_limit(self) -> RateLimitSpec:
        if (
            self.requests_per_minute is None
            and self.tokens_per_minute is None
            and self.max_concurrent is None
        ):
            raise ValueError(
                "requests_per_minute: set at least one of requests_per_minute, tokens_per_minute, max_concurrent"
            )
        return self


class RateLimitInfo(RateLimitSpec):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    created_by: str
    created_at: datetime
    updated_at: datetime
