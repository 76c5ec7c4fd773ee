"""Fetch one feed over HTTP, politely and safely against hostile or broken servers.

Polite: conditional GETs, an identifying User-Agent, a cap on concurrent requests per host.
Safe: only http(s), on every redirect hop too; only public addresses unless allowed (``egress``), checked
on every connection; a total deadline that slow-drip servers cannot stretch; caps on the raw and the
decompressed body size, enforced while streaming so a huge body or a gzip bomb never sits in memory.
httpx neither follows redirects nor decodes content here: both are done below, where the rules above
can be applied to every hop and every byte.
"""

from __future__ import annotations

import ssl
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import MappingProxyType, TracebackType

import httpcore
import httpx

from connectors.feeds.egress import CheckedBackend, ForbiddenAddress, IPNetwork, Resolver, system_resolve
from connectors.feeds.keepalive import HeadWatchingBackend, read_past_head

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch; the defaults suit news feeds (small documents, slow or flaky publishers)."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0  # max silence between bytes
    total_timeout_s: float = 60.0  # whole request incl. redirects and body; defeats slow-drip servers
    max_body_bytes: int = 10 * 1024 * 1024  # raw and decompressed cap
    max_redirects: int = 5
    per_host_concurrency: int = 2
    # Non-public networks feeds may still reach (a local test server, an intranet publisher).
    allow_networks: tuple[IPNetwork, ...] = ()
    user_agent: str = (
        "Watchfloor/0.1 (+https://github.com/watchfloor/watchfloor; news monitoring; polite polling)"
    )


@dataclass(frozen=True)
class Validators:
    """What the server said identifies this version of the document, sent back to get a 304."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """A successful fetch: a 2xx body, or a 304 that says the caller's copy is still current."""

    url: str  # the URL requested
    final_url: str  # after redirects
    permanent_url: str | None  # the final URL if every redirect hop was permanent (301/308), else None
    status: int
    headers: Mapping[str, str]  # final response headers, lower-case names
    body: bytes  # decompressed; b"" on 304
    validators: Validators
    elapsed_s: float
    max_age_s: float | None  # how long the publisher says the response stays fresh; None if unsaid

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """Any failed fetch, classified by ``kind`` so the scheduler can decide what to do without parsing text.

    Kinds: invalid_url, unsupported_scheme, forbidden_address, connect, timeout, tls, too_large,
    decompression, too_many_redirects, redirect_loop, http_status, protocol.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        url: str,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the cause's text looked like
        self.kind = kind
        self.url = _redact(url)
        self.status = status
        self.retry_after_s = retry_after_s


def _redact(url: str) -> str:
    """Drop user:password from a URL: errors end up in logs and state."""
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    if sep and "@" in authority:
        return f"{scheme}://***@{authority.rpartition('@')[2]}{slash}{tail}"
    return url


def _check_url(raw: str, origin: str) -> httpx.URL:
    """Parse ``raw`` (a request URL or a resolved redirect) and refuse anything but absolute http(s)."""
    try:
        parsed = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError("invalid_url", f"invalid URL: {exc}", origin) from None
    if not parsed.scheme:
        raise FetchError("invalid_url", "URL has no scheme", origin)
    if parsed.scheme not in ("http", "https"):
        raise FetchError("unsupported_scheme", f"unsupported URL scheme {parsed.scheme!r}", origin)
    if not parsed.host:
        raise FetchError("invalid_url", "URL has no host", origin)
    return parsed


def _decimal(value: str) -> float | None:
    """A header's non-negative integer (ASCII digits only: ``"²".isdigit()`` is true, but not a number)."""
    return float(value) if value.isascii() and value.isdigit() else None


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _server_now(headers: httpx.Headers) -> datetime:
    """The server's clock when it answered (its Date header): relative times are meant against it."""
    return _http_date(headers.get("date")) or datetime.now(UTC)


def _retry_after_s(headers: httpx.Headers) -> float | None:
    """Retry-After as seconds from now; it is either delta-seconds or an HTTP-date."""
    value = headers.get("retry-after", "").strip()
    if (seconds := _decimal(value)) is not None:
        return seconds
    when = _http_date(value)
    return None if when is None else max(0.0, (when - _server_now(headers)).total_seconds())


def _max_age_s(headers: httpx.Headers) -> float | None:
    """Freshness lifetime: Cache-Control max-age / s-maxage, else Expires - Date (RFC 9111 4.2.1)."""
    directives: dict[str, str] = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, value = part.partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    for name in ("max-age", "s-maxage"):
        if (seconds := _decimal(directives.get(name, ""))) is not None:
            return seconds
    if "expires" not in headers:
        return None
    expires = _http_date(headers["expires"])
    if expires is None:  # an invalid Expires means "already expired"
        return 0.0
    return max(0.0, (expires - _server_now(headers)).total_seconds())


