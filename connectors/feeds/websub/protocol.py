"""The WebSub protocol pieces a subscriber needs, as pure functions: hub discovery, the subscription
request, the answer to a verification of intent, and the check of a push's signature.

Discovery (spec 4): the hub and topic come from HTTP ``Link`` headers when the response has a hub
there, else from the feed document's ``<link rel="hub">``/``rel="self"`` (Atom, or ``atom:link`` in
RSS). The topic is the ``rel=self`` URL; a feed without one is subscribed under the URL it was
fetched from.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from schemas.websub import Subscription

SIGNATURE_HEADER = "x-hub-signature"
SIGNATURE_METHODS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}

_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[A-Za-z*-]+\s*=\s*(?:\"[^\"]*\"|[^;,\s]*))*)")
_PARAM = re.compile(r";\s*([A-Za-z*-]+)\s*=\s*(\"[^\"]*\"|[^;,\s]*)")


@dataclass(frozen=True)
class Discovery:
    hubs: tuple[str, ...]
    topic: str


def link_header_rels(value: str) -> list[tuple[str, str]]:
    """(rel, target) pairs of an RFC 8288 ``Link`` header value (several headers joined by commas); a
    ``rel`` holding several relation types yields a pair for each."""
    pairs = []
    for match in _LINK.finditer(value):
        target, params = match.group(1).strip(), match.group(2)
        for name, raw in _PARAM.findall(params):
            if name.lower() == "rel":
                pairs += [(rel.lower(), target) for rel in raw.strip('"').split()]
    return pairs


def _http(url: str, base: str) -> str | None:
    joined = urljoin(base, url.strip())
    return joined if urlsplit(joined).scheme in ("http", "https") and urlsplit(joined).hostname else None


def discover(
    headers: Mapping[str, str], document_links: Iterable[tuple[str, str]], url: str
) -> Discovery | None:
    """The hubs and topic of a feed fetched from ``url``, or None when it names no hub. Header links win
    over the document's, as the spec says subscribers look there first."""
    header_links = link_header_rels(headers.get("link", ""))
    for links in (header_links, list(document_links)):
        hubs = tuple(dict.fromkeys(h for rel, href in links if rel == "hub" and (h := _http(href, url))))
        if hubs:
            selves = [s for rel, href in links if rel == "self" and (s := _http(href, url))]
            return Discovery(hubs, selves[0] if selves else url)
    return None


def new_secret() -> str:
    """A per-subscription hub.secret: 256 random bits, well under the spec's 200-byte limit."""
    return secrets.token_urlsafe(32)


def new_token() -> str:
    """The callback URL's unguessable path segment: a push or verification names its subscription."""
    return secrets.token_urlsafe(18)


def request_form(sub: Subscription, mode: str, lease_s: int) -> dict[str, str]:
    """The form-encoded body of a subscription (or unsubscription) request to the hub (spec 5.1)."""
    form = {"hub.callback": sub.callback, "hub.mode": mode, "hub.topic": sub.topic}
    if mode == "subscribe":
        form |= {"hub.lease_seconds": str(lease_s), "hub.secret": sub.secret.get_secret_value()}
    return form


@dataclass(frozen=True)
class Verdict:
    """The answer to a hub's verification of intent, and the subscription afterwards (None: forget it)."""

    status: int
    body: bytes
    subscription: Subscription | None
    changed: bool


def answer_verification(sub: Subscription | None, params: Mapping[str, str], now: datetime) -> Verdict:
    """Spec 5.3: echo ``hub.challenge`` only for a pending request of the same mode and topic; 404
    otherwise, so nobody can subscribe us to anything we did not ask for. ``denied`` (5.2) records the
    hub's reason and is acknowledged."""
    mode, topic = params.get("hub.mode", ""), params.get("hub.topic", "")
    if sub is None or topic != sub.topic:
        return Verdict(404, b"", sub, False)
    if mode == "denied" and sub.pending == "subscribe":
        reason = params.get("hub.reason", "no reason given")[:300]
        denied = sub.model_copy(
            update={"pending": None, "failures": sub.failures + 1, "last_error": f"denied by hub: {reason}"}
        )
        return Verdict(200, b"", denied, True)
    challenge = params.get("hub.challenge", "")
    if not challenge or mode not in ("subscribe", "unsubscribe") or sub.pending != mode:
        return Verdict(404, b"", sub, False)
    if mode == "unsubscribe":
        return Verdict(200, challenge.encode(), None, True)
    lease = params.get("hub.lease_seconds", "")
    if not (lease.isascii() and lease.isdigit()):
        return Verdict(404, b"", sub, False)  # required for subscribe: a hub without it is broken
    verified = sub.model_copy(
        update={
            "pending": None,
            "verified": now,
            "lease_s": int(lease),
            "expires": now + timedelta(seconds=int(lease)),
            "failures": 0,
            "retry_at": None,
            "last_error": None,
        }
    )
    return Verdict(200, challenge.encode(), verified, True)


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The ``X-Hub-Signature`` value a hub sends: ``method=hex HMAC of the body``."""
    return f"{method}={hmac.new(secret.encode(), body, SIGNATURE_METHODS[method]).hexdigest()}"


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Spec 8: the HMAC over the raw body with the subscription's secret, by the method the hub named;
    a missing header, an unknown method or a mismatch are all invalid (compared in constant time)."""
    method, _, given = (header or "").strip().partition("=")
    digest = SIGNATURE_METHODS.get(method.strip().lower())
    if digest is None or not given:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())
