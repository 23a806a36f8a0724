"""Control-plane changes reach a running gateway through its snapshot, within a second."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import openai
import pytest

from comptroller.gateway.snapshot import KillSwitch
from tests.gateway.harness import default_snapshot

MESSAGES = [{"role": "user", "content": "hi"}]


def test_kill_switch_and_revocation_take_effect_within_a_second(stack, oai_for):
    client = oai_for("flip")
    assert client.chat.completions.create(model="fast", messages=MESSAGES).choices
    base = default_snapshot()
    switch = KillSwitch(id="ks_flip", scope="key", scope_value="key_flip", engaged_at=datetime.now(UTC))
    published = time.monotonic()
    stack.publish(base.model_copy(update={"version": 2, "kill_switches": [*base.kill_switches, switch]}))
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model="fast", messages=MESSAGES)
    assert caught.value.code == "kill_switch_engaged"
    assert time.monotonic() - published < 1.0
    keys = [k.model_copy(update={"revoked": True}) if k.name == "flip" else k for k in base.keys]
    stack.publish(base.model_copy(update={"version": 3, "keys": keys}))
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="fast", messages=MESSAGES)
    assert caught.value.code == "key_revoked"
    stack.publish(base.model_copy(update={"version": 4}))
    assert client.chat.completions.create(model="fast", messages=MESSAGES).choices
