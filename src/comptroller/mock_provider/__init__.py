"""A mock model provider speaking OpenAI's and Anthropic's real wire formats.

It stands in for the one thing tests and benchmarks cannot reach: a real model provider. Usage
numbers are deterministic (see ``usage``), latency is fixed, and faults are injected by a path
prefix, a header or a model name, so fallbacks are exercised over real HTTP.
"""

from comptroller.mock_provider.app import MockSettings, create_app

__all__ = ["MockSettings", "create_app"]
