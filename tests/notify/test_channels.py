"""Each channel type against a real receiver on loopback: body, signature, retries, failures."""

from __future__ import annotations

import hashlib
import hmac
from collections import deque

import pytest

from comptroller.errors import ConfigError
from comptroller.notify.base import CHANNEL_TYPES
from comptroller.notify.delivery import RetryPolicy, run_sync, send_with_retries
from comptroller.notify.message import Notification, NotificationKind, Section
from comptroller.notify.registry import build_channel, mask_value, masked_config, merge_secrets
from comptroller.notify.webhook import SIGNATURE_HEADER
from tests.notify.receivers import SMTPReceiver, TLSSMTPReceiver, WebhookReceiver, free_port, self_signed_cert

FAST = RetryPolicy(attempts=3, first_delay_s=0.01, factor=2)
MESSAGE = Notification(
    kind=NotificationKind.ALERT,
    subject="Budget 'search' reached 80%",
    summary="team=search, monthly: USD 80.00 of 100.00 spent",
    sections=(Section("Alerts", ("search: 80% reached",)),),
    payload={"budget_id": "search"},
)


def send(channel, message=MESSAGE, policy=FAST):
    return run_sync(send_with_retries(channel, message, policy))


def test_builtin_types_are_registered_like_plugins():
    assert {"webhook", "slack", "email"} <= set(CHANNEL_TYPES)


def test_webhook_posts_the_notification_signed_with_hmac():
    with WebhookReceiver() as hook:
        channel = build_channel(
            "webhook", {"url": hook.url + "/hooks/a", "secret": "s3cret-key", "headers": {"X-Team": "finops"}}
        )
        assert send(channel) == (1, None)
    [got] = hook.received
    assert got.path == "/hooks/a"
    assert got.json()["subject"] == MESSAGE.subject
    assert got.json()["payload"] == {"budget_id": "search"}
    assert got.headers["X-Team"] == "finops"
    expected = "sha256=" + hmac.new(b"s3cret-key", got.body, hashlib.sha256).hexdigest()
    assert got.headers[SIGNATURE_HEADER] == expected


def test_webhook_without_secret_sends_no_signature():
    with WebhookReceiver() as hook:
        send(build_channel("webhook", {"url": hook.url}))
    assert SIGNATURE_HEADER not in hook.received[0].headers


def test_server_errors_are_retried_until_delivered():
    with WebhookReceiver(script=deque([503, 500])) as hook:
        attempts, error = send(build_channel("webhook", {"url": hook.url}))
    assert (attempts, error) == (3, None)
    assert len(hook.received) == 3


def test_client_errors_are_not_retried():
    with WebhookReceiver(script=deque([404])) as hook:
        attempts, error = send(build_channel("webhook", {"url": hook.url}))
    assert attempts == 1
    assert error is not None and error.startswith("HTTP 404")


def test_gives_up_after_the_last_attempt_with_the_last_error():
    with WebhookReceiver(script=deque([500, 500, 500, 500])) as hook:
        attempts, error = send(build_channel("webhook", {"url": hook.url}))
    assert attempts == 3 and "HTTP 500" in error
    assert len(hook.received) == 3


def test_unreachable_receiver_is_a_retried_failure():
    attempts, error = send(build_channel("webhook", {"url": f"http://127.0.0.1:{free_port()}/x"}))
    assert attempts == 3 and "Connect" in error


def test_slack_body_has_text_and_blocks():
    with WebhookReceiver() as hook:
        send(build_channel("slack", {"url": hook.url + "/services/T0/B0/xyz"}))
    body = hook.received[0].json()
    assert body["text"].startswith(MESSAGE.subject)
    header, summary, section = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": MESSAGE.subject}}
    assert summary["text"]["text"] == MESSAGE.summary
    assert section["text"] == {"type": "mrkdwn", "text": "*Alerts*\n• search: 80% reached"}


def test_email_reaches_a_real_smtp_server():
    with SMTPReceiver() as smtp:
        channel = build_channel(
            "email",
            {
                "host": "127.0.0.1",
                "port": smtp.port,
                "starttls": False,
                "sender": "comptroller@example.com",
                "recipients": ["finops@example.com", "cfo@example.com"],
            },
        )
        assert send(channel) == (1, None)
    [(sender, recipients, message)] = smtp.messages
    assert sender == "comptroller@example.com"
    assert recipients == ["finops@example.com", "cfo@example.com"]
    assert message["Subject"] == "[Comptroller] " + MESSAGE.subject
    body = message.get_payload()
    assert "USD 80.00 of 100.00" in body and "search: 80% reached" in body


def test_email_starttls_refused_by_a_plain_server_is_not_retried():
    with SMTPReceiver() as smtp:
        channel = build_channel(
            "email",
            {
                "host": "127.0.0.1",
                "port": smtp.port,
                "sender": "a@example.com",
                "recipients": ["b@example.com"],
            },
        )
        attempts, error = send(channel)
    assert attempts == 1 and "STARTTLS" in error.upper()
    assert smtp.messages == []


def test_unknown_type_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown channel type 'pager'.*email, slack, webhook"):
        build_channel("pager", {})


def test_bad_config_names_the_field():
    with pytest.raises(ConfigError, match=r"config\.url"):
        build_channel("webhook", {"url": "not a url"})
    with pytest.raises(ConfigError, match=r"config\.recipients"):
        build_channel("email", {"host": "h", "sender": "a@b.c", "recipients": []})
    with pytest.raises(ConfigError, match=r"config\.colour"):
        build_channel("slack", {"url": "https://hooks.slack.com/x", "colour": "red"})


def test_secrets_are_masked_and_kept_when_sent_back_masked():
    config = {"url": "https://hooks.slack.com/services/T0/B0/abcdEFGH", "timeout_s": 5}
    shown = masked_config("slack", config)
    assert shown == {"url": "https://hooks.slack.com/****EFGH", "timeout_s": 5}
    assert mask_value("hunter2") == "****"
    assert merge_secrets("slack", config, {**shown, "timeout_s": 9}) == {**config, "timeout_s": 9}
    changed = merge_secrets("slack", config, {"url": "https://hooks.slack.com/services/new"})
    assert changed["url"] == "https://hooks.slack.com/services/new"


def test_email_over_starttls_with_login(tmp_path):
    cert, key = self_signed_cert(tmp_path)
    config = {
        "host": "127.0.0.1",
        "starttls": True,
        "ca_file": str(cert),
        "username": "alerts",
        "password": "s3cret",
        "sender": "comptroller@example.com",
        "recipients": ["finops@example.com"],
        "timeout_s": 5,
    }
    with TLSSMTPReceiver(cert, key, "alerts", "s3cret") as smtp:
        assert send(build_channel("email", {**config, "port": smtp.port})) == (1, None)
        refused = send(build_channel("email", {**config, "port": smtp.port, "password": "wrong"}))
        untrusted = send(build_channel("email", {**config, "port": smtp.port, "ca_file": None}))
    assert len(smtp.messages) == 1 and smtp.messages[0][2]["Subject"].endswith(MESSAGE.subject)
    assert refused[0] == 1 and "login refused" in refused[1]
    assert untrusted[0] == 1 and "not trusted" in untrusted[1]
