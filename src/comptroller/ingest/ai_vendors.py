"""The catalog of AI vendors and products, and matching merchant descriptors against it.

Card statements and expense reports name a vendor the way its payment processor spells it
("OPENAI *CHATGPT SUBSCR", "CLAUDE.AI SUBSCRIPTION", "GOOGLE *Google One"), so the catalog
(``ai_vendors.json``, shipped as package data) lists aliases and domains per product. Text is
normalised (lower case, everything but letters and digits to single spaces) and an alias matches
only as whole words: "cohere" matches "COHERE TECHNOLOGIES" but not "Coherent Systems", "openai"
does not match "OPENAIRE". The longest matching alias wins, so "openai chatgpt" (ChatGPT, seats)
beats "openai" (the API); a match in the merchant beats one in the description.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

CATEGORIES: tuple[str, ...] = ("model_api", "ai_platform", "saas_seats", "infrastructure")
"""The catalog's categories: the ledger's AI cost layers."""


@dataclass(frozen=True, slots=True)
class Vendor:
    name: str
    product: str
    category: str
    aliases: tuple[str, ...]
    domains: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VendorMatch:
    vendor: Vendor
    matched: str
    """The normalised alias or domain that matched."""
    field: str
    """"merchant" or "description"."""

    @property
    def name(self) -> str:
        return self.vendor.name

    @property
    def product(self) -> str:
        return self.vendor.product

    @property
    def category(self) -> str:
        return self.vendor.category


def normalise(text: str) -> str:
    """Lower case, runs of anything but letters and digits as one space, trimmed."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


@cache
def catalog() -> tuple[Vendor, ...]:
    raw = json.loads(resources.files("comptroller.ingest").joinpath("ai_vendors.json").read_text("utf-8"))
    vendors = tuple(
        Vendor(
            name=v["name"],
            product=v.get("product") or v["name"],
            category=v["category"],
            aliases=tuple(v.get("aliases", ())),
            domains=tuple(v.get("domains", ())),
        )
        for v in raw["vendors"]
    )
    unknown = sorted({v.category for v in vendors} - set(CATEGORIES))
    if unknown:
        raise ValueError(f"ai_vendors.json: unknown categories {unknown}")
    return vendors


@cache
def _patterns() -> tuple[tuple[str, Vendor], ...]:
    """(normalised alias or domain, vendor), longest first."""
    pairs = {(normalise(term), v) for v in catalog() for term in (*v.aliases, *v.domains) if normalise(term)}
    return tuple(sorted(pairs, key=lambda p: (-len(p[0]), p[0], p[1].product)))


def match_vendor(merchant: str, description: str | None = None) -> VendorMatch | None:
    """The catalog product a merchant (or, failing that, the description) names, or None."""
    for field, text in (("merchant", merchant), ("description", description)):
        padded = f" {normalise(text or '')} "
        if padded.strip():
            for term, vendor in _patterns():
                if f" {term} " in padded:
                    return VendorMatch(vendor, term, field)
    return None
