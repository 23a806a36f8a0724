"""One gateway stack (mock provider + gateway on loopback) shared by the proxy tests of a session."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.gateway.harness import Stack, secret


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("gateway")).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def oai(stack):
    """An official OpenAI client for the ``main`` key; other keys via ``oai_for``."""
    return openai.OpenAI(base_url=f"{stack.url}/v1", api_key=secret("main"), max_retries=0)


@pytest.fixture
def oai_for(stack):
    def make(name: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{stack.url}/v1", api_key=secret(name), max_retries=0)

    return make


@pytest.fixture
def claude(stack):
    return anthropic.Anthropic(base_url=stack.url, api_key=secret("main"), max_retries=0)
