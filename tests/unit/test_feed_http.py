"""The feed fetcher against a real HTTP server on loopback: politeness, redirects, caps and failures."""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from email.utils import formatdate
from ipaddress import ip_address, ip_network

import pytest

from connectors.feeds.egress import IPAddress, Resolver
from connectors.feeds.http import Fetcher, FetchError, FetchPolicy, FetchResult, Validators
from tests.support.feedserver import LOOPBACK, FeedServer, Route

MiB = 1024 * 1024
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>' * 50
ETAG = '"v1"'
MODIFIED = "Wed, 21 Oct 2025 07:28:00 GMT"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(LOOPBACK) as default_fetcher:
        yield default_fetcher


def fetch_error(fetcher: Fetcher, url: str, validators: Validators = Validators()) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url, validators)
    return caught.value


def gzip_bomb(total: int) -> Iterator[bytes]:
    """``total`` zero bytes, gzip-compressed lazily: the server only compresses what the client reads."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MiB)
    for _ in range(total // MiB):
        if out := compressor.compress(zeros):
            yield out
    yield compressor.flush()


# -- success and conditional GET ------------------------------------------------------------------------


def test_200_returns_body_headers_and_validators(server: FeedServer, fetcher: Fetcher) -> None:
    headers = {"Content-Type": "application/rss+xml"}
    server.route("/feed", Route(body=FEED, headers=headers, etag=ETAG, last_modified=MODIFIED))
    result = fetcher.fetch(server.url("/feed"))
    assert (result.status, result.body, result.not_modified) == (200, FEED, False)
    assert result.validators == Validators(ETAG, MODIFIED)
    assert result.headers["content-type"] == "application/rss+xml"
    assert result.url == result.final_url == server.url("/feed")
    assert result.permanent_url is None
    assert result.elapsed_s >= 0


def test_polite_request_headers(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=FEED))
    fetcher.fetch(server.url("/feed"))
    sent = server.requests[0].headers
    assert sent["user-agent"] == FetchPolicy().user_agent
    assert sent["accept-encoding"] == "gzip, deflate"
    assert sent["accept"].startswith("application/rss+xml, application/atom+xml")
    assert "if-none-match" not in sent
    assert "if-modified-since" not in sent


def test_conditional_get_sends_validators_and_handles_304(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=FEED, etag=ETAG, last_modified=MODIFIED))
    first = fetcher.fetch(server.url("/feed"))
    again = fetcher.fetch(server.url("/feed"), first.validators)
    assert server.requests[1].headers["if-none-match"] == ETAG
    assert server.requests[1].headers["if-modified-since"] == MODIFIED
    assert (again.status, again.body, again.not_modified) == (304, b"", True)
    assert again.validators == Validators(ETAG, MODIFIED)


def test_304s_keep_the_connection_alive(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=b"<rss/>", etag='"v1"'))
    first = fetcher.fetch(server.url("/feed"))
    for _ in range(3):
        assert fetcher.fetch(server.url("/feed"), first.validators).not_modified
    assert (server.hits("/feed"), server.connections) == (4, 1)


@pytest.mark.parametrize("after", [b"<rss/>", b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged"])
def test_bytes_after_a_304_do_not_poison_the_next_fetch(
    server: FeedServer, fetcher: Fetcher, after: bytes
) -> None:
    server.route("/feed", Route(body=FEED))
    server.route("/stale", Route(raw=b"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n" + after))
    assert fetcher.fetch(server.url("/stale"), Validators(ETAG)).not_modified
    assert fetcher.fetch(server.url("/feed")).body == FEED
    assert server.connections == 2  # the 304's connection was dropped, not reused


def test_if_modified_since_alone_gets_a_304(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=FEED, last_modified=MODIFIED))
    assert fetcher.fetch(server.url("/feed"), Validators(last_modified=MODIFIED)).not_modified
    assert fetcher.fetch(server.url("/feed"), Validators(last_modified="yesterday")).body == FEED


def test_304_keeps_request_validators_the_response_lacks(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=FEED, etag=ETAG))
    result = fetcher.fetch(server.url("/feed"), Validators(ETAG, MODIFIED))
    assert result.not_modified
    assert "last-modified" not in result.headers
    assert result.validators == Validators(ETAG, MODIFIED)


def test_non_ascii_validator_costs_a_full_get_not_a_crash(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=FEED, etag='"caf\u00e9"', last_modified=MODIFIED))
    first = fetcher.fetch(server.url("/feed"))
    assert first.validators.etag == '"caf\u00e9"'
    again = fetcher.fetch(server.url("/feed"), first.validators)
    assert again.not_modified  # by If-Modified-Since alone
    assert "if-none-match" not in server.requests[1].headers


# -- content encodings ----------------------------------------------------------------------------------


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [("gzip", gzip.compress(FEED)), ("deflate", zlib.compress(FEED)), ("deflate", _raw_deflate(FEED))],
    ids=["gzip", "deflate-zlib", "deflate-raw"],
)
def test_compressed_bodies_are_decoded(
    server: FeedServer, fetcher: Fetcher, encoding: str, encoded: bytes
) -> None:
    server.route("/feed", Route(body=encoded, headers={"Content-Encoding": encoding}))
    result = fetcher.fetch(server.url("/feed"))
    assert encoded != FEED
    assert result.body == FEED


def test_streamed_gzip_is_decoded(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=lambda: gzip_bomb(3 * MiB), headers={"Content-Encoding": "gzip"}))
    assert fetcher.fetch(server.url("/feed")).body == bytes(3 * MiB)


@pytest.mark.parametrize(
    "encoded", [b"\x1f\x8b\x08\x00garbage-not-gzip", gzip.compress(FEED)[:-20]], ids=["corrupt", "truncated"]
)
def test_broken_gzip_is_a_decompression_error(server: FeedServer, fetcher: Fetcher, encoded: bytes) -> None:
    server.route("/feed", Route(body=encoded, headers={"Content-Encoding": "gzip"}))
    assert fetch_error(fetcher, server.url("/feed")).kind == "decompression"


def test_unsupported_encoding_is_refused(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=b"\x00\x01", headers={"Content-Encoding": "br"}))
    error = fetch_error(fetcher, server.url("/feed"))
    assert error.kind == "decompression"
    assert "br" in str(error)


def test_gzip_bomb_is_cut_at_the_cap_without_inflating_it(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/bomb", Route(body=lambda: gzip_bomb(1024 * MiB), headers={"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        error = fetch_error(fetcher, server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.kind == "decompression"
    assert f"exceeds {FetchPolicy().max_body_bytes} bytes" in str(error)
    assert "ratio" in str(error)
    assert peak < 50 * MiB


# -- size caps ------------------------------------------------------------------------------------------


def test_huge_streamed_body_is_cut_without_reading_it_all(server: FeedServer, fetcher: Fetcher) -> None:
    sent = 0
    stopped = threading.Event()

    def hundred_mib() -> Iterator[bytes]:
        nonlocal sent
        chunk = b"x" * (64 * 1024)
        try:
            for _ in range(100 * MiB // len(chunk)):
                sent += len(chunk)
                yield chunk
        finally:
            stopped.set()

    server.route("/huge", Route(body=hundred_mib))
    error = fetch_error(fetcher, server.url("/huge"))
    assert error.kind == "too_large"
    assert str(error) == f"body exceeds {FetchPolicy().max_body_bytes} bytes"
    assert stopped.wait(5), "the server should see the client hang up"
    assert sent < 50 * MiB


def test_declared_length_over_the_cap_is_refused_before_reading(server: FeedServer) -> None:
    lie = {"Content-Length": str(10**9)}
    server.route("/big", Route(body=lambda: iter([b"x" * 100]), headers=lie))
    with Fetcher(replace(LOOPBACK, max_body_bytes=1000)) as fetcher:
        error = fetch_error(fetcher, server.url("/big"))
    assert error.kind == "too_large"
    assert str(error) == "Content-Length 1000000000 exceeds 1000 bytes"


# -- time caps ------------------------------------------------------------------------------------------


def test_slow_drip_is_cut_at_the_total_deadline(server: FeedServer) -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x"
            time.sleep(0.2)

    server.route("/drip", Route(body=drip))
    started = time.monotonic()
    with Fetcher(replace(LOOPBACK, total_timeout_s=1, read_timeout_s=5)) as fetcher:
        error = fetch_error(fetcher, server.url("/drip"))
    assert error.kind == "timeout"
    assert time.monotonic() - started < 5  # the drip alone would take 20 s


def test_silent_server_hits_the_read_timeout(server: FeedServer) -> None:
    server.route("/slow", Route(body=FEED, delay_s=2))
    with Fetcher(replace(LOOPBACK, read_timeout_s=0.3)) as fetcher:
        error = fetch_error(fetcher, server.url("/slow"))
    assert error.kind == "timeout"


# -- redirects ------------------------------------------------------------------------------------------


def redirect(status: int, location: str) -> Route:
    return Route(status=status, headers={"Location": location})


def test_permanent_redirect_chain_sets_permanent_url(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/a", redirect(301, "/b"))
    server.route("/b", redirect(308, "c"))  # relative to /b
    server.route("/c", Route(body=FEED))
    result = fetcher.fetch(server.url("/a"))
    assert result.body == FEED
    assert result.url == server.url("/a")
    assert result.final_url == result.permanent_url == server.url("/c")
    assert [r.path for r in server.requests] == ["/a", "/b", "/c"]


def test_a_temporary_hop_means_no_permanent_url(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/a", redirect(301, "/b"))
    server.route("/b", redirect(302, "/c"))
    server.route("/c", Route(body=FEED))
    result = fetcher.fetch(server.url("/a"))
    assert result.final_url == server.url("/c")
    assert result.permanent_url is None


def test_redirect_loop(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/x", redirect(302, "/y"))
    server.route("/y", redirect(301, "/x"))
    error = fetch_error(fetcher, server.url("/x"))
    assert error.kind == "redirect_loop"
    assert server.hits("/x") == 1


def test_redirect_limit(server: FeedServer) -> None:
    for n in range(3):
        server.route(f"/r{n}", redirect(307, f"/r{n + 1}"))
    server.route("/r3", Route(body=FEED))
    with Fetcher(replace(LOOPBACK, max_redirects=3)) as fetcher:
        assert fetcher.fetch(server.url("/r0")).body == FEED
    with Fetcher(replace(LOOPBACK, max_redirects=2)) as fetcher:
        error = fetch_error(fetcher, server.url("/r0"))
    assert error.kind == "too_many_redirects"
    assert server.hits("/r3") == 1  # only the first fetch got there


def test_redirect_to_a_file_url_is_refused(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", redirect(302, "file:///etc/passwd"))
    error = fetch_error(fetcher, server.url("/feed"))
    assert error.kind == "unsupported_scheme"
    assert "root:" not in str(error)


# -- refused URLs, HTTP errors, transport failures -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("file:///etc/passwd", "unsupported_scheme"),
        ("ftp://127.0.0.1/feed.xml", "unsupported_scheme"),
        ("javascript:alert(1)", "unsupported_scheme"),
        ("data:text/xml,<rss/>", "unsupported_scheme"),
        ("", "invalid_url"),
        ("not a url", "invalid_url"),
        ("//127.0.0.1/feed", "invalid_url"),
        ("http://", "invalid_url"),
        ("http:///feed", "invalid_url"),
        ("http://[::1/feed", "invalid_url"),
        ("http://example.com/a\nb", "invalid_url"),
    ],
)
def test_bad_urls_are_refused_before_any_io(url: str, kind: str) -> None:
    fetcher = Fetcher()
    fetcher.close()  # a closed client raises RuntimeError on any attempt to send
    error = fetch_error(fetcher, url)
    assert error.kind == kind
    assert error.status is None
    assert "\n" not in str(error)


def test_credentials_in_the_url_stay_out_of_errors() -> None:
    with Fetcher() as fetcher:
        error = fetch_error(fetcher, "ftp://user:s3cret@127.0.0.1/feed")
    assert error.url == "ftp://***@127.0.0.1/feed"
    assert "s3cret" not in str(error)


def test_429_reports_retry_after_seconds(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(status=429, headers={"Retry-After": "120"}))
    error = fetch_error(fetcher, server.url("/feed"))
    assert (error.kind, error.status, error.retry_after_s) == ("http_status", 429, 120.0)
    assert str(error) == "HTTP 429 Too Many Requests"
    assert error.url == server.url("/feed")


def test_503_reports_retry_after_http_date(server: FeedServer, fetcher: Fetcher) -> None:
    retry_at = formatdate(time.time() + 300, usegmt=True)
    server.route("/feed", Route(status=503, headers={"Retry-After": retry_at}))
    error = fetch_error(fetcher, server.url("/feed"))
    assert (error.kind, error.status) == ("http_status", 503)
    assert error.retry_after_s is not None
    assert 290 <= error.retry_after_s <= 301


def test_retry_after_that_is_not_a_number_is_ignored(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(status=429, headers={"Retry-After": "\u00b2"}))  # "²".isdigit() is true
    error = fetch_error(fetcher, server.url("/feed"))
    assert (error.status, error.retry_after_s) == (429, None)


def test_410_is_reported_with_its_status(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(status=410, body=b"gone"))
    error = fetch_error(fetcher, server.url("/feed"))
    assert (error.kind, error.status, error.retry_after_s) == ("http_status", 410, None)
    assert str(error) == "HTTP 410 Gone"


def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = fetch_error(fetcher, f"http://127.0.0.1:{port}/feed")
    assert error.kind == "connect"


def test_tls_failure_is_its_own_kind(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=FEED))
    error = fetch_error(fetcher, server.url("/feed").replace("http://", "https://"))
    assert error.kind == "tls"


# -- freshness ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"Cache-Control": "public, max-age=300"}, 300, 300),
        ({"Cache-Control": "s-maxage=900"}, 900, 900),
        ({"Cache-Control": "no-cache"}, 0, 0),
        ({"Cache-Control": "no-store, max-age=300"}, 0, 0),
        ({"Expires": "0"}, 0, 0),
        ({"Cache-Control": "max-age=\u00b2", "Expires": "0"}, 0, 0),
    ],
    ids=["max-age", "s-maxage", "no-cache", "no-store", "invalid-expires", "non-numeric-max-age"],
)
def test_max_age(server: FeedServer, fetcher: Fetcher, headers: dict[str, str], low: int, high: int) -> None:
    server.route("/feed", Route(body=FEED, headers=headers))
    max_age = fetcher.fetch(server.url("/feed")).max_age_s
    assert max_age is not None
    assert low <= max_age <= high


def test_max_age_from_expires_minus_date(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=FEED, headers={"Expires": formatdate(time.time() + 600, usegmt=True)}))
    max_age = fetcher.fetch(server.url("/feed")).max_age_s
    assert max_age is not None
    assert 590 <= max_age <= 601


def test_no_freshness_headers_means_none(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", Route(body=FEED))
    assert fetcher.fetch(server.url("/feed")).max_age_s is None


# -- per-host concurrency --------------------------------------------------------------------------------


def _fetch_twice_at_once(server: FeedServer, per_host: int) -> list[FetchResult]:
    server.route("/slow", Route(body=FEED, delay_s=0.4))
    with Fetcher(replace(LOOPBACK, per_host_concurrency=per_host)) as fetcher, ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda _: fetcher.fetch(server.url("/slow")), range(2)))


def test_per_host_concurrency_limit_serialises_requests(server: FeedServer) -> None:
    results = _fetch_twice_at_once(server, per_host=1)
    assert [r.body for r in results] == [FEED, FEED]
    assert server.hits("/slow") == 2
    assert server.max_concurrent == 1


def test_without_the_limit_the_server_sees_overlap(server: FeedServer) -> None:
    _fetch_twice_at_once(server, per_host=2)
    assert server.max_concurrent == 2


# -- untrusted destinations -----------------------------------------------------------------------------


def names(table: dict[str, str], asked: list[str] | None = None) -> Resolver:
    """A resolver that knows the names in ``table`` (host -> address) and records every question."""

    def resolve(host: str, _port: int) -> list[IPAddress]:
        if asked is not None:
            asked.append(host)
        return [ip_address(table.get(host, host))]  # an address resolves to itself

    return resolve


def test_loopback_is_refused_by_default_before_connecting(server: FeedServer) -> None:
    server.route("/feed", Route(body=FEED))
    with Fetcher() as fetcher:
        error = fetch_error(fetcher, server.url("/feed"))
    assert error.kind == "forbidden_address"
    assert "127.0.0.1 (loopback)" in str(error)
    assert server.connections == 0


def test_a_name_that_resolves_to_loopback_is_refused(server: FeedServer) -> None:
    server.route("/feed", Route(body=FEED))
    with Fetcher(resolve=names({"news.example": "127.0.0.1"})) as fetcher:
        error = fetch_error(fetcher, f"http://news.example:{server.port}/feed")
    assert error.kind == "forbidden_address"
    assert server.connections == 0


def test_the_checked_address_is_connected_to_and_the_host_header_keeps_the_name(server: FeedServer) -> None:
    server.route("/feed", Route(body=FEED))
    asked: list[str] = []
    with Fetcher(LOOPBACK, resolve=names({"news.example": "127.0.0.1"}, asked)) as fetcher:
        assert fetcher.fetch(f"http://news.example:{server.port}/feed").body == FEED
    assert server.requests[0].headers["host"] == f"news.example:{server.port}"
    assert asked == ["news.example"]  # one answer, both checked and connected to: nothing to rebind


@pytest.mark.parametrize("location", ["http://127.0.0.2:{port}/feed", "http://intranet.example:{port}/feed"])
def test_redirects_to_addresses_off_the_allow_list_are_refused(server: FeedServer, location: str) -> None:
    server.route("/feed", redirect(302, location.format(port=server.port)))
    only_the_server = FetchPolicy(allow_networks=(ip_network("127.0.0.1/32"),))
    with Fetcher(only_the_server, resolve=names({"intranet.example": "127.0.0.2"})) as fetcher:
        error = fetch_error(fetcher, server.url("/feed"))
    assert error.kind == "forbidden_address"
    assert "127.0.0.2 (loopback)" in str(error)
    assert [r.path for r in server.requests] == ["/feed"]


def test_an_unresolvable_name_is_a_connect_error() -> None:
    def nowhere(host: str, _port: int) -> list[IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with Fetcher(resolve=nowhere) as fetcher:
        error = fetch_error(fetcher, "http://no-such-host.example/feed")
    assert error.kind == "connect"
    assert "cannot resolve no-such-host.example" in str(error)


def test_tls_server_name_is_the_host_name_not_the_address() -> None:
    """The server records the SNI of the ClientHello; it has no certificate, so the handshake then fails."""
    names_seen: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.sni_callback = lambda _sock, name, _ctx: names_seen.append(name)
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def handshake() -> None:
            conn, _ = listener.accept()
            with conn, contextlib.suppress(ssl.SSLError, OSError):
                context.wrap_socket(conn, server_side=True)

        thread = threading.Thread(target=handshake)
        thread.start()
        with Fetcher(LOOPBACK, resolve=names({"news.example": "127.0.0.1"})) as fetcher:
            error = fetch_error(fetcher, f"https://news.example:{listener.getsockname()[1]}/feed")
        thread.join(10)
    assert error.kind == "tls"
    assert names_seen == ["news.example"]
