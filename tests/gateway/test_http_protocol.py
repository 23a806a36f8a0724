"""The head-coalescing transport: fewer writes, the same bytes in the same order."""

from __future__ import annotations

import asyncio

import httpx

from comptroller.gateway.http_protocol import HeadCoalescingTransport
from tests.gateway.harness import secret


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_head_and_body_leave_in_one_write():
    async def run() -> list[bytes]:
        inner = RecordingTransport()
        transport = HeadCoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        assert inner.writes == []
        transport.write(b"{}")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(run()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]


def test_a_head_without_a_body_yet_goes_out_on_the_next_loop_turn():
    async def run() -> tuple[list[bytes], list[bytes]]:
        inner = RecordingTransport()
        transport = HeadCoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        before = list(inner.writes)
        await asyncio.sleep(0)
        after = list(inner.writes)
        transport.write(b"5\r\nhello\r\n")
        return before, after + inner.writes[len(after) :]

    before, after = asyncio.run(run())
    assert before == []
    assert after == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", b"5\r\nhello\r\n"]


def test_close_sends_a_held_head_first_and_other_calls_pass_through():
    async def run() -> RecordingTransport:
        inner = RecordingTransport()
        transport = HeadCoalescingTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        assert transport.get_extra_info("socket") == "info:socket"
        transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        transport.close()
        await asyncio.sleep(0)
        return inner

    inner = asyncio.run(run())
    assert inner.writes == [b"HTTP/1.1 400 Bad Request\r\n\r\n"] and inner.closed


def test_whole_responses_carry_their_length(stack):
    response = httpx.post(
        f"{stack.url}/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {secret('main')}"},
    )
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(response.content))
    assert "transfer-encoding" not in response.headers
