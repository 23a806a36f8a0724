"""How each provider kind is addressed and authenticated."""

from __future__ import annotations

from comptroller.gateway.config import parse_config
from comptroller.gateway.upstream import UpstreamTargets
from comptroller.gateway.wire import ENDPOINTS


def test_urls_and_credentials_per_provider_kind(monkeypatch):
    monkeypatch.setenv("AZ_KEY", "az-secret")
    monkeypatch.setenv("ANT_KEY", "ant-secret")
    monkeypatch.setenv("OAI_KEY", "oai-secret")
    config = parse_config(
        {
            "deployments": [
                {
                    "name": "az",
                    "provider": "azure",
                    "base_url": "https://r.openai.azure.com/",
                    "api_version": "2024-10-21",
                    "api_key_env": "AZ_KEY",
                    "azure_deployments": {"gpt-4o": "prod-4o"},
                    "models": {"gpt-4o": "gpt-4o"},
                },
                {
                    "name": "ant",
                    "provider": "anthropic",
                    "base_url": "https://api.anthropic.com/v1",
                    "api_key_env": "ANT_KEY",
                    "models": {"c": "c"},
                },
                {
                    "name": "oai",
                    "provider": "openai",
                    "base_url": "https://api.openai.com/v1",
                    "api_key_env": "OAI_KEY",
                    "models": {"m": "m"},
                },
            ]
        }
    )
    az, ant, oai = config.deployments
    targets = UpstreamTargets()
    chat, responses = ENDPOINTS["/v1/chat/completions"], ENDPOINTS["/v1/responses"]
    assert (
        targets.url(az, chat, "gpt-4o")
        == "https://r.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21"
    )
    assert (
        targets.url(az, responses, "gpt-4o")
        == "https://r.openai.azure.com/openai/responses?api-version=2024-10-21"
    )
    assert targets.headers(az, {})["api-key"] == "az-secret"
    assert targets.url(ant, ENDPOINTS["/v1/messages"], "c") == "https://api.anthropic.com/v1/messages"
    ant_headers = targets.headers(ant, {"anthropic-beta": "tools-1", "authorization": "Bearer sk-cmp-x"})
    assert ant_headers["x-api-key"] == "ant-secret"
    assert ant_headers["anthropic-version"] == "2023-06-01"
    assert ant_headers["anthropic-beta"] == "tools-1"
    assert "authorization" not in ant_headers, "the caller's gateway key never goes upstream"
    assert targets.headers(oai, {})["authorization"] == "Bearer oai-secret"