class _Overflow(Exception):
    """The decompressed body outgrew the cap."""


class _Inflater:
    """Streaming gzip/deflate decoder that never produces more than ``limit`` bytes in total.

    ``Content-Encoding: deflate`` is meant to be zlib-wrapped but is often raw deflate; the zlib header
    (CM=8 and a check sum divisible by 31) tells them apart.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._limit = limit
        self._produced = 0
        self._pending = b""
        self._decoder: zlib._Decompress | None = None

    def feed(self, data: bytes) -> bytes:
        if self._decoder is None:
            self._pending += data
            if len(self._pending) < 2:
                return b""
            data, self._pending = self._pending, b""
            self._decoder = zlib.decompressobj(self._wbits(data))
        if self._decoder.eof:  # trailing bytes after the end of the stream carry nothing
            return b""
        room = self._limit - self._produced
        # One byte over the room proves the cap is exceeded; below it, zlib emitted all it could.
        out = self._decoder.decompress(data, room + 1)
        self._produced += len(out)
        if self._produced > self._limit:
            raise _Overflow
        return out

    def finish(self) -> None:
        if self._pending or (self._decoder is not None and not self._decoder.eof):
            raise zlib.error("compressed body is truncated")

    def _wbits(self, head: bytes) -> int:
        if self._gzip:
            return 16 + zlib.MAX_WBITS
        zlib_wrapped = head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0
        return zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS


def _transport_kind(exc: httpx.HTTPError) -> str:
    """httpx reports TLS handshake failures as ConnectError; the ssl error is further down the chain."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return "tls"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpx.InvalidURL):
        return "invalid_url"
    return "protocol"


