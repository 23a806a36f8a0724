"""Token pricing: the genai-prices catalog for list prices, contract overrides for what is paid.

Costs are Decimal USD, unrounded; quantize only for display. A call that cannot be priced gets
None costs and a flag, never a silent $0.

Names are imported on first use (PEP 562): importing genai-prices parses its bundled catalog,
which is the largest part of a gateway's start-up, so ``TokenUsage`` (``pricing.usage``, no
catalog) must not pay for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from comptroller.pricing.overrides import ContractOverride, parse_overrides, select_override
    from comptroller.pricing.pricer import PricedUsage, Pricer, PricingRow, TokenCharge
    from comptroller.pricing.usage import TOKEN_KINDS, TokenKind, TokenUsage

_HOMES: dict[str, str] = {
    "ContractOverride": "overrides",
    "parse_overrides": "overrides",
    "select_override": "overrides",
    "PricedUsage": "pricer",
    "Pricer": "pricer",
    "PricingRow": "pricer",
    "TokenCharge": "pricer",
    "TOKEN_KINDS": "usage",
    "TokenKind": "usage",
    "TokenUsage": "usage",
}

__all__ = [
    "TOKEN_KINDS",
    "ContractOverride",
    "PricedUsage",
    "Pricer",
    "PricingRow",
    "TokenCharge",
    "TokenKind",
    "TokenUsage",
    "parse_overrides",
    "select_override",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
