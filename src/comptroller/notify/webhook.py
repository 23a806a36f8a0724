"""Generic webhook: the notification as JSON, optionally signed with HMAC-SHA256.

The signature header (``X-Comptroller-Signature: sha256=<hex>``) covers the exact body bytes,
like GitHub's webhooks, so a receiver verifies it before parsing.
"""

from __future__ import annotations

import hashlib
import hmac

import aiohttp
import orjson
from pydantic import AnyHttpUrl, Field

from comptroller.notify.base import Channel, ChannelConfig, DeliveryFailed, register
from comptroller.notify.message import Notification

SIGNATURE_HEADER = "X-Comptroller-Signature"


class WebhookConfig(ChannelConfig):
    url: AnyHttpUrl
    secret: str | None = Field(default=None, min_length=8)
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=10.0, gt=0, le=120)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_json(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> None:
    """POST once; a 5xx, 429 or network error may pass on retry, any other non-2xx will not."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, data=body, headers={"Content-Type": "application/json", **headers}) as reply,
        ):
            if reply.status < 300:
                return
            text = (await reply.text())[:200]
            retryable = reply.status >= 500 or reply.status == 429
            raise DeliveryFailed(f"HTTP {reply.status}: {text}", retryable=retryable)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


@register("webhook")
class WebhookChannel(Channel[WebhookConfig]):
    config_model = WebhookConfig
    secret_fields = ("url", "secret")

    async def send(self, notification: Notification) -> None:
        body = orjson.dumps(notification.as_json())
        headers = dict(self.config.headers)
        if self.config.secret:
            headers[SIGNATURE_HEADER] = sign(self.config.secret, body)
        await post_json(str(self.config.url), body, headers, self.config.timeout_s)
