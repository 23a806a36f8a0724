"""Token pricing: the genai-prices catalog for list prices, contract overrides for what is paid.

Costs are Decimal USD, unrounded; quantize only for display. A call that cannot be priced gets
None costs and a flag, never a silent $0.
"""

from comptroller.pricing.overrides import ContractOverride, parse_overrides, select_override
from comptroller.pricing.pricer import PricedUsage, Pricer, PricingRow, TokenCharge
from comptroller.pricing.usage import TOKEN_KINDS, TokenKind, TokenUsage

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
