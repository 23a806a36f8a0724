"""The demo enterprise, Northwind Labs: its org chart, accounts, workflows and attribution setup.

Every generator reads names from here, so a team, account or agent is spelled one way across the
FOCUS files, the usage events, the virtual-tag rules and ``truth``. Tests and later features can
rely on that: a rule that maps "Atlas Nimbus" to search matches exactly the lines cloud.py wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY = "Northwind Labs"
DOMAIN = "northwind.example"

FUNCTIONS: tuple[str, ...] = ("Engineering", "Customer Support", "Sales", "Marketing", "Finance")
SEGMENTS: tuple[str, ...] = ("enterprise", "smb", "consumer")
ENVIRONMENTS: tuple[str, ...] = ("prod", "staging", "dev")


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    function: str
    product: str
    owner: str | None
    """None leaves the team unowned on purpose: the ownership queue must have something in it."""
    cost_center: str


TEAMS: tuple[Team, ...] = (
    Team("search", "Engineering", "nw-search", f"maya.chen@{DOMAIN}", "CC-2100"),
    Team("support-ai", "Customer Support", "nw-assist", f"diego.ramos@{DOMAIN}", "CC-3100"),
    Team("growth", "Marketing", "pipeline-iq", f"priya.nair@{DOMAIN}", "CC-5200"),
    Team("data-platform", "Engineering", "insight-hub", f"tom.becker@{DOMAIN}", "CC-2300"),
    Team("ml-research", "Engineering", "model-lab", f"akiko.sato@{DOMAIN}", "CC-2400"),
    Team("sales-eng", "Sales", "pipeline-iq", None, "CC-5100"),
    Team("finance-ops", "Finance", "ledgerline", f"grace.okafor@{DOMAIN}", "CC-4410"),
    Team("platform", "Engineering", "devex-platform", f"lars.nilsson@{DOMAIN}", "CC-2200"),
)
TEAM_BY_NAME: dict[str, Team] = {t.name: t for t in TEAMS}
PRODUCTS: tuple[str, ...] = tuple(dict.fromkeys(t.product for t in TEAMS))


def team_tags(team: str, environment: str = "prod", **extra: str) -> dict[str, str]:
    """The tag set a well-behaved team puts on its resources (owner omitted when unowned)."""
    t = TEAM_BY_NAME[team]
    tags = {"team": team, "product": t.product, "environment": environment}
    if t.owner:
        tags["owner"] = t.owner
    tags.update(extra)
    return tags


SHARED_PLATFORM_POOL = "shared-platform"
OBSERVABILITY_POOL = "observability"

TAG_SETS: dict[str, dict[str, str] | None] = {
    "-": None,
    "mlr-dev": team_tags("ml-research", "dev", project="llama-ft"),
    "mlr-prod": team_tags("ml-research", "prod", project="llama-ft"),
    "mlr": team_tags("ml-research"),
    "llama": team_tags("ml-research", model="northwind-llama-ft-v2"),
    "search": team_tags("search"),
    "support": team_tags("support-ai"),
    "atlas": {"project": "atlas"},
    "recs": {"app": "recs", "environment": "prod"},
    "finance": {"team": "finance", "cost_center": "CC-4410", "environment": "prod"},
    "exp": {"environment": "dev"},
    "pool": {"cost_pool": SHARED_PLATFORM_POOL, "environment": "prod", "cluster": "nw-eks-prod"},
    "cw-pool": {"cost_pool": SHARED_PLATFORM_POOL, "environment": "prod", "cluster": "cw-inference"},
    "obs": {"cost_pool": OBSERVABILITY_POOL, "environment": "prod"},
}
"""Tag sets seen on resources, by a short name the resource tables refer to. Real estates tag
unevenly: some sets lack a team, one ("finance") carries a team value that is not a team."""

# --- Cloud accounts -------------------------------------------------------------------------------

AWS_PAYER_ID = "418295730146"
AWS_PAYER_NAME = "Northwind Labs Payer"


@dataclass(frozen=True, slots=True)
class SubAccount:
    id: str
    name: str
    team: str | None
    """The team the account belongs to in practice; None for sandboxes nobody claims."""


AWS_ACCOUNTS: dict[str, SubAccount] = {
    "search": SubAccount("602914837751", "Atlas Nimbus", "search"),
    "data": SubAccount("731540298816", "Orion Data", "data-platform"),
    "research": SubAccount("845120376604", "Helix Research", "ml-research"),
    "support": SubAccount("519873640229", "Beacon Support", "support-ai"),
    "shared": SubAccount("287364519040", "Northwind Shared Services", "platform"),
    "sandbox": SubAccount("963018274455", "Sandbox Polaris", None),
}

AZURE_BILLING_ID = "f3d2a1b0-7c4e-4b8a-9d2e-1a2b3c4d5e6f:0a1b2c3d-4e5f-6789-abcd-ef0123456789_2019-05-31"
AZURE_BILLING_NAME = "Northwind Labs Inc."
AZURE_SUBSCRIPTIONS: dict[str, SubAccount] = {
    "support": SubAccount("8d5c2f6e-41a7-4c39-9b0e-5f7a1d2c3b40", "nw-support-prod", "support-ai"),
    "finance": SubAccount("1b7e9a30-6c2d-4f81-8e45-9a0b3c7d2e15", "nw-finance-automation", "finance-ops"),
    "experiments": SubAccount("c4a8e1f2-93b6-47d0-a5c1-2e8f6b9d0a73", "nw-experiments", None),
}


# --- Model traffic --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Workflow:
    """One use of AI in the company, with the token shape of its calls.

    Token medians follow the public Azure 2023 and BurstGPT traces: code-like work has long
    prompts and very short answers, conversation has shorter prompts and longer answers.
    """

    name: str
    team: str
    feature: str
    share: float
    models: tuple[tuple[str, float], ...]
    input_median: float
    output_median: float
    operation: str = "chat"
    agent: str | None = None
    risk_tier: str = "medium"
    segments: tuple[float, float, float] | None = None
    """Weights of enterprise/smb/consumer; None for internal workflows with no customer."""
    source: str = "gateway"
    cache_share: float = 0.35
    tools_mean: float = 0.0
    environments: tuple[float, float, float] = (0.86, 0.08, 0.06)


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        "support-chat",
        "support-ai",
        "chat-reply",
        0.22,
        (("claude-sonnet-4-20250514", 0.55), ("gpt-4o-mini", 0.45)),
        1020,
        129,
        risk_tier="high",
        segments=(0.35, 0.4, 0.25),
        cache_share=0.7,
    ),
    Workflow(
        "ticket-classification",
        "support-ai",
        "auto-triage",
        0.12,
        (("claude-opus-4-20250514", 0.45), ("gpt-4o", 0.35), ("claude-3-5-haiku-20241022", 0.2)),
        900,
        6,
        agent="support-triage-agent",
        segments=(0.4, 0.45, 0.15),
        cache_share=0.5,
    ),
    Workflow(
        "code-review",
        "platform",
        "pr-review",
        0.14,
        (("claude-sonnet-4-20250514", 0.7), ("o4-mini", 0.3)),
        1470,
        24,
        agent="code-review-agent",
        risk_tier="low",
        tools_mean=1.2,
    ),
    Workflow(
        "semantic-search",
        "search",
        "query-rewrite",
        0.15,
        (("gpt-4o-mini", 0.6), ("gemini-2.0-flash", 0.4)),
        1300,
        60,
        segments=(0.3, 0.3, 0.4),
        cache_share=0.25,
    ),
    Workflow(
        "doc-embedding",
        "data-platform",
        "corpus-indexing",
        0.08,
        (("text-embedding-3-small", 1.0),),
        1200,
        0,
        operation="embeddings",
        risk_tier="low",
        cache_share=0.0,
    ),
    Workflow(
        "lead-enrichment",
        "sales-eng",
        "account-research",
        0.06,
        (("gemini-1.5-pro", 0.55), ("gpt-4o", 0.45)),
        2500,
        200,
        agent="sales-research-agent",
        segments=(0.7, 0.3, 0.0),
        source="otlp",
        tools_mean=0.8,
    ),
    Workflow(
        "campaign-copy",
        "growth",
        "email-drafts",
        0.05,
        (("gpt-4o", 0.5), ("claude-sonnet-4-20250514", 0.5)),
        700,
        350,
        segments=(0.2, 0.5, 0.3),
    ),
    Workflow(
        "invoice-extraction",
        "finance-ops",
        "ap-automation",
        0.06,
        (("gemini-2.0-flash", 0.6), ("gpt-4o-mini", 0.4)),
        2200,
        180,
        agent="invoice-agent",
        risk_tier="high",
        tools_mean=0.6,
    ),
    Workflow(
        "research-eval",
        "ml-research",
        "offline-eval",
        0.07,
        (("northwind-llama-ft-v2", 0.6), ("claude-3-5-haiku-20241022", 0.4)),
        1100,
        90,
        source="otlp",
        risk_tier="low",
        environments=(0.2, 0.3, 0.5),
    ),
    Workflow(
        "sql-assistant",
        "data-platform",
        "nl-to-sql",
        0.05,
        (("o4-mini", 0.6), ("gpt-4o-mini", 0.4)),
        1800,
        110,
        agent="sql-analyst-agent",
        tools_mean=0.9,
    ),
)
WORKFLOW_BY_NAME: dict[str, Workflow] = {w.name: w for w in WORKFLOWS}
AGENTS: tuple[str, ...] = tuple(dict.fromkeys(w.agent for w in WORKFLOWS if w.agent))

CUSTOMERS: dict[str, tuple[str, ...]] = {
    "enterprise": tuple(
        f"cust-{n}"
        for n in ("acme-corp", "globex", "initech", "umbrella", "stark-ind", "wayne-ent", "hooli", "soylent")
    ),
    "smb": tuple(f"cust-smb-{i:03d}" for i in range(1, 41)),
    "consumer": (),
}

# Provider-side identifiers the gateway and OTLP exporters report with each call.
PROVIDER_ACCOUNTS: dict[str, str] = {
    "openai": "org-NwL4bs7qT2c9",
    "anthropic": "org_01Hn7WQ3northwind",
    "google": "projects/nw-genai-prod",
    "self-hosted": "sagemaker:845120376604",
}


# --- Attribution setup ----------------------------------------------------------------------------

# First match wins. Non-override rules only fill a dimension a line does not carry itself.
RULES: tuple[dict, ...] = (
    {
        "dimension": "team",
        "value": "search",
        "condition": "SubAccountName = 'Atlas Nimbus'",
        "override": False,
    },
    {
        "dimension": "team",
        "value": "data-platform",
        "condition": "SubAccountName = 'Orion Data'",
        "override": False,
    },
    {
        "dimension": "team",
        "value": "ml-research",
        "condition": "SubAccountName = 'Helix Research' OR ResourceName LIKE 'mlr-%'",
        "override": False,
    },
    {
        "dimension": "team",
        "value": "support-ai",
        "condition": "ServiceName = 'Azure OpenAI Service' AND SubAccountName ILIKE '%support%'",
        "override": False,
    },
    {
        "dimension": "team",
        "value": "search",
        "condition": "tag('project') = 'atlas' AND ServiceCategory = 'AI and Machine Learning'",
        "override": False,
    },
    {
        "dimension": "team",
        "value": "platform",
        "condition": "SubAccountName = 'Northwind Shared Services' AND tag('cost_pool') IS NULL",
        "override": False,
    },
    {
        "dimension": "team",
        "value": "growth",
        "condition": "ProviderName IN ('Pinecone') AND tag('app') = 'recs'",
        "override": False,
    },
    {
        "dimension": "team",
        "value": "finance-ops",
        "condition": "tag('cost_center') = 'CC-4410' AND tag('team') NOT IN ('finance-ops')",
        "override": True,
    },
    {
        "dimension": "environment",
        "value": "dev",
        "condition": "SubAccountName IN ('Sandbox Polaris', 'nw-experiments')",
        "override": False,
    },
)

OWNERS: tuple[dict, ...] = tuple(
    {"dimension": "team", "value": t.name, "owner": t.owner} for t in TEAMS if t.owner is not None
)

ALLOCATIONS: tuple[dict, ...] = (
    {
        "name": SHARED_PLATFORM_POOL,
        "condition": f"tag('cost_pool') = '{SHARED_PLATFORM_POOL}'",
        "dimension": "team",
        "method": "proportional",
        "targets": None,
        "weights": None,
    },
    {
        "name": OBSERVABILITY_POOL,
        "condition": f"tag('cost_pool') = '{OBSERVABILITY_POOL}'",
        "dimension": "team",
        "method": "fixed",
        "targets": None,
        "weights": {"search": 0.5, "support-ai": 0.3, "growth": 0.2},
    },
)
