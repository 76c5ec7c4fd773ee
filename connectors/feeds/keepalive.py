"""Tell whether a server sent more than a bodiless response, so its connection is not reused.

A 304 ends at its header, whatever the header says. A server that sends bytes after one anyway leaves
them on the connection, and the next fetch from that host would read them as its response: an error,
or a forged feed. Like curl ("excess found"), the fetcher drops such a connection instead of pooling
it. httpcore's parser keeps what it read ahead out of reach, so the stream below notes how many bytes
it read past the end of the first header after each request.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

HEADER_END = b"\r\n\r\n"


class HeadWatchingStream(httpcore.NetworkStream):
    """A network stream that counts the bytes read past the end of the first header after a request."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._head = bytearray()  # the response's bytes up to the end of its header
        self.past_head = 0

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._head.clear()
        self.past_head = 0
        self._stream.write(buffer, timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._stream.read(max_bytes, timeout)
        if self._head.endswith(HEADER_END):
            self.past_head += len(data)
        else:
            searched_from = max(0, len(self._head) - len(HEADER_END) + 1)
            self._head += data
            end = self._head.find(HEADER_END, searched_from)
            if end >= 0:
                self.past_head = len(self._head) - end - len(HEADER_END)
                del self._head[end + len(HEADER_END) :]
        return data

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> HeadWatchingStream:
        return HeadWatchingStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class HeadWatchingBackend(httpcore.NetworkBackend):
    """Opens connections with another backend and watches each with a :class:`HeadWatchingStream`."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> HeadWatchingStream:
        return HeadWatchingStream(
            self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def read_past_head(extensions: dict[str, Any]) -> bool:
    """Whether the connection of a response (its httpx ``extensions``) received bytes after its header."""
    stream = extensions.get("network_stream")
    return isinstance(stream, HeadWatchingStream) and stream.past_head > 0
