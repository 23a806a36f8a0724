"""Our provider names and model refs, mapped onto the ids the genai-prices catalog uses.

Telemetry names one provider many ways (``aws-bedrock``, ``aws.bedrock``, ``bedrock``;
``azure.ai.openai``; ``gcp.vertex_ai``), and model refs often carry a routing prefix
(``openai/gpt-4o``, ``models/gemini-1.5-pro``). The catalog's own fuzzy provider matching is
substring-based, so ``azure-openai`` would land on OpenAI's price list; explicit aliases keep each
name on the provider that actually bills it.
"""

from __future__ import annotations

_ALIASES: dict[str, str] = {
    # AWS Bedrock
    "aws-bedrock": "aws",
    "aws.bedrock": "aws",
    "aws_bedrock": "aws",
    "amazon-bedrock": "aws",
    "bedrock": "aws",
    # Azure (OpenAI and AI Foundry deployments both bill through Azure)
    "azure-openai": "azure",
    "azure_openai": "azure",
    "azure.openai": "azure",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "azure-ai": "azure",
    # Google (Gemini API and Vertex AI share one price list in the catalog)
    "gcp": "google",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "gemini": "google",
    "vertex": "google",
    "vertex_ai": "google",
    "vertex-ai": "google",
    "vertexai": "google",
    "google-vertex": "google",
    "google_vertex": "google",
    "google-genai": "google",
    # Others whose telemetry names differ from the catalog ids
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "xai": "x-ai",
    "x_ai": "x-ai",
    "grok": "x-ai",
    "together_ai": "together",
    "together-ai": "together",
    "togetherai": "together",
    "fireworks_ai": "fireworks",
    "fireworks-ai": "fireworks",
    "moonshot": "moonshotai",
    "deepseek-ai": "deepseek",
}


def catalog_provider_id(provider: str) -> str:
    """The catalog id for one of our provider names; unknown names pass through normalised.

    Passing through (rather than rejecting) lets the catalog's own id and alias matching decide,
    so a provider added to genai-prices works here without a code change.
    """
    name = provider.strip().lower()
    return _ALIASES.get(name, name)


def split_model_ref(model: str) -> tuple[str | None, str]:
    """Split ``prefix/model`` into (prefix, rest); (None, model) when there is no prefix."""
    ref = model.strip()
    if "/" not in ref:
        return None, ref
    prefix, rest = ref.split("/", 1)
    return (prefix or None), rest


def model_ref_candidates(model: str) -> tuple[str, ...]:
    """Refs to try against the catalog, most literal first.

    The full ref goes first because some catalogs (OpenRouter's) name models *with* the prefix;
    then the ref without its first segment (``openai/gpt-4o``), then the last segment
    (``publishers/google/models/gemini-1.5-pro``).
    """
    ref = model.strip().lower()
    if not ref:
        return ()
    candidates = [ref]
    if "/" in ref:
        candidates.append(ref.split("/", 1)[1])
        candidates.append(ref.rsplit("/", 1)[1])
    return tuple(dict.fromkeys(c for c in candidates if c))
