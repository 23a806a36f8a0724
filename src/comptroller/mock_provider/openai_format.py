"""OpenAI response bodies and SSE chunks: chat completions, Responses API, embeddings, models."""

from __future__ import annotations

import base64
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson

from comptroller.mock_provider.usage import REPLY, REPLY_WORDS, MockUsage


def _id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def chat_usage(u: MockUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": u.prompt,
        "completion_tokens": u.completion,
        "total_tokens": u.prompt + u.completion,
        "prompt_tokens_details": {"cached_tokens": u.cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
    tools = body.get("tools") or []
    if not tools:
        return None
    first = tools[0]
    name = (first.get("function") or {}).get("name") or first.get("name") or "tool"
    return {"id": _id("call_"), "type": "function", "function": {"name": name, "arguments": "{}"}}


def chat_completion(body: dict[str, Any], u: MockUsage) -> bytes:
    call = _tool_call(body)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if call else REPLY,
        "refusal": None,
        "annotations": [],
    }
    if call:
        message["tool_calls"] = [call]
    return orjson.dumps(
        {
            "id": _id("chatcmpl-"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if call else "stop",
                }
            ],
            "usage": chat_usage(u),
            "service_tier": "default",
            "system_fingerprint": "fp_mock",
        }
    )


def chat_chunks(body: dict[str, Any], u: MockUsage) -> Iterator[bytes]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {
        "id": _id("chatcmpl-"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model"),
        "service_tier": "default",
        "system_fingerprint": "fp_mock",
    }
    extra = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + orjson.dumps({**base, "choices": [choice], **extra}) + b"\n\n"

    call = _tool_call(body)
    yield chunk({"role": "assistant", "content": "", "refusal": None})
    if call:
        yield chunk(
            {
                "tool_calls": [
                    {"index": 0, **call, "function": {"name": call["function"]["name"], "arguments": ""}}
                ]
            }
        )
        yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]})
        yield chunk({}, "tool_calls")
    else:
        for i, word in enumerate(REPLY_WORDS):
            yield chunk({"content": word if i == 0 else " " + word})
        yield chunk({}, "stop")
    if include_usage:
        yield b"data: " + orjson.dumps({**base, "choices": [], "usage": chat_usage(u)}) + b"\n\n"
    yield b"data: [DONE]\n\n"


def responses_usage(u: MockUsage) -> dict[str, Any]:
    return {
        "input_tokens": u.prompt,
        "input_tokens_details": {"cached_tokens": u.cached},
        "output_tokens": u.completion,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.prompt + u.completion,
    }


def _response(body: dict[str, Any], rid: str, status: str, output: list[Any], usage: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body.get("model"),
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def _responses_output(body: dict[str, Any], msg_id: str) -> list[dict[str, Any]]:
    call = _tool_call(body)
    if call:
        name = call["function"]["name"]
        return [
            {
                "type": "function_call",
                "id": _id("fc_"),
                "call_id": call["id"],
                "name": name,
                "arguments": "{}",
                "status": "completed",
            }
        ]
    text = {"type": "output_text", "text": REPLY, "annotations": []}
    return [{"type": "message", "id": msg_id, "status": "completed", "role": "assistant", "content": [text]}]


def response(body: dict[str, Any], u: MockUsage) -> bytes:
    output = _responses_output(body, _id("msg_"))
    return orjson.dumps(_response(body, _id("resp_"), "completed", output, responses_usage(u)))


def response_events(body: dict[str, Any], u: MockUsage) -> Iterator[bytes]:
    rid, msg_id = _id("resp_"), _id("msg_")
    seq = 0

    def event(kind: str, payload: dict[str, Any]) -> bytes:
        nonlocal seq
        data = orjson.dumps({"type": kind, "sequence_number": seq, **payload})
        seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"

    yield event("response.created", {"response": _response(body, rid, "in_progress", [], None)})
    output = _responses_output(body, msg_id)
    if output[0]["type"] == "message":
        item = {"type": "message", "id": msg_id, "status": "in_progress", "role": "assistant", "content": []}
        yield event("response.output_item.added", {"output_index": 0, "item": item})
        part = {"type": "output_text", "text": "", "annotations": []}
        yield event(
            "response.content_part.added",
            {"item_id": msg_id, "output_index": 0, "content_index": 0, "part": part},
        )
        for i, word in enumerate(REPLY_WORDS):
            delta = word if i == 0 else " " + word
            yield event(
                "response.output_text.delta",
                {"item_id": msg_id, "output_index": 0, "content_index": 0, "delta": delta, "logprobs": []},
            )
        yield event(
            "response.output_text.done",
            {"item_id": msg_id, "output_index": 0, "content_index": 0, "text": REPLY, "logprobs": []},
        )
        done_part = {"type": "output_text", "text": REPLY, "annotations": []}
        yield event(
            "response.content_part.done",
            {"item_id": msg_id, "output_index": 0, "content_index": 0, "part": done_part},
        )
    yield event("response.output_item.done", {"output_index": 0, "item": output[0]})
    yield event(
        "response.completed", {"response": _response(body, rid, "completed", output, responses_usage(u))}
    )


def embeddings(body: dict[str, Any], u: MockUsage) -> bytes:
    inputs = body.get("input")
    items = inputs if isinstance(inputs, list) and inputs and not isinstance(inputs[0], int) else [inputs]
    dims = int(body.get("dimensions") or 8)
    data = []
    for i, _ in enumerate(items):
        vector = [((i + 1) * (j + 1) % 7) / 7.0 for j in range(dims)]
        if body.get("encoding_format") == "base64":
            encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        else:
            encoded = vector
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    usage = {"prompt_tokens": u.prompt, "total_tokens": u.prompt}
    return orjson.dumps({"object": "list", "data": data, "model": body.get("model"), "usage": usage})


def models(names: list[str]) -> bytes:
    data = [{"id": n, "object": "model", "created": 1_700_000_000, "owned_by": "mock"} for n in names]
    return orjson.dumps({"object": "list", "data": data})


def error(status: int, message: str) -> bytes:
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
    etype = "requests" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
    return orjson.dumps({"error": {"message": message, "type": etype, "param": None, "code": kind}})
