"""What Northwind Labs has registered, limited and budgeted: the tables ``demo.governance`` seeds.

Names follow ``enterprise`` (teams, workflows, agents) and what the generated ledger holds
(vendors, products, models), so the inventory matches every registered item to real spend and
finds only the planted shadow AI unregistered: the card-paid tools of ``expenses`` and the
agents in ``SHADOW_AGENTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from comptroller.agents.specs import AutonomyLevel
from comptroller.budgets.model import BudgetBehaviour, BudgetScope
from comptroller.demo import enterprise as org
from comptroller.demo.usage import BLOCKING_BUDGET
from comptroller.governance.registry import UseCaseStatus

SHADOW_AGENTS: tuple[str, ...] = ("sql-analyst-agent",)
"""Agents that run in production with no use case or registry entry: shadow AI to be found."""
PENDING_TTL = timedelta(days=7)
"""Long enough that a demo loaded this week still has its requests waiting."""


def shadow_ai_truth(card_tools: dict[str, dict[str, Any]], events: pa.Table) -> dict[str, dict[str, Any]]:
    """The planted shadow AI by name: the card-paid tools (as ``expenses.shadow_truth`` measured
    them; the inventory lists each as a vendor and a product) and the unregistered agents, with
    their calls, team and first call measured from the usage events."""
    out = {name: {"kind": "card_tool", **facts} for name, facts in card_tools.items()}
    agent = events.column("agent").to_numpy(zero_copy_only=False)
    team = events.column("team").to_numpy(zero_copy_only=False)
    stamps = events.column("timestamp").to_numpy()
    for name in SHADOW_AGENTS:
        mine = agent == name
        out[name] = {
            "kind": "agent",
            "calls": int(mine.sum()),
            "teams": sorted({t for t in team[mine] if t is not None}),
            "first_seen": str(np.datetime_as_string(stamps[mine].min(), unit="D")) if mine.any() else None,
        }
    return out


def _email(name: str) -> str:
    return f"{name}@{org.DOMAIN}"


# --- Use cases ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoUseCase:
    """One registry entry and how far through the lifecycle the demo takes it.

    ``cost_factor`` times the linked dimensions' spend of the last full month is the expected
    monthly cost (above 1: budgeted with headroom; well below 1: the estimate was optimistic)."""

    fields: dict[str, Any]
    proposer: str
    reviewers: tuple[str, ...] = ("approver",)
    status: UseCaseStatus = UseCaseStatus.LIVE
    cost_factor: Decimal = Decimal("1.15")
    fixed_cost: Decimal | None = None

    @property
    def name(self) -> str:
        return str(self.fields["name"])

    @property
    def dimensions(self) -> dict[str, str]:
        return dict(self.fields.get("links", {}).get("dimensions", {}))


USE_CASES: tuple[DemoUseCase, ...] = (
    DemoUseCase(
        {
            "name": "Support triage and reply drafting",
            "purpose": "Classify inbound tickets, route them to the right queue and draft first replies "
            "that agents review before sending.",
            "owner": _email("diego.ramos"),
            "team": "support-ai",
            "users": "support agents (60), customers on the help centre chat",
            "data_classes": ["personal", "confidential"],
            "vendor": "OpenAI, Anthropic, Microsoft",
            "model": "claude-sonnet-4-20250514, gpt-4o-mini, claude-opus-4-20250514, gpt-4o, "
            "claude-3-5-haiku-20241022, anthropic.claude-3-5-sonnet-20241022-v2:0",
            "expected_monthly_value": "48000",
            "customer_impact": "direct",
            "autonomy": "human_approved",
            "success_metric": "first-response time under 2 minutes; triage accuracy above 95%",
            "links": {"dimensions": {"team": "support-ai"}, "agents": ["support-triage-agent"]},
        },
        proposer="finops",
        cost_factor=Decimal("1.2"),
    ),
    DemoUseCase(
        {
            "name": "Sales account research",
            "purpose": "Research target accounts before calls: news, filings and CRM history summarised.",
            "owner": _email("sam.ortiz"),
            "team": "sales-eng",
            "users": "account executives (25)",
            "data_classes": ["confidential"],
            "vendor": "Google, OpenAI",
            "model": "gemini-1.5-pro, gpt-4o",
            "expected_monthly_value": "15000",
            "success_metric": "research time per account below 10 minutes",
            "links": {
                "dimensions": {"team": "sales-eng", "workflow": "lead-enrichment"},
                "agents": ["sales-research-agent"],
            },
        },
        proposer="finops",
        cost_factor=Decimal("1.1"),
    ),
    DemoUseCase(
        {
            "name": "Pull-request code review",
            "purpose": "Review every pull request for bugs and style before a human reviewer looks.",
            "owner": _email("lars.nilsson"),
            "team": "platform",
            "users": "engineers (140)",
            "data_classes": ["internal"],
            "vendor": "Anthropic, OpenAI",
            "model": "claude-sonnet-4-20250514, o4-mini",
            "expected_monthly_value": "22000",
            "success_metric": "review comments accepted above 40%",
            "links": {
                "dimensions": {"team": "platform", "workflow": "code-review"},
                "agents": ["code-review-agent"],
            },
        },
        proposer="finops",
        cost_factor=Decimal("0.35"),
    ),
    DemoUseCase(
        {
            "name": "Semantic product search",
            "purpose": "Rewrite search queries and rank results by meaning on nw-search.",
            "owner": _email("maya.chen"),
            "team": "search",
            "users": "all nw-search visitors",
            "data_classes": ["public"],
            "vendor": "Pinecone, Amazon Web Services, Amazon, OpenAI, Google",
            "model": "gpt-4o-mini, gemini-2.0-flash, amazon.titan-embed-text-v2:0, "
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "expected_monthly_value": "60000",
            "customer_impact": "direct",
            "success_metric": "search conversion up 5%",
            "links": {"dimensions": {"team": "search"}},
        },
        proposer="search-owner",
        reviewers=("finops",),
        cost_factor=Decimal("1.1"),
    ),
    DemoUseCase(
        {
            "name": "Document corpus indexing",
            "purpose": "Embed the internal document corpus for retrieval by other AI features.",
            "owner": _email("tom.becker"),
            "team": "data-platform",
            "users": "internal services",
            "data_classes": ["internal"],
            "vendor": "OpenAI",
            "model": "text-embedding-3-small",
            "expected_monthly_value": "3000",
            "links": {"dimensions": {"team": "data-platform", "workflow": "doc-embedding"}},
        },
        proposer="finops",
        cost_factor=Decimal("1.3"),
    ),
    DemoUseCase(
        {
            "name": "ML research: fine-tuning and evaluation",
            "purpose": "Train and evaluate northwind-llama fine-tunes on GPU clusters; offline evals.",
            "owner": _email("akiko.sato"),
            "team": "ml-research",
            "users": "research scientists (12)",
            "data_classes": ["confidential"],
            "vendor": "CoreWeave, Amazon Web Services, Meta, Self-hosted, Anthropic",
            "model": "northwind-llama-ft-v2, meta.llama3-1-70b-instruct-v1:0, claude-3-5-haiku-20241022",
            "expected_monthly_value": "90000",
            "success_metric": "a fine-tune that beats the API baseline at half the cost per call",
            "links": {"dimensions": {"team": "ml-research"}},
        },
        proposer="finops",
        cost_factor=Decimal("1.05"),
    ),
    DemoUseCase(
        {
            "name": "AI assistant seats",
            "purpose": "ChatGPT Enterprise, Microsoft 365 Copilot, GitHub Copilot and Cursor for staff.",
            "owner": _email("lars.nilsson"),
            "team": "platform",
            "users": "all staff (ChatGPT, Copilot); engineers (GitHub Copilot, Cursor)",
            "data_classes": ["confidential"],
            "vendor": "OpenAI, Microsoft, GitHub, Anysphere",
            "model": "ChatGPT Enterprise, Microsoft 365 Copilot, GitHub Copilot Business, Cursor Business",
            "expected_monthly_value": "40000",
            "success_metric": "at least 60% of assigned seats active every month",
            "links": {"dimensions": {"cost_layer": "saas_seats"}},
        },
        proposer="finops",
        cost_factor=Decimal("1.1"),
    ),
    DemoUseCase(
        {
            "name": "LLM observability and evals",
            "purpose": "Trace every production LLM call (LangSmith) and run regression evals (Braintrust).",
            "owner": _email("lars.nilsson"),
            "team": "platform",
            "users": "engineers and researchers",
            "data_classes": ["internal"],
            "vendor": "LangChain, Braintrust",
            "model": "LangSmith, Braintrust Evals",
            "expected_monthly_value": "12000",
            "links": {"dimensions": {"ProviderName": "LangChain"}},
        },
        proposer="finops",
        cost_factor=Decimal("1.1"),
    ),
    DemoUseCase(
        {
            "name": "Invoice extraction and payment scheduling",
            "purpose": "Read supplier invoices, post them to the ledger and schedule payment runs.",
            "owner": _email("grace.okafor"),
            "team": "finance-ops",
            "users": "accounts payable (6)",
            "data_classes": ["regulated", "confidential"],
            "vendor": "Google, OpenAI",
            "model": "gemini-2.0-flash, gpt-4o-mini",
            "expected_monthly_value": "18000",
            "autonomy": "autonomous",
            "external_actions": True,
            "success_metric": "invoices posted without a touch above 80%",
            "links": {
                "dimensions": {"team": "finance-ops", "workflow": "invoice-extraction"},
                "agents": ["invoice-agent"],
            },
        },
        proposer="finops",
        status=UseCaseStatus.IN_REVIEW,
        cost_factor=Decimal("1.2"),
    ),
    DemoUseCase(
        {
            "name": "Campaign copy generation",
            "purpose": "Draft email and ad copy variants for growth campaigns.",
            "owner": _email("priya.nair"),
            "team": "growth",
            "users": "marketing (8)",
            "data_classes": ["public"],
            "vendor": "OpenAI, Anthropic",
            "model": "gpt-4o, claude-sonnet-4-20250514",
            "expected_monthly_value": "6000",
            "customer_impact": "indirect",
            "links": {"dimensions": {"team": "growth", "workflow": "campaign-copy"}},
        },
        proposer="finops",
        status=UseCaseStatus.PROPOSED,
        cost_factor=Decimal("1.25"),
    ),
    DemoUseCase(
        {
            "name": "Call transcription pilot",
            "purpose": "Transcribe and summarise sales calls; replaced by the meeting tool's own notes.",
            "owner": _email("sam.ortiz"),
            "team": "sales-eng",
            "users": "account executives (5, pilot)",
            "data_classes": ["internal"],
            "vendor": "OpenAI",
            "model": "whisper-1, gpt-4-turbo",
            "expected_monthly_value": "1500",
        },
        proposer="finops",
        status=UseCaseStatus.RETIRED,
        fixed_cost=Decimal("400"),
    ),
)


# --- Agents and keys ------------------------------------------------------------------------------

AGENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "Support triage and reply drafting",
        {
            "id": "support-triage-agent",
            "name": "Support triage",
            "owner": _email("diego.ramos"),
            "team": "support-ai",
            "autonomy_level": AutonomyLevel.AUTOMATIC,
            "allowed_tools": ["search_kb", "set_ticket_fields", "draft_reply"],
            "run_frequency": "per ticket",
            "budget_per_run": "0.05",
            "budget_per_period": "900",
            "max_steps": 8,
            "max_tool_calls": 6,
        },
    ),
    (
        "Sales account research",
        {
            "id": "sales-research-agent",
            "name": "Sales account research",
            "owner": _email("sam.ortiz"),
            "team": "sales-eng",
            "autonomy_level": AutonomyLevel.RECOMMEND,
            "allowed_tools": ["web_search", "crm_lookup", "filings_search"],
            "run_frequency": "on demand",
            "budget_per_run": "0.50",
            "budget_per_period": "400",
            "max_steps": 20,
            "max_tool_calls": 15,
        },
    ),
    (
        "Pull-request code review",
        {
            "id": "code-review-agent",
            "name": "Code review",
            "owner": _email("lars.nilsson"),
            "team": "platform",
            "autonomy_level": AutonomyLevel.AUTOMATIC,
            "allowed_tools": ["read_diff", "read_file", "run_linter", "post_comment"],
            "run_frequency": "per pull request",
            "budget_per_run": "2",
            "budget_per_period": "1500",
            "max_steps": 40,
            "max_tool_calls": 120,
            "max_context_tokens": 64000,
            "max_runtime_s": 900,
        },
    ),
    (
        "Invoice extraction and payment scheduling",
        {
            "id": "invoice-agent",
            "name": "Invoice extraction",
            "owner": _email("grace.okafor"),
            "team": "finance-ops",
            "autonomy_level": AutonomyLevel.AUTOMATIC,
            "allowed_tools": ["read_invoice", "post_to_ledger", "schedule_payment"],
            "approval_tools": ["schedule_payment"],
            "external_actions": True,
            "run_frequency": "per invoice",
            "budget_per_run": "0.20",
            "budget_per_period": "600",
            "max_steps": 12,
            "max_tool_calls": 8,
        },
    ),
)


KEYS: tuple[dict[str, Any], ...] = (
    {
        "name": "nw-assist support chat (prod)",
        "attribution": {"team": "support-ai", "product": "nw-assist", "workflow": "support-chat"}
        | {"environment": "prod"},
        "data_classes": ("personal",),
    },
    {
        "name": "support triage agent",
        "attribution": {"team": "support-ai", "product": "nw-assist", "agent": "support-triage-agent"}
        | {"workflow": "ticket-classification"},
    },
    {
        "name": "nw-search query rewrite (prod)",
        "attribution": {"team": "search", "product": "nw-search", "workflow": "semantic-search"}
        | {"environment": "prod"},
        "models": ("gpt-4o-mini", "gemini-2.0-flash"),
        "cache_opt_in": True,
    },
    {
        "name": "code review agent",
        "attribution": {"team": "platform", "product": "devex-platform", "agent": "code-review-agent"}
        | {"workflow": "code-review"},
    },
    {
        "name": "invoice agent",
        "attribution": {"team": "finance-ops", "product": "ledgerline", "agent": "invoice-agent"}
        | {"workflow": "invoice-extraction"},
        "models": ("gemini-2.0-flash", "gpt-4o-mini"),
    },
    {
        "name": "growth campaign copy (staging)",
        "attribution": {"team": "growth", "product": "pipeline-iq", "workflow": "campaign-copy"}
        | {"environment": "staging"},
    },
)
RATE_LIMITS: dict[str, dict[str, int]] = {
    "invoice agent": {"requests_per_minute": 60, "max_concurrent": 4},
    "nw-search query rewrite (prod)": {"requests_per_minute": 600, "tokens_per_minute": 400_000},
}
"""Set after the invoice agent's retry storm, and on the busiest customer-facing key."""