class _Transport(httpx.HTTPTransport):
    """httpx's transport over a backend of ours; httpx 0.28 has no public hook for httpcore's backend."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=backend)


def checked_transport(policy: FetchPolicy, resolve: Resolver = system_resolve) -> httpx.HTTPTransport:
    """A transport that connects only where ``policy`` lets feeds go: for any request to a URL a feed
    named (the fetch itself, a WebSub hub)."""
    return _Transport(HeadWatchingBackend(CheckedBackend(policy.allow_networks, resolve)))


class Fetcher:
    """Fetches feeds with one pooled HTTP/1.1 client; safe to share between threads.

    ``resolve`` turns host names into addresses (the system resolver; tests map names of their own).
    """

    def __init__(self, policy: FetchPolicy = FetchPolicy(), *, resolve: Resolver = system_resolve) -> None:
        limits = (policy.per_host_concurrency, policy.max_body_bytes, policy.max_redirects + 1)
        if min(limits) < 1 or not policy.user_agent.isascii():
            raise ValueError(f"invalid fetch policy: {policy}")
        self.policy = policy
        # No cookie jar: every fetch is stateless, like the redirect-loop check assumes. No proxy from the
        # environment either (a custom transport disables them): a proxy would resolve hosts unchecked.
        no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
        # The constant request headers live on the client: merged once there, not built for every fetch.
        headers = {"User-Agent": policy.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
        self._client = httpx.Client(
            headers=headers,
            follow_redirects=False,
            cookies=httpx.Cookies(no_cookies),
            transport=checked_transport(policy, resolve),
        )
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, validators: Validators = Validators()) -> FetchResult:
        """GET ``url`` (conditionally, given validators); every failure is a :class:`FetchError`."""
        target = _check_url(url, url)
        with self._host_slot(target.host):
            started = time.monotonic()
            return self._fetch(url, target, validators, started)

    def _host_slot(self, host: str) -> threading.BoundedSemaphore:
        """The requested host's slot, held for the whole fetch (redirects to other hosts included)."""
        with self._hosts_lock:
            slot = self._hosts.get(host)
            if slot is None:
                slot = self._hosts[host] = threading.BoundedSemaphore(self.policy.per_host_concurrency)
            return slot

    def _fetch(self, url: str, target: httpx.URL, validators: Validators, started: float) -> FetchResult:
        policy = self.policy
        deadline = started + policy.total_timeout_s
        headers: dict[str, str] = {}
        # httpx sends ASCII header values only; a non-ASCII validator (rare) just costs an unconditional GET.
        if validators.etag and validators.etag.isascii():
            headers["If-None-Match"] = validators.etag
        if validators.last_modified and validators.last_modified.isascii():
            headers["If-Modified-Since"] = validators.last_modified
        seen = {str(target)}
        all_permanent = True
        hops = 0
        while True:
            response = self._send(url, target, headers, deadline)
            try:
                location = response.headers.get("location")
                if response.status_code not in REDIRECTS or location is None:
                    return self._result(url, response, validators, hops > 0 and all_permanent, started)
                try:
                    joined = str(target.join(location))
                except httpx.InvalidURL as exc:
                    raise FetchError("invalid_url", f"invalid redirect Location: {exc}", url) from None
                target = _check_url(joined, url)
            finally:
                response.close()
            hops += 1
            all_permanent = all_permanent and response.status_code in PERMANENT_REDIRECTS
            if str(target) in seen:
                raise FetchError("redirect_loop", f"redirect loop: hop {hops} revisits a URL", url)
            if hops > policy.max_redirects:
                raise FetchError("too_many_redirects", f"more than {policy.max_redirects} redirects", url)
            seen.add(str(target))

    def _send(self, url: str, target: httpx.URL, headers: dict[str, str], deadline: float) -> httpx.Response:
        """Send one request; no single wait may outlast the total deadline."""
        policy = self.policy
        left = self._time_left(url, deadline)
        connect = min(policy.connect_timeout_s, left)
        timeout = httpx.Timeout(
            connect=connect, read=min(policy.read_timeout_s, left), write=connect, pool=connect
        )
        request = self._client.build_request("GET", target, headers=headers, timeout=timeout)
        try:
            return self._client.send(request, stream=True)
        except ForbiddenAddress as exc:
            raise FetchError("forbidden_address", f"refused: {exc}", url) from None
        except httpx.HTTPError as exc:
            raise FetchError(_transport_kind(exc), _describe(exc), url) from None

    def _time_left(self, url: str, deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError("timeout", f"fetch took longer than {self.policy.total_timeout_s:g}s", url)
        return left

    def _result(
        self,
        url: str,
        response: httpx.Response,
        sent: Validators,
        permanent: bool,
        started: float,
    ) -> FetchResult:
        status = response.status_code
        if status != 304 and not 200 <= status < 300:
            raise FetchError(
                "http_status",
                f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip(),
                url,
                status=status,
                retry_after_s=_retry_after_s(response.headers),
            )
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        if status == 304:
            # Reading the empty body lets the connection go back to the pool; closing unread (by the
            # caller) drops it, which bytes after the header call for: they would poison the next fetch.
            body = b"" if read_past_head(response.extensions) else response.read()
            validators = Validators(etag or sent.etag, modified or sent.last_modified)
        else:
            body = self._read_body(url, response, started + self.policy.total_timeout_s)
            validators = Validators(etag, modified)
        return FetchResult(
            url=url,
            final_url=str(response.url),
            permanent_url=str(response.url) if permanent else None,
            status=status,
            headers=MappingProxyType({k.lower(): v for k, v in response.headers.items()}),
            body=body,
            validators=validators,
            elapsed_s=time.monotonic() - started,
            max_age_s=_max_age_s(response.headers),
        )

    def _read_body(self, url: str, response: httpx.Response, deadline: float) -> bytes:
        """Stream the raw body, capping bytes and time as they arrive, and decode it on the way."""
        cap = self.policy.max_body_bytes
        declared = response.headers.get("content-length", "")
        if (_decimal(declared) or 0) > cap:
            raise FetchError("too_large", f"Content-Length {declared} exceeds {cap} bytes", url)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise FetchError("decompression", f"unsupported Content-Encoding {encoding!r}", url)
        inflater = None if encoding in ("identity", "") else _Inflater(encoding, cap)
        body = bytearray()
        received = 0
        try:
            for chunk in response.iter_raw():
                received += len(chunk)
                if received > cap:
                    raise FetchError("too_large", f"body exceeds {cap} bytes", url)
                self._time_left(url, deadline)
                body += inflater.feed(chunk) if inflater else chunk
            if inflater:
                inflater.finish()
        except httpx.HTTPError as exc:
            raise FetchError(_transport_kind(exc), _describe(exc), url) from None
        except _Overflow:
            ratio = f"ratio over {cap // received}:1"
            message = f"decompressed body exceeds {cap} bytes from {received} compressed bytes ({ratio})"
            raise FetchError("decompression", message, url) from None
        except zlib.error as exc:
            raise FetchError("decompression", f"corrupt {encoding} body: {exc}", url) from None
        return bytes(body)


def _describe(exc: httpx.HTTPError) -> str:
    detail = str(exc)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
