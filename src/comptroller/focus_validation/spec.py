"""Value sets and formats the FOCUS 1.2 text fixes, kept in one place so rules and tests share them.

Sources: the FOCUS 1.2 column definitions and attributes (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec)
and the FinOps Foundation's machine-readable requirements model for 1.2 (focus_validator
``model-1.2.0.1.json``); model rule ids such as ``ServiceCategory-C-003-M`` are quoted in rule
docstrings so a finding can be traced back to the sentence that demands it.
"""

from __future__ import annotations

import re

from comptroller.ledger.schema import FOCUS_COLUMNS, Column, Kind, Requirement

SUPPORTED_VERSIONS: tuple[str, ...] = ("1.2", "1.3")

CHARGE_CATEGORIES = frozenset({"Usage", "Purchase", "Tax", "Credit", "Adjustment"})
CHARGE_CLASSES = frozenset({"Correction"})
CHARGE_FREQUENCIES = frozenset({"One-Time", "Recurring", "Usage-Based"})
PRICING_CATEGORIES = frozenset({"Standard", "Dynamic", "Committed", "Other"})
COMMITMENT_DISCOUNT_CATEGORIES = frozenset({"Spend", "Usage"})
# The 1.2 requirements model lists Active/Expired/Pending here, which contradicts the column text
# ("Used", "Unused") and the DiscountHandling attribute; the column text wins.
COMMITMENT_DISCOUNT_STATUSES = frozenset({"Used", "Unused"})
CAPACITY_RESERVATION_STATUSES = frozenset({"Used", "Unused"})

# ServiceSubcategory -> its one parent ServiceCategory (ServiceSubcategory-C-004-M).
_SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "AI and Machine Learning": (
        "AI Platforms",
        "Bots",
        "Generative AI",
        "Machine Learning",
        "Natural Language Processing",
    ),
    "Analytics": (
        "Analytics Platforms",
        "Business Intelligence",
        "Data Processing",
        "Search",
        "Streaming Analytics",
    ),
    "Business Applications": ("Productivity and Collaboration",),
    "Compute": (
        "Containers",
        "End User Computing",
        "Quantum Compute",
        "Serverless Compute",
        "Virtual Machines",
    ),
    "Databases": (
        "Caching",
        "Data Warehouses",
        "Ledger Databases",
        "NoSQL Databases",
        "Relational Databases",
        "Time Series Databases",
    ),
    "Developer Tools": (
        "Developer Platforms",
        "Continuous Integration and Deployment",
        "Development Environments",
        "Source Code Management",
        "Quality Assurance",
    ),
    "Identity": ("Identity and Access Management",),
    "Integration": ("API Management", "Messaging", "Workflow Orchestration"),
    "Internet of Things": ("IoT Analytics", "IoT Platforms"),
    "Management and Governance": (
        "Architecture",
        "Compliance",
        "Cost Management",
        "Data Governance",
        "Disaster Recovery",
        "Endpoint Management",
        "Observability",
        "Support",
    ),
    "Media": ("Content Creation", "Gaming", "Media Streaming", "Mixed Reality"),
    "Migration": ("Data Migration", "Resource Migration"),
    "Mobile": (),
    "Multicloud": ("Multicloud Integration",),
    "Networking": (
        "Application Networking",
        "Content Delivery",
        "Network Connectivity",
        "Network Infrastructure",
        "Network Routing",
        "Network Security",
    ),
    "Security": (
        "Secret Management",
        "Security Posture Management",
        "Threat Detection and Response",
    ),
    "Storage": (
        "Backup Storage",
        "Block Storage",
        "File Storage",
        "Object Storage",
        "Storage Platforms",
    ),
    "Web": ("Application Platforms",),
    "Other": (),
}
SERVICE_CATEGORIES = frozenset(_SUBCATEGORIES)
# Every category also owns an "Other (<category>)" member.
SUBCATEGORY_PARENT: dict[str, str] = {
    sub: category for category, subs in _SUBCATEGORIES.items() for sub in (*subs, f"Other ({category})")
}
SERVICE_SUBCATEGORIES = frozenset(SUBCATEGORY_PARENT)

# ISO 4217 alphabetic codes for national and supranational currencies (BillingCurrency-C-006-M).
# Precious metals, bond units, XTS (testing) and XXX (no currency) are not money one is billed in.
# Codes withdrawn recently (HRK, SLL, ZWL) stay so historical exports still validate.
ISO_4217_CODES = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BOV",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHE",
        "CHF",
        "CHW",
        "CLF",
        "CLP",
        "CNY",
        "COP",
        "COU",
        "CRC",
        "CUC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HRK",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MXV",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SLL",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "USN",
        "UYI",
        "UYU",
        "UYW",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XCG",
        "XDR",
        "XOF",
        "XPF",
        "XSU",
        "XUA",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
        "ZWL",
    ]
)

# SkuPriceDetails keys FOCUS defines (anything else must be x_-prefixed), with the JSON type each
# value must have. 1.1 and 1.2 texts differ on a few names (DiskIops vs DiskMaxIops, ...), so both
# spellings are accepted. The Model*/Token* keys come from the AI working draft after 1.3, which
# the project uses for model-API cost lines.
NUMERIC_SKU_PROPERTIES = frozenset(
    {
        "CoreCount",
        "DiskIops",
        "DiskMaxIops",
        "DiskSpace",
        "GpuCount",
        "MemorySize",
        "NetworkBandwidth",
        "NetworkIops",
        "NetworkMaxIops",
        "NetworkMaxThroughput",
    }
)
STRING_SKU_PROPERTIES = frozenset(
    {
        "DiskType",
        "InstanceSeries",
        "InstanceType",
        "OperatingSystem",
        "Redundancy",
        "StorageClass",
        "ModelDeveloper",
        "ModelFamily",
        "ModelId",
        "ModelVersion",
        "TokenCacheAction",
        "TokenDirection",
    }
)
FOCUS_SKU_PROPERTIES = NUMERIC_SKU_PROPERTIES | STRING_SKU_PROPERTIES
DRAFT_SKU_PROPERTY_VALUES: dict[str, frozenset[str]] = {
    "TokenDirection": frozenset({"Input", "Output"}),
    "TokenCacheAction": frozenset({"Uncached", "Read", "Write", "Other"}),
}

# DateTimeFormat-A-003..006-M: extended ISO 8601, 'T' separator, two-digit HH:mm:ss, ending in 'Z'.
# Fractional seconds are not forbidden by the text, so up to nanosecond precision is accepted.
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$"
# NumericFormat-A-003..011-M: integer, decimal or E notation; no '+' sign (not even in the
# exponent), no thousands separators, currency symbols or units.
NUMERIC_PATTERN = r"^-?(\d+(\.\d+)?|\.\d+)([eE]-?\d+)?$"
NUMERIC_RE = re.compile(NUMERIC_PATTERN)

# NullHandling-A-002-M forbids placeholder values that stand for "no value".
NULL_PLACEHOLDERS = frozenset(
    {"NULL", "null", "Null", "None", "none", "N/A", "n/a", "NaN", "nan", "Not Applicable"}
)


def focus_columns(version: str) -> tuple[Column, ...]:
    """The FOCUS columns a dataset of ``version`` may carry without an x_ prefix."""
    return tuple(c for c in FOCUS_COLUMNS if c.since <= version)


def columns_of(version: str, kind: Kind) -> tuple[str, ...]:
    return tuple(c.name for c in focus_columns(version) if c.kind is kind)


def columns_with(version: str, requirement: Requirement) -> tuple[str, ...]:
    return tuple(c.name for c in focus_columns(version) if c.requirement is requirement)
