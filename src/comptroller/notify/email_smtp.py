"""Email over SMTP, with optional STARTTLS and login; the standard library does the protocol.

``smtplib`` blocks, so the send runs in a worker thread and does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from pydantic import Field

from comptroller.notify.base import Channel, ChannelConfig, DeliveryFailed, register
from comptroller.notify.message import Notification


class EmailConfig(ChannelConfig):
    host: str = Field(min_length=1)
    port: int = Field(default=587, gt=0, lt=65536)
    starttls: bool = True
    ca_file: str | None = Field(
        default=None, description="PEM certificates to trust, e.g. a private relay's CA."
    )
    username: str | None = None
    password: str | None = None
    sender: str = Field(min_length=3, pattern=r".+@.+")
    recipients: list[str] = Field(min_length=1)
    subject_prefix: str = "[Comptroller] "
    timeout_s: float = Field(default=20.0, gt=0, le=300)


def email_message(config: EmailConfig, notification: Notification) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = config.subject_prefix + notification.subject
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message.set_content(notification.as_text())
    return message


def _send_blocking(config: EmailConfig, message: EmailMessage) -> None:
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=config.ca_file))
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"recipients refused: {sorted(exc.recipients)}", retryable=False) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(f"SMTP login refused ({exc.smtp_code})", retryable=False) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryFailed(f"the SMTP server does not offer {exc}", retryable=False) from exc
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryFailed(
            f"the SMTP server's certificate is not trusted: {exc.verify_message}", retryable=False
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


@register("email")
class EmailChannel(Channel[EmailConfig]):
    config_model = EmailConfig
    secret_fields = ("password",)

    async def send(self, notification: Notification) -> None:
        await asyncio.to_thread(_send_blocking, self.config, email_message(self.config, notification))
