"""SaaS seats with embedded AI, billed in FOCUS 1.3: ChatGPT Enterprise, Copilot, Cursor, M365 Copilot.

Seat licences are the AI spend finance sees first and engineering sees last. Each row is one
team's seats of one product for one month, bought in advance (a recurring Purchase covering the
whole month). ``x_SeatsAssigned`` and ``x_SeatsActive30d`` sit beside the FOCUS columns so unused
seats show up in the ledger; two products are planted at well under 60% activity.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from comptroller.demo import enterprise as org
from comptroller.demo.writer import Row, at_midnight, costs, next_month, tags_json

HEADCOUNT = {
    "search": 42,
    "support-ai": 60,
    "growth": 25,
    "data-platform": 30,
    "ml-research": 28,
    "sales-eng": 35,
    "finance-ops": 18,
    "platform": 26,
}
ENGINEERING = ("search", "data-platform", "ml-research", "platform")

# product -> service provider, host provider, invoice issuer, billing account, workspace,
#            category, subcategory, list $/seat, contracted $/seat, renewal (days after end),
#            teams, share of headcount with a seat, share of seats active in the last 30 days
PLANS: dict[str, tuple] = {
    "ChatGPT Enterprise": (
        "OpenAI", "Microsoft", "OpenAI, L.L.C.", "org-NwL4bs7qT2c9", "ws-northwind-enterprise",
        "AI and Machine Learning", "Generative AI", "60", "54", 45,
        tuple(HEADCOUNT), 0.9, 0.45,
    ),
    "Microsoft 365 Copilot": (
        "Microsoft", "Microsoft", "SHI International Corp.", "nwlabs.onmicrosoft.com", "nwlabs-m365",
        "Business Applications", "Other (Business Applications)", "30", "30", 120,
        ("support-ai", "growth", "sales-eng", "finance-ops"), 1.0, 0.36,
    ),
    "GitHub Copilot Business": (
        "GitHub", "Microsoft", "GitHub, Inc.", "northwind-labs", "northwind-labs",
        "Developer Tools", "Other (Developer Tools)", "19", "19", 200,
        ENGINEERING, 1.0, 0.9,
    ),
    "Cursor Business": (
        "Anysphere", "Amazon Web Services", "Anysphere, Inc.", "team_nwlabs_8812", "northwind-eng",
        "Developer Tools", "Other (Developer Tools)", "40", "40", 30,
        ("search", "ml-research", "platform"), 0.6, 0.86,
    ),
}  # fmt: skip


def seat_rows(rng: np.random.Generator, months: list[list[dt.date]], end: dt.date) -> list[Row]:
    """One Purchase row per product, team and month; closed months carry an InvoiceId."""
    rows = []
    for product, plan in PLANS.items():
        provider, host, issuer, account, workspace, category, sub = plan[:7]
        list_price, contracted = Decimal(plan[7]), Decimal(plan[8])
        renewal, teams, coverage, activity = plan[9:]
        team_activity = {t: float(np.clip(rng.normal(activity, 0.06), 0.05, 0.98)) for t in teams}
        for i, month in enumerate(months):
            start = at_midnight(month[0].replace(day=1))
            stop = at_midnight(next_month(month[0].replace(day=1)))
            for team in teams:
                assigned = max(1, round(HEADCOUNT[team] * coverage * (1 + 0.02 * i)))
                active = int(rng.binomial(assigned, team_activity[team]))
                seats = Decimal(assigned)
                t = org.TEAM_BY_NAME[team]
                row = costs(list_price, contracted, seats, contracted * seats)
                row |= {
                    "BillingAccountId": account,
                    "BillingAccountName": org.COMPANY,
                    "BillingAccountType": "Organization",
                    "BillingCurrency": "USD",
                    "BillingPeriodStart": start,
                    "BillingPeriodEnd": stop,
                    "ChargePeriodStart": start,
                    "ChargePeriodEnd": stop,
                    "ChargeCategory": "Purchase",
                    "ChargeFrequency": "Recurring",
                    "ChargeDescription": f"{product} - {assigned} seats at ${contracted}/seat/month",
                    "InvoiceId": None
                    if i == len(months) - 1
                    else f"{provider[:3].upper()}-{start:%Y%m}-0417",
                    "InvoiceIssuerName": issuer,
                    "PricingCategory": "Standard",
                    "PricingUnit": "Seats",
                    "ProviderName": provider,
                    "PublisherName": provider,
                    "ServiceProviderName": provider,
                    "HostProviderName": host,
                    "ServiceCategory": category,
                    "ServiceSubcategory": sub,
                    "ServiceName": product,
                    "SkuId": f"{product.lower().replace(' ', '-')}-seat",
                    "SkuPriceId": f"{product.lower().replace(' ', '-')}-seat-monthly",
                    "SkuMeter": "Seats",
                    "SubAccountId": workspace,
                    "SubAccountName": f"{org.COMPANY} ({workspace})",
                    "SubAccountType": "Workspace",
                    "Tags": tags_json(org.team_tags(team, function=t.function, cost_center=t.cost_center)),
                    "x_SeatsAssigned": assigned,
                    "x_SeatsActive30d": active,
                    "x_RenewalDate": (end + dt.timedelta(days=renewal)).isoformat(),
                }
                rows.append(row)
    return rows
