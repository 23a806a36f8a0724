"""The official SDKs, unchanged but for base_url and api_key, through the gateway to the mock."""

from __future__ import annotations

from decimal import Decimal

from comptroller.mock_provider.usage import REPLY


def test_chat_completion_with_cached_and_reasoning_tokens(stack, oai):
    raw = oai.chat.completions.with_raw_response.create(
        model="o3-mini", messages=[{"role": "user", "content": "x" * 400}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == REPLY
    assert float(raw.headers["x-comptroller-overhead-ms"]) >= 0
    assert Decimal(raw.headers["x-comptroller-cost"]) > 0
    request_id = raw.headers["x-comptroller-request-id"]
    event = next(e for e in stack.events() if e["request_id"] == request_id)
    usage = completion.usage
    cached = usage.prompt_tokens_details.cached_tokens
    reasoning = usage.completion_tokens_details.reasoning_tokens
    assert cached > 0 and reasoning > 0
    assert event["status"] == "ok"
    assert event["operation"] == "chat"
    assert event["cache_read_tokens"] == cached
    assert event["uncached_input_tokens"] == usage.prompt_tokens - cached
    assert event["reasoning_tokens"] == reasoning
    assert event["output_tokens"] == usage.completion_tokens - reasoning
    assert (
        Decimal(event["contracted_cost"])
        == Decimal(raw.headers["x-comptroller-cost"]).quantize(Decimal(1).scaleb(-8))
        or Decimal(event["contracted_cost"]) > 0
    )
    assert event["attribution"]["key"] == "key_main"
    assert event["attribution"]["team"] == "platform"
    assert event["attribution"]["vendor"] == "openai"
    assert event["price_version"]


def _event(stack, request_id):
    return next(e for e in stack.events() if e["request_id"] == request_id)


def test_chat_stream_hides_the_usage_chunk_the_client_did_not_ask_for(stack, oai):
    with oai.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}], stream=True
    ) as response:
        request_id = response.headers["x-comptroller-request-id"]
        assert "x-comptroller-overhead-ms" in response.headers
        chunks = list(response.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert all(c.choices for c in chunks), "the injected usage-only chunk must not reach the client"
    event = _event(stack, request_id)
    assert event["stream"] is True
    assert event["status"] == "ok"
    assert event["uncached_input_tokens"] + event["cache_read_tokens"] > 0
    assert event["output_tokens"] > 0
    assert event["time_to_first_token_ms"] is not None
    recorded = stack.recorded()[-1]
    assert recorded["body"]["stream_options"] == {"include_usage": True}


def test_chat_stream_keeps_the_usage_chunk_when_asked(stack, oai):
    stream = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens > 0


def test_chat_tool_calls_are_counted(stack, oai):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "call it"}], tools=tools
    )
    assert raw.parse().choices[0].message.tool_calls[0].function.name == "lookup"
    assert _event(stack, raw.headers["x-comptroller-request-id"])["tool_calls"] == 1
    with oai.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "call it"}], tools=tools, stream=True
    ) as response:
        list(response.parse())
        request_id = response.headers["x-comptroller-request-id"]
    assert _event(stack, request_id)["tool_calls"] == 1


def test_responses_api_plain_and_streamed(stack, oai):
    raw = oai.responses.with_raw_response.create(model="gpt-4o", input="tell me something")
    result = raw.parse()
    assert result.output_text == REPLY
    event = _event(stack, raw.headers["x-comptroller-request-id"])
    assert event["operation"] == "responses"
    assert event["cache_read_tokens"] == result.usage.input_tokens_details.cached_tokens > 0
    with oai.responses.with_streaming_response.create(
        model="gpt-4o", input="stream it", stream=True
    ) as response:
        events = list(response.parse())
        request_id = response.headers["x-comptroller-request-id"]
    assert events[-1].type == "response.completed"
    streamed = _event(stack, request_id)
    assert streamed["stream"] is True
    assert streamed["output_tokens"] == events[-1].response.usage.output_tokens


