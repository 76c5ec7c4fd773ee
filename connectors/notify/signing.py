"""Standard Webhooks signatures (https://www.standardwebhooks.com/), so receivers can check a delivery
with any of that project's libraries: HMAC-SHA256 over ``{webhook-id}.{webhook-timestamp}.{body}``.

Signing the id and timestamp with the body lets a receiver drop replays: a stale timestamp is refused,
and an id it has already seen is a redelivery, not a new alert.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

_PREFIX = "whsec_"


def _key(secret: str) -> bytes:
    """The HMAC key exactly as the official ``standardwebhooks`` library derives it, so its receivers
    accept our signatures: an optional ``whsec_`` prefix dropped, the rest base64-decoded leniently
    (padding added, characters outside the alphabet skipped). A bare string is base64 too, not UTF-8."""
    try:
        key = base64.b64decode(secret.removeprefix(_PREFIX) + "==")
    except ValueError:  # binascii.Error, or non-ASCII characters
        # `from None`: the decoder's message may quote the secret.
        raise ValueError("the signing secret is not base64 (whsec_ followed by base64)") from None
    if not key:
        raise ValueError("the signing secret is empty")
    return key


def _digest(key: bytes, msg_id: str, stamp: str, body: bytes) -> str:
    signed = f"{msg_id}.{stamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC>``."""
    return "v1," + _digest(_key(secret), msg_id, str(timestamp), body)


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of a delivery (`timestamp` in unix seconds)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: int, tolerance_s: int = 300) -> bool:
    """Whether `body` was signed with `secret` within `tolerance_s` of `now` (either side: a clock
    far ahead is as suspect as a replay). Header names are matched case-insensitively, as HTTP does;
    any one of several space-separated ``v1,`` signatures (a key rotation) is enough."""
    named = {name.lower(): value for name, value in headers.items()}
    msg_id = named.get("webhook-id")
    stamp = named.get("webhook-timestamp", "")
    signatures = named.get("webhook-signature")
    if not msg_id or not signatures or not stamp.isascii() or not stamp.isdigit():
        return False
    if abs(now - int(stamp)) > tolerance_s:
        return False
    # The timestamp as sent, not re-formatted: that is the text the sender signed.
    expected = _digest(_key(secret), msg_id, stamp, body).encode()
    return any(
        version == "v1" and hmac.compare_digest(value.encode(), expected)
        for version, _, value in (entry.partition(",") for entry in signatures.split())
    )
