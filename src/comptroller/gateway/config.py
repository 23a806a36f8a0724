"""The gateway's own configuration: upstream deployments, aliases, routing, cache, PII, storage.

Validated once at start-up (pydantic); the request path only reads the frozen result. Keys,
budgets, limits and kill switches are *not* here: they come from the control plane's snapshot.
"""

from __future__ import annotations

import os
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from comptroller.errors import ConfigError


class ProviderKind(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    AZURE = "azure"
    OPENAI_COMPATIBLE = "openai_compatible"

    @property
    def family(self) -> str:
        """The wire dialect the upstream speaks: ``anthropic`` or ``openai``."""
        return "anthropic" if self is ProviderKind.ANTHROPIC else "openai"


class RoutingStrategy(StrEnum):
    WEIGHTED = "weighted"
    COST_ORDERED = "cost_ordered"


class PiiDetector(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    US_SSN = "us_ssn"
    UK_NINO = "uk_nino"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Deployment(_Strict):
    """One upstream endpoint and the models it serves."""

    name: str = Field(min_length=1)
    provider: ProviderKind
    base_url: str = Field(min_length=1)
    api_key_env: str | None = None
    api_version: str | None = None  # azure only
    azure_deployments: dict[str, str] = Field(default_factory=dict)  # upstream model -> azure deployment
    models: dict[str, str] = Field(min_length=1)  # public name -> upstream model name
    weight: float = Field(default=1.0, gt=0)
    region: str | None = None
    private: bool = False
    allowed_data_classes: tuple[str, ...] = ()
    timeout_s: float = Field(default=60.0, gt=0)
    input_price_per_mtok: Decimal | None = Field(default=None, ge=0)
    output_price_per_mtok: Decimal | None = Field(default=None, ge=0)
    pricing_provider: str | None = None  # provider name used for catalog prices; default by kind

    @model_validator(mode="after")
    def _check(self) -> Deployment:
        if self.provider is ProviderKind.AZURE and not self.api_version:
            raise ValueError("api_version: an azure deployment needs the API version it calls")
        if (self.input_price_per_mtok is None) != (self.output_price_per_mtok is None):
            raise ValueError("input_price_per_mtok/output_price_per_mtok: give both or neither")
        return self

    def api_key(self) -> str | None:
        """Read at start-up; the credential never appears in the config file."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    @cached_property
    def price_provider(self) -> str:
        if self.pricing_provider:
            return self.pricing_provider
        return "openai" if self.provider is ProviderKind.OPENAI_COMPATIBLE else self.provider.value


class RetryConfig(_Strict):
    attempts: int = Field(default=2, ge=0, le=10)  # extra attempts after the first
    cooldown_s: float = Field(default=30.0, ge=0)


class SemanticCacheConfig(_Strict):
    """Answers for similar (not identical) prompts, within one key and identical settings."""

    enabled: bool = False
    threshold: float = Field(default=0.95, gt=0, le=1)  # cosine similarity needed for a hit
    max_entries: int = Field(default=10_000, gt=0)
    embedder: str = "hashing"  # "hashing" (local, lexical) or the name of a deployment serving embeddings
    embedding_model: str | None = None  # upstream model when ``embedder`` names a deployment


class CacheConfig(_Strict):
    enabled: bool = False
    ttl_s: int = Field(default=3600, gt=0)
    max_entries: int = Field(default=10_000, gt=0)
    max_temperature: float = Field(default=0.0, ge=0)  # opted-in keys: cache only requests this deterministic
    semantic: SemanticCacheConfig = Field(default_factory=SemanticCacheConfig)


class PiiConfig(_Strict):
    detectors: tuple[PiiDetector, ...] = ()


class SnapshotConfig(_Strict):
    file: Path | None = None
    redis_url: str | None = None
    redis_namespace: str = "comptroller"


class GatewayConfig(_Strict):
    """The whole file. Unknown fields are errors, so a typo never silently does nothing."""

    deployments: list[Deployment] = Field(min_length=1)
    aliases: dict[str, list[str]] = Field(default_factory=dict)  # alias/tier -> ordered public models
    routing: RoutingStrategy = RoutingStrategy.WEIGHTED
    retries: RetryConfig = Field(default_factory=RetryConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    spool_dir: Path | None = None
    snapshot: SnapshotConfig = Field(default_factory=SnapshotConfig)
    redis_url: str | None = None
    redis_namespace: str = "comptroller"
    unrestricted_data_classes: tuple[str, ...] = ("public", "internal")
    default_max_output_tokens: int = Field(default=4096, gt=0)
    max_reserved_output_tokens: int = Field(default=32_768, gt=0)
    fallback_input_price_per_mtok: Decimal = Field(default=Decimal(15), ge=0)
    fallback_output_price_per_mtok: Decimal = Field(default=Decimal(75), ge=0)

    @model_validator(mode="after")
    def _check(self) -> GatewayConfig:
        names = [d.name for d in self.deployments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"deployments: names must be unique, repeated: {', '.join(dupes)}")
        served = {model for d in self.deployments for model in d.models}
        for alias, targets in self.aliases.items():
            if alias in served:
                raise ValueError(f"aliases.{alias}: the name is already a model a deployment serves")
            missing = [t for t in targets if t not in served]
            if missing:
                raise ValueError(f"aliases.{alias}: no deployment serves {', '.join(missing)}")
        semantic = self.cache.semantic
        if semantic.enabled and semantic.embedder != "hashing":
            target = next((d for d in self.deployments if d.name == semantic.embedder), None)
            if target is None:
                raise ValueError(f"cache.semantic.embedder: no deployment named {semantic.embedder!r}")
            if not semantic.embedding_model:
                raise ValueError("cache.semantic.embedding_model: needed when the embedder is a deployment")
        return self

    def public_models(self) -> list[str]:
        return sorted({m for d in self.deployments for m in d.models} | set(self.aliases))


def parse_config(data: Any, source: str = "gateway config") -> GatewayConfig:
    """Validate a parsed YAML document; errors name the field path."""
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  - {where}: {err['msg']}")
        raise ConfigError(f"{source} is not valid:\n" + "\n".join(lines)) from None


def load_config(path: Path | str) -> GatewayConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read gateway config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return parse_config(data or {}, str(path))
