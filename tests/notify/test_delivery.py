"""Channels in state (SQLite and PostgreSQL), routing by kind, dedupe and the delivery log."""

from __future__ import annotations

from collections import deque

import pytest

from comptroller.errors import ConfigError
from comptroller.governance.audit import list_entries
from comptroller.notify.delivery import RetryPolicy, list_deliveries, notify
from comptroller.notify.message import Notification, NotificationKind
from comptroller.notify.store import (
    ChannelSpec,
    channel_view,
    create_channel,
    delete_channel,
    get_channel,
    update_channel,
)
from tests.notify.receivers import WebhookReceiver

FAST = RetryPolicy(attempts=2, first_delay_s=0.01)
ALERT = Notification(kind=NotificationKind.ALERT, subject="alert!", summary="spend is up")
DIGEST = Notification(kind=NotificationKind.DIGEST, subject="digest", summary="the day")


def add(state, name, type_, config, kinds=(), enabled=True):
    spec = ChannelSpec(name=name, type=type_, config=config, kinds=list(kinds), enabled=enabled)
    with state.session() as session, session.begin():
        return create_channel(session, spec, actor="user:ann")


def test_channels_receive_the_kinds_they_subscribe_to(state):
    with WebhookReceiver() as alerts, WebhookReceiver() as digests, WebhookReceiver() as off:
        add(state, "alerts", "webhook", {"url": alerts.url}, ["alert"])
        add(state, "digests", "slack", {"url": digests.url}, ["digest"])
        add(state, "off", "webhook", {"url": off.url}, enabled=False)
        results = notify(state, ALERT, policy=FAST)
        notify(state, DIGEST, policy=FAST)
    assert [(r.channel_name, r.delivered, r.attempts) for r in results] == [("alerts", True, 1)]
    assert len(alerts.received) == 1 and len(digests.received) == 1 and off.received == []
    log = list_deliveries(state)
    assert sorted((d.kind, d.status) for d in log) == [("alert", "delivered"), ("digest", "delivered")]


def test_a_dedupe_key_sends_once_per_channel(state):
    with WebhookReceiver() as hook:
        add(state, "hook", "webhook", {"url": hook.url})
        first = notify(state, DIGEST, dedupe_key="digest:2026-11-24", policy=FAST)
        second = notify(state, DIGEST, dedupe_key="digest:2026-11-24", policy=FAST)
        notify(state, DIGEST, dedupe_key="digest:2026-11-25", policy=FAST)
    assert [r.skipped for r in first] == [False] and [r.skipped for r in second] == [True]
    assert len(hook.received) == 2


def test_failures_are_logged_with_attempts_and_error_and_retried_by_a_later_dedupe_run(state):
    with WebhookReceiver(script=deque([500, 500])) as hook:
        add(state, "flaky", "webhook", {"url": hook.url})
        [failed] = notify(state, DIGEST, dedupe_key="d1", policy=FAST)
        [retried] = notify(state, DIGEST, dedupe_key="d1", policy=FAST)
    assert (failed.delivered, failed.attempts) == (False, 2) and "HTTP 500" in failed.error
    assert retried.delivered and not retried.skipped
    statuses = [(d.status, d.attempts) for d in reversed(list_deliveries(state))]
    assert statuses == [("failed", 2), ("delivered", 1)]


def test_view_masks_secrets_and_update_keeps_them(state):
    row = add(
        state,
        "team-hook",
        "webhook",
        {"url": "https://hooks.example.com/t/abcdef1234", "secret": "0123456789"},
    )
    view = channel_view(row)
    assert view["config"]["url"] == "https://hooks.example.com/****1234"
    assert view["config"]["secret"] == "****"
    spec = ChannelSpec(name="team-hook", type="webhook", config=view["config"], kinds=["alert"])
    with state.session() as session, session.begin():
        updated = update_channel(session, row.id, spec, actor="user:ann")
    assert updated.config["url"] == "https://hooks.example.com/t/abcdef1234"
    assert updated.config["secret"] == "0123456789"
    assert updated.kinds == ["alert"]


def test_changes_are_validated_and_audited(state):
    row = add(state, "one", "slack", {"url": "https://hooks.slack.com/a"})
    with pytest.raises(ConfigError, match="exists already"), state.session() as session, session.begin():
        create_channel(
            session, ChannelSpec(name="one", type="slack", config={"url": "https://x.io/b"}), actor="a"
        )
    with pytest.raises(ConfigError, match="is a slack channel"), state.session() as session, session.begin():
        update_channel(
            session, "one", ChannelSpec(name="one", type="webhook", config={"url": "https://x.io"}), actor="a"
        )
    with state.session() as session, session.begin():
        assert get_channel(session, "one").id == row.id  # by name as well as by id
        delete_channel(session, row.id, actor="user:ann")
    with state.session() as session:
        actions = [e.action for e in list_entries(session, action="notification_channel.")]
    assert actions == ["notification_channel.delete", "notification_channel.create"]
