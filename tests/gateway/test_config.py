"""The gateway's configuration file: the shipped example loads, mistakes name their field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from comptroller.errors import ConfigError
from comptroller.gateway.config import GatewayConfig, ProviderKind, load_config, parse_config

EXAMPLE = Path(__file__).parents[2] / "examples" / "gateway.yaml"
MINIMAL = {
    "deployments": [{"name": "a", "provider": "openai", "base_url": "http://x/v1", "models": {"m": "m"}}]
}


def test_example_loads_and_documents_every_field():
    config = load_config(EXAMPLE)
    assert {d.provider for d in config.deployments} == set(ProviderKind)
    text = EXAMPLE.read_text()
    for name in GatewayConfig.model_fields:
        assert f"\n{name}:" in text or f"# {name}:" in text, f"examples/gateway.yaml does not show {name}"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"routing": "fastest"}, "routing"),
        ({"deployments": [{**MINIMAL["deployments"][0], "provider": "bedrock"}]}, "deployments.0.provider"),
        ({"deployments": [{**MINIMAL["deployments"][0], "provider": "azure"}]}, "api_version"),
        ({"aliases": {"smart": ["nope"]}}, "aliases.smart"),
        ({"cache": {"ttl": 5}}, "cache.ttl"),
        ({"deployments": [MINIMAL["deployments"][0], MINIMAL["deployments"][0]]}, "names must be unique"),
        ({"deployments": [{**MINIMAL["deployments"][0], "input_price_per_mtok": 1}]}, "give both"),
    ],
)
def test_errors_name_the_field(change, where):
    with pytest.raises(ConfigError) as caught:
        parse_config({**MINIMAL, **change})
    assert where in caught.value.message


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("deployments: [")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_credentials_come_from_the_environment(monkeypatch):
    config = parse_config(yaml.safe_load(EXAMPLE.read_text()))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-upstream")
    assert config.deployments[0].api_key() == "sk-upstream"
