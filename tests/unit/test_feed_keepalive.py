"""The stream that tells whether a server sent bytes past a response's header."""

from __future__ import annotations

import httpcore
import pytest

from connectors.feeds.keepalive import HeadWatchingStream


class ScriptedStream(httpcore.NetworkStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.chunks.pop(0)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        pass


@pytest.mark.parametrize(
    ("chunks", "past"),
    [
        ([b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"], 0),
        ([b"HTTP/1.1 304 Not Modified\r\n", b"ETag: x\r\n\r", b"\n"], 0),  # the end split over reads
        ([b"HTTP/1.1 304 Not Modified\r\n\r\n<rss/>"], 6),
        ([b"HTTP/1.1 304 Not Modified\r\n\r", b"\n<rss", b"/>"], 6),
    ],
)
def test_bytes_past_the_header_are_counted(chunks: list[bytes], past: int) -> None:
    server = ScriptedStream(chunks)
    stream = HeadWatchingStream(server)
    stream.write(b"GET / HTTP/1.1\r\n\r\n")
    while server.chunks:
        stream.read(65536)
    assert stream.past_head == past


def test_each_request_starts_a_new_count() -> None:
    stream = HeadWatchingStream(
        ScriptedStream([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"HTTP/1.1 304 x\r\n\r\n"])
    )
    stream.write(b"GET /a HTTP/1.1\r\n\r\n")
    stream.read(65536)
    assert stream.past_head == 2
    stream.write(b"GET /b HTTP/1.1\r\n\r\n")
    stream.read(65536)
    assert stream.past_head == 0
