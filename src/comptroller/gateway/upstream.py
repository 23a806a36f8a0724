"""How each provider kind is called: URL, credential header, and the one shared HTTP session.

URLs and headers are worked out once per (deployment, endpoint, model) and reused; the session
keeps connections alive to every upstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import aiohttp

from comptroller.gateway.config import Deployment, ProviderKind
from comptroller.gateway.wire import Endpoint

ANTHROPIC_VERSION = "2023-06-01"
# Client headers worth forwarding upstream; everything else (auth, host, x-comptroller-*) stays here.
_FORWARDED = ("anthropic-version", "anthropic-beta", "openai-organization", "openai-project", "openai-beta")


class UpstreamTargets:
    def __init__(self) -> None:
        self._urls: dict[tuple[str, str, str], str] = {}
        self._auth: dict[str, dict[str, str]] = {}
        self._timeouts: dict[tuple[str, bool], aiohttp.ClientTimeout] = {}

    def timeout(self, deployment: Deployment, stream: bool) -> aiohttp.ClientTimeout:
        """A whole call must finish within ``timeout_s``; a stream, each read within it."""
        key = (deployment.name, stream)
        timeout = self._timeouts.get(key)
        if timeout is None:
            seconds = deployment.timeout_s
            if stream:
                timeout = aiohttp.ClientTimeout(sock_connect=seconds, sock_read=seconds)
            else:
                timeout = aiohttp.ClientTimeout(total=seconds)
            self._timeouts[key] = timeout
        return timeout

    def url(self, deployment: Deployment, endpoint: Endpoint, model: str) -> str:
        key = (deployment.name, endpoint.path, model)
        url = self._urls.get(key)
        if url is None:
            url = self._urls[key] = _build_url(deployment, endpoint, model)
        return url

    def headers(self, deployment: Deployment, client: Mapping[str, str]) -> dict[str, str]:
        auth = self._auth.get(deployment.name)
        if auth is None:
            auth = self._auth[deployment.name] = _auth_headers(deployment)
        headers = {"content-type": "application/json", **auth}
        for name in _FORWARDED:
            value = client.get(name)
            if value:
                headers[name] = value
        if deployment.provider is ProviderKind.ANTHROPIC and "anthropic-version" not in headers:
            headers["anthropic-version"] = ANTHROPIC_VERSION
        return headers


def _build_url(deployment: Deployment, endpoint: Endpoint, model: str) -> str:
    base = deployment.base_url.rstrip("/")
    if deployment.provider is ProviderKind.AZURE:
        version = quote(deployment.api_version or "")
        if endpoint.operation == "responses":
            return f"{base}/openai/responses?api-version={version}"
        name = quote(deployment.azure_deployments.get(model, model))
        return f"{base}/openai/deployments/{name}{endpoint.upstream_path}?api-version={version}"
    return base + endpoint.upstream_path


def _auth_headers(deployment: Deployment) -> dict[str, str]:
    secret = deployment.api_key()
    if not secret:
        return {}
    if deployment.provider is ProviderKind.ANTHROPIC:
        return {"x-api-key": secret}
    if deployment.provider is ProviderKind.AZURE:
        return {"api-key": secret}
    return {"authorization": f"Bearer {secret}"}


def new_session() -> aiohttp.ClientSession:
    """One session for every upstream: keep-alive pools, no per-request timeouts (set per call)."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=60)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),
        skip_auto_headers=("User-Agent", "Accept-Encoding"),  # identity bodies: usage is read from them
    )
