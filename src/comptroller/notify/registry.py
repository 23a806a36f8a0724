"""Building channels from stored config: the registry lookup, validation and secret masking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from comptroller.errors import ConfigError
from comptroller.notify import email_smtp, slack, webhook
from comptroller.notify.base import CHANNEL_TYPES, Channel, ChannelConfig

BUILTIN_TYPES = (webhook.WebhookChannel, slack.SlackChannel, email_smtp.EmailChannel)
MASK = "****"


def channel_type(name: str) -> type[Channel]:
    try:
        return CHANNEL_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(CHANNEL_TYPES))
        raise ConfigError(f"type: unknown channel type {name!r}; choose one of {known}") from None


def validate_config(type_name: str, config: Mapping[str, Any]) -> ChannelConfig:
    """The typed config, or a ConfigError naming each bad field."""
    cls = channel_type(type_name)
    try:
        return cls.config_model.model_validate(dict(config))
    except ValidationError as exc:
        problems = "; ".join(
            f"config.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{type_name} channel: {problems}") from None


def build_channel(type_name: str, config: Mapping[str, Any]) -> Channel:
    return channel_type(type_name)(validate_config(type_name, config))


def mask_value(value: Any) -> Any:
    """Enough of a secret to recognise it (a URL's host and last four characters), never more."""
    if not isinstance(value, str) or not value:
        return value
    if "://" in value:
        scheme, rest = value.split("://", 1)
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{scheme}://{host}/{MASK}{value[-4:]}" if len(rest) > len(host) + 4 else f"{scheme}://{host}"
    return MASK


def masked_config(type_name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    secrets = channel_type(type_name).secret_fields
    return {key: mask_value(value) if key in secrets else value for key, value in config.items()}


def merge_secrets(type_name: str, stored: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """An update that sends a secret back as shown (masked) keeps the stored secret, so editing
    one field of a channel never needs the webhook URL or password again."""
    secrets = channel_type(type_name).secret_fields
    merged = dict(given)
    for key in secrets:
        if key in given and key in stored and given[key] == mask_value(stored[key]):
            merged[key] = stored[key]
    return merged
