"""PII redaction: detectors on their own, and what actually reaches the provider."""

from __future__ import annotations

import pytest

from comptroller.gateway.config import PiiDetector
from comptroller.gateway.pii import Redactor, luhn_valid

ALL = list(PiiDetector)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe@example.co.uk now", "mail [REDACTED_EMAIL] now"),
        ("card 4111 1111 1111 1111 ok", "card [REDACTED_CARD] ok"),
        ("card 4111-1111-1111-1112 bad luhn", "card 4111-1111-1111-1112 bad luhn"),
        ("ssn 123-45-6789.", "ssn [REDACTED_US_SSN]."),
        ("ssn 000-45-6789 is not valid", "ssn 000-45-6789 is not valid"),
        ("NI AB 12 34 56 C here", "NI [REDACTED_UK_NINO] here"),
        ("call +44 20 7946 0958", "call [REDACTED_PHONE]"),
        ("call (415) 555-2671", "call [REDACTED_PHONE]"),
        ("nothing to see", "nothing to see"),
    ],
)
def test_detectors(text, expected):
    assert Redactor(ALL).redact_text(text)[0] == expected


def test_only_chosen_detectors_run():
    redactor = Redactor([PiiDetector.EMAIL])
    assert redactor.redact_text("a@b.io 123-45-6789")[0] == "[REDACTED_EMAIL] 123-45-6789"
    assert not Redactor([]).enabled


def test_luhn():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_request_shapes_are_walked():
    redactor = Redactor(ALL)
    chat = {"messages": [{"role": "user", "content": [{"type": "text", "text": "me@x.org"}]}]}
    assert redactor.redact_request("chat", chat) == 1
    assert chat["messages"][0]["content"][0]["text"] == "[REDACTED_EMAIL]"
    responses = {"instructions": "a@b.co", "input": [{"role": "user", "content": "4111111111111111"}]}
    assert redactor.redact_request("responses", responses) == 2
    messages = {"system": "ops@corp.com", "messages": [{"role": "user", "content": "hi"}]}
    assert redactor.redact_request("messages", messages) == 1
    assert messages["system"] == "[REDACTED_EMAIL]"


def test_redaction_is_seen_at_the_provider(stack, oai, claude):
    oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "I am jane@example.com, card 4111 1111 1111 1111"}],
    )
    body = stack.recorded()[-1]["body"]
    assert body["messages"][0]["content"] == "I am [REDACTED_EMAIL], card [REDACTED_CARD]"
    claude.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=5,
        system="ssn 123-45-6789",
        messages=[{"role": "user", "content": "hi"}],
    )
    assert stack.recorded()[-1]["body"]["system"] == "ssn [REDACTED_US_SSN]"


def test_clean_bodies_are_forwarded_byte_for_byte(stack):
    import httpx

    from tests.gateway.harness import secret

    raw = b'{"model":"gpt-4o-mini",   "messages":[{"role":"user","content":"plain"}]}'
    response = httpx.post(
        f"{stack.url}/v1/chat/completions",
        content=raw,
        headers={"authorization": f"Bearer {secret('main')}", "content-type": "application/json"},
    )
    assert response.status_code == 200
    assert stack.recorded()[-1]["body"] == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "plain"}],
    }


def test_prompts_are_stored_only_for_keys_that_opt_in(stack, oai, oai_for):
    raw = oai.chat.completions.with_raw_response.create(
        model="fast", messages=[{"role": "user", "content": "secret plan"}]
    )
    event = next(e for e in stack.events() if e["request_id"] == raw.headers["x-comptroller-request-id"])
    assert event["prompt"] is None
    raw = oai_for("prompts").chat.completions.with_raw_response.create(
        model="fast", messages=[{"role": "user", "content": "mail me: a@b.io"}]
    )
    event = next(e for e in stack.events() if e["request_id"] == raw.headers["x-comptroller-request-id"])
    assert event["prompt"]["messages"][0]["content"] == "mail me: [REDACTED_EMAIL]"
