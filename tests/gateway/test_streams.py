"""Streams: event splitting, cut-off upstreams and callers that hang up mid-stream."""

from __future__ import annotations

import time

import httpx

from comptroller.gateway.streams import (
    AnthropicStream,
    OpenAIChatStream,
    ResponsesStream,
    SseSplitter,
    has_value,
)
from tests.gateway.harness import secret


def test_splitter_joins_events_split_across_chunks():
    splitter = SseSplitter()
    assert splitter.feed(b'data: {"a"') == []
    assert splitter.feed(b": 1}\n\ndata: [DO") == [b'data: {"a": 1}\n\n']
    assert splitter.feed(b"NE]\r\n\r\n") == [b"data: [DONE]\n\n"]
    assert splitter.rest() == b""


def test_openai_tracker_drops_only_the_injected_usage_chunk():
    tracker = OpenAIChatStream(strip_usage_chunk=True)
    assert tracker.feed(b'data: {"choices":[{"index":0,"delta":{"content":"hey"}}],"usage":null}\n\n')
    assert not tracker.feed(b'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}\n\n')
    assert tracker.feed(b"data: [DONE]\n\n")
    assert tracker.usage.uncached_input == 5 and tracker.usage.output == 2


def test_has_value_ignores_null_and_absent_keys():
    assert not has_value(b'{"choices":[],"usage":null}', b'"usage"')
    assert not has_value(b'{"choices":[], "usage" : null}', b'"usage"')
    assert not has_value(b'{"content":"the \\"usage\\" word"}', b'"usage"')
    assert has_value(b'{"usage":null,"x":{"usage":{"prompt_tokens":1}}}', b'"usage"')
    assert has_value(b'{"usage": {"prompt_tokens":1}}', b'"usage"')


def test_unparsed_deltas_still_count_towards_the_cut_off_estimate():
    tracker = OpenAIChatStream(strip_usage_chunk=False)
    for _ in range(300):  # past the deferral limit, so some are counted early
        assert tracker.feed(b'data: {"choices":[{"index":0,"delta":{"content":"abcd"}}],"usage":null}\n\n')
    tracker.feed(b'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1"}]}}]}\n\n')
    assert tracker.usage is None and tracker.tool_calls == 1
    assert tracker.output_chars == 1200
    assert tracker.billed_usage(7).output == 300 and tracker.billed_usage(7).uncached_input == 7
    assert not tracker.finished
    tracker.feed(b"data: [DONE]\n\n")
    assert tracker.finished


def test_responses_and_anthropic_trackers_know_their_closing_event():
    responses = ResponsesStream()
    responses.feed(b'data: {"type":"response.output_text.delta","delta":"hello"}\n\n')
    assert not responses.finished
    responses.feed(
        b'data: {"type":"response.completed","response":{"usage":{"input_tokens":3,"output_tokens":2},'
        b'"output":[{"type":"function_call"}]}}\n\n'
    )
    assert responses.finished and responses.tool_calls == 1 and responses.usage.output == 2
    anthropic = AnthropicStream()
    anthropic.feed(
        b'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"hey"}}\n\n'
    )
    assert anthropic.output_chars == 3 and not anthropic.finished
    anthropic.feed(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
    assert anthropic.finished


def test_anthropic_tracker_merges_start_and_delta_usage():
    tracker = AnthropicStream()
    tracker.feed(
        b'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,'
        b'"cache_read_input_tokens":4,"output_tokens":1}}}\n\n'
    )
    tracker.feed(b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":30}}\n\n')
    assert (tracker.usage.uncached_input, tracker.usage.cache_read, tracker.usage.output) == (10, 4, 30)


def test_cut_off_stream_is_billed_for_what_was_generated(stack):
    with httpx.stream(
        "POST",
        f"{stack.url}/v1/chat/completions",
        json={"model": "cut-model", "messages": [{"role": "user", "content": "x" * 100}], "stream": True},
        headers={"authorization": f"Bearer {secret('main')}"},
    ) as response:
        request_id = response.headers["x-comptroller-request-id"]
        body = b"".join(response.iter_bytes())
    assert b"data: [DONE]" not in body
    event = next(e for e in stack.events() if e["request_id"] == request_id)
    assert event["status"] == "upstream_error"
    assert event["error_type"] == "stream_interrupted"
    assert event["output_tokens"] > 0
    assert event["uncached_input_tokens"] > 0


def test_client_disconnect_mid_stream(stack):
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST",
            f"{stack.url}/v1/chat/completions",
            json={"model": "slow-model", "messages": [{"role": "user", "content": "hello"}], "stream": True},
            headers={"authorization": f"Bearer {secret('main')}"},
        ) as response,
    ):
        request_id = response.headers["x-comptroller-request-id"]
        next(response.iter_raw())
    # Leaving the block closes the connection while the slow upstream is still streaming.
    deadline = time.monotonic() + 5
    event = None
    while time.monotonic() < deadline and event is None:
        event = next((e for e in stack.events() if e["request_id"] == request_id), None)
        time.sleep(0.05)
    assert event is not None
    assert event["status"] == "client_disconnect"
    assert event["output_tokens"] > 0
    assert event["contracted_cost"] is not None


def test_stream_ends_with_a_cost_comment(stack):
    with httpx.stream(
        "POST",
        f"{stack.url}/v1/messages",
        json={
            "model": "claude-sonnet-4-5",
            "max_tokens": 20,
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
        },
        headers={"x-api-key": secret("main"), "anthropic-version": "2023-06-01"},
    ) as response:
        body = b"".join(response.iter_bytes())
    assert body.rstrip().splitlines()[-1].startswith(b": x-comptroller-cost=0.")
