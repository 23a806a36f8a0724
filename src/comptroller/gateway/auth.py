"""Who is calling, and the attribution their spend carries.

Lookups go to a per-snapshot index (key hash -> key, enabled budgets, rate limits) that is
rebuilt only when the snapshot's version changes, so a request costs one SHA-256 and a dict hit.

Attribution = the key's attribution, then ``x-comptroller-<dimension>`` headers for dimensions
the key does not set (a key's own team, agent, ... cannot be overridden by its caller, or budgets
could be dodged), then ``key`` (key id), ``model`` (as requested) and ``vendor`` (provider), which
headers never set. ``region`` and ``data-class`` headers are routing constraints, not attribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from comptroller.budgets.model import Budget
from comptroller.gateway.errors import GatewayError
from comptroller.gateway.snapshot import (
    ATTRIBUTION_FIELDS,
    KEY_PREFIX,
    ApprovalPass,
    RateLimit,
    Snapshot,
    VirtualKey,
    hash_key,
)

HEADER_PREFIX = "x-comptroller-"
HEADER_DIMENSIONS: dict[str, str] = {f.replace("_", "-"): f for f in ATTRIBUTION_FIELDS}


class SnapshotIndex:
    """What the request path needs from one snapshot, precomputed once per version."""

    __slots__ = ("budgets", "keys", "passes", "rate_limits", "snapshot", "version")

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.version = snapshot.version
        self.keys: dict[str, VirtualKey] = snapshot.key_by_hash()
        self.budgets: tuple[Budget, ...] = tuple(b for b in snapshot.budgets if b.enabled)
        self.rate_limits: tuple[RateLimit, ...] = tuple(snapshot.rate_limits)
        self.passes: tuple[ApprovalPass, ...] = tuple(snapshot.approval_passes)

    def find(self, secret: str | None) -> VirtualKey:
        """The key a secret belongs to, usable or not (an unusable key still owns the event)."""
        if not secret:
            raise GatewayError(
                401, "missing_api_key", "no API key: send Authorization: Bearer sk-cmp-... or x-api-key"
            )
        if not secret.startswith(KEY_PREFIX):
            raise GatewayError(401, "invalid_api_key", "the API key is not a gateway key (sk-cmp-...)")
        key = self.keys.get(hash_key(secret))
        if key is None:
            raise GatewayError(401, "invalid_api_key", "the API key is not known to this gateway")
        return key

    def authenticate(self, secret: str | None, now: datetime | None = None) -> VirtualKey:
        key = self.find(secret)
        check_usable(key, now)
        return key

    def applying_budgets(self, attribution: Mapping[str, str | None]) -> list[Budget]:
        return [b for b in self.budgets if b.applies_to(attribution)]

    def applying_passes(self, attribution: Mapping[str, str | None]) -> tuple[ApprovalPass, ...]:
        """Granted one-off passes this request may use (usually none, so this is cheap)."""
        if not self.passes:
            return ()
        return tuple(p for p in self.passes if p.applies_to(attribution))

    def applying_limits(self, attribution: Mapping[str, str | None]) -> list[RateLimit]:
        return [limit for limit in self.rate_limits if limit.applies_to(attribution)]


def check_usable(key: VirtualKey, now: datetime | None = None) -> None:
    if key.revoked:
        raise GatewayError(401, "key_revoked", f"key {key.name!r} has been revoked")
    if not key.usable(now or datetime.now(UTC)):
        raise GatewayError(401, "key_expired", f"key {key.name!r} has expired")


def secret_from_headers(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip()
    return headers.get("x-api-key")


def attribution_for(key: VirtualKey, headers: Mapping[str, str], model: str) -> dict[str, str]:
    attribution = dict(key.attribution)
    for name, value in headers.items():
        if name.startswith(HEADER_PREFIX) and value:
            field = HEADER_DIMENSIONS.get(name[len(HEADER_PREFIX) :])
            if field is not None and field not in attribution:
                attribution[field] = value
    attribution["key"] = key.id
    attribution["model"] = model
    return attribution


def data_classes_for(key: VirtualKey, headers: Mapping[str, str]) -> frozenset[str]:
    declared = headers.get("x-comptroller-data-class")
    classes = set(key.data_classes)
    if declared:
        classes.update(c.strip() for c in declared.split(",") if c.strip())
    return frozenset(classes)


def region_for(key: VirtualKey, headers: Mapping[str, str]) -> str | None:
    """A key pinned to a region (attribution ``region``) keeps it; otherwise the header may ask."""
    return key.attribution.get("region") or headers.get("x-comptroller-region") or None