# --- Budgets --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoBudget:
    """A budget whose amount makes this month's spend ``used`` of it (a parent is raised to its
    largest child when that is more, as the tree requires)."""

    id: str
    name: str
    scope: BudgetScope
    value: str | None
    used: Decimal
    behaviour: BudgetBehaviour = BudgetBehaviour.ALERT
    parent: str | None = None


B, S = BudgetBehaviour, BudgetScope
BUDGETS: tuple[DemoBudget, ...] = (
    DemoBudget("ai-portfolio", "Northwind AI portfolio", S.PORTFOLIO, None, Decimal("0.72")),
    DemoBudget("fn-engineering", "Engineering", S.FUNCTION, "Engineering", Decimal("0.66"), parent="ai-portfolio"),
    DemoBudget("fn-support", "Customer Support", S.FUNCTION, "Customer Support", Decimal("0.6"), parent="ai-portfolio"),
    DemoBudget("fn-finance", "Finance", S.FUNCTION, "Finance", Decimal("0.7"), parent="ai-portfolio"),
    DemoBudget(BLOCKING_BUDGET[0], BLOCKING_BUDGET[1], S.TEAM, "search", Decimal("1.03"), B.APPROVAL, "fn-engineering"),
    DemoBudget("team-ml-research", "ML research team", S.TEAM, "ml-research", Decimal("0.77"), parent="fn-engineering"),
    DemoBudget("team-platform", "Platform team", S.TEAM, "platform", Decimal("0.58"), parent="fn-engineering"),
    DemoBudget("team-support-ai", "Support AI team", S.TEAM, "support-ai", Decimal("0.66"), parent="fn-support"),
    DemoBudget("team-finance-ops", "Finance ops team", S.TEAM, "finance-ops", Decimal("1.09"), B.HARD_CAP, "fn-finance"),
    DemoBudget(
        "agent-code-review", "Code review agent", S.AGENT, "code-review-agent", Decimal("0.84"), parent="team-platform"
    ),
    DemoBudget(
        "model-bedrock-claude-sonnet",
        "Claude 3.5 Sonnet on Bedrock",
        S.MODEL,
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        Decimal("0.58"),
        parent="ai-portfolio",
    ),
    DemoBudget("key-legacy-shared", "Legacy shared gateway key", S.KEY, "gk_legacy_shared", Decimal("0.55"), B.HARD_CAP),
)  # fmt: skip
INCREASED = ("team-ml-research", Decimal("1.25"), "finops", "approver")
"""Budget raised through an approved request: created at amount / 1.25, then raised by it."""
PENDING_INCREASE = ("team-search", Decimal("1.3"), "search-owner")