def test_embeddings(stack, oai):
    raw = oai.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["a", "b"])
    result = raw.parse()
    assert len(result.data) == 2 and len(result.data[0].embedding) == 8
    event = _event(stack, raw.headers["x-comptroller-request-id"])
    assert event["operation"] == "embeddings"
    assert event["output_tokens"] == 0
    assert event["uncached_input_tokens"] + event["cache_read_tokens"] == result.usage.prompt_tokens


def test_models_lists_what_the_key_may_use(stack, oai, oai_for):
    names = {m.id for m in oai.models.list()}
    assert {"gpt-4o", "fast", "claude-sonnet-4-5"} <= names
    assert {m.id for m in oai_for("scoped").models.list()} == {"gpt-4o-mini"}


def test_anthropic_messages_plain_and_streamed(stack, claude):
    raw = claude.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "y" * 200}]
    )
    message = raw.parse()
    assert message.content[0].text == REPLY
    event = _event(stack, raw.headers["x-comptroller-request-id"])
    assert event["provider"] == "anthropic"
    assert event["operation"] == "messages"
    assert event["uncached_input_tokens"] == message.usage.input_tokens
    assert event["cache_read_tokens"] == message.usage.cache_read_input_tokens > 0
    assert event["cache_write_tokens"] == message.usage.cache_creation_input_tokens > 0
    assert event["output_tokens"] == message.usage.output_tokens
    with claude.messages.stream(
        model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "y" * 200}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
        request_id = stream.response.headers["x-comptroller-request-id"]
    assert text == REPLY
    streamed = _event(stack, request_id)
    assert streamed["stream"] is True
    assert streamed["output_tokens"] == final.usage.output_tokens
    assert streamed["cache_read_tokens"] == final.usage.cache_read_input_tokens
    assert streamed["uncached_input_tokens"] == final.usage.input_tokens


def test_anthropic_tool_use_counted(stack, claude):
    tools = [{"name": "search", "description": "search", "input_schema": {"type": "object"}}]
    raw = claude.messages.with_raw_response.create(
        model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "go"}], tools=tools
    )
    assert raw.parse().content[0].type == "tool_use"
    assert _event(stack, raw.headers["x-comptroller-request-id"])["tool_calls"] == 1


def test_upstream_error_passes_through_in_the_providers_shape(stack, claude):
    import anthropic
    import pytest

    with pytest.raises(anthropic.InternalServerError) as caught:
        claude.messages.create(
            model="claude-broken", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.body["error"]["type"] == "api_error"
    request_id = caught.value.response.headers["x-comptroller-request-id"]
    event = _event(stack, request_id)
    assert event["status"] == "upstream_error"
    assert event["error_type"] == "http_500"
    assert event["retries"] == 2


def test_azure_deployment_is_called_by_its_deployment_name(stack, oai):
    raw = oai.chat.completions.with_raw_response.create(
        model="azure-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().choices[0].message.content == REPLY
    recorded = stack.recorded()[-1]
    assert recorded["url"] == "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21"
    event = _event(stack, raw.headers["x-comptroller-request-id"])
    assert (event["provider"], event["model"], event["status"]) == ("azure", "gpt-4o", "ok")


def test_unknown_model_is_flagged_never_free(stack, oai):
    raw = oai.chat.completions.with_raw_response.create(
        model="mystery", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-comptroller-cost"] == "unknown"
    event = _event(stack, raw.headers["x-comptroller-request-id"])
    assert event["status"] == "ok"
    assert event["pricing_flag"] == "unknown_model"
    assert event["list_cost"] is None and event["contracted_cost"] is None


def test_anthropic_models_list(stack, claude):
    names = [m.id for m in claude.models.list()]
    assert "claude-sonnet-4-5" in names and "fast" in names
