"""Slack-compatible incoming webhook: ``{"text": ..., "blocks": [...]}``.

``text`` is the fallback shown in notifications; the blocks carry a header, the summary and one
section per part of the message. Mattermost and Rocket.Chat accept the same body.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import AnyHttpUrl, Field

from comptroller.notify.base import Channel, ChannelConfig, register
from comptroller.notify.message import Notification
from comptroller.notify.webhook import post_json

HEADER_LIMIT = 150  # Slack's limit for a header block's text
SECTION_LIMIT = 3000  # and for a section block's text


class SlackConfig(ChannelConfig):
    url: AnyHttpUrl
    timeout_s: float = Field(default=10.0, gt=0, le=120)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_body(notification: Notification) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(notification.subject, HEADER_LIMIT)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(notification.summary, SECTION_LIMIT)}},
    ]
    for section in notification.sections:
        lines = "\n".join(f"• {line}" for line in section.lines) or "_none_"
        text = _clip(f"*{section.title}*\n{lines}", SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return {"text": f"{notification.subject}: {notification.summary}", "blocks": blocks}


@register("slack")
class SlackChannel(Channel[SlackConfig]):
    config_model = SlackConfig
    secret_fields = ("url",)

    async def send(self, notification: Notification) -> None:
        body = orjson.dumps(slack_body(notification))
        await post_json(str(self.config.url), body, {}, self.config.timeout_s)
