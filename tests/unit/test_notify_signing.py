import base64
import binascii
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from connectors.notify.signing import headers, sign, verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = b'{"test": 2432232314}'


def _hmac(key: bytes, msg_id: str, ts: int, body: bytes) -> str:
    """The spec's signature, computed here with the standard library only."""
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def test_known_answer_vector_of_the_spec() -> None:
    # The Standard Webhooks spec's example: key = base64-decoded part after "whsec_".
    by_hand = _hmac(base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), MSG_ID, TS, BODY)
    assert by_hand == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(SECRET, MSG_ID, TS, BODY) == by_hand


def test_a_secret_without_prefix_is_base64_too_and_a_non_ascii_one_is_refused() -> None:
    key = base64.b64encode(b"raw key").decode()
    assert sign(key, "m1", 100, b"{}") == _hmac(b"raw key", "m1", 100, b"{}")
    with pytest.raises(ValueError, match="not base64"):
        sign("pässword", "m1", 100, b"{}")
    with pytest.raises(ValueError):
        Webhook("pässword")  # as the official library does


def test_headers_carry_id_timestamp_and_signature() -> None:
    assert headers(SECRET, MSG_ID, TS, BODY) == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TS),
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_round_trip_verifies() -> None:
    assert verify(SECRET, headers(SECRET, MSG_ID, TS, BODY), BODY, now=TS)


def test_header_names_are_case_insensitive() -> None:
    sent = {k.title(): v for k, v in headers(SECRET, MSG_ID, TS, BODY).items()}
    assert verify(SECRET, sent, BODY, now=TS + 10)


@pytest.mark.parametrize(
    ("change", "value"),
    [("webhook-id", "msg_other"), ("webhook-timestamp", str(TS + 1)), ("webhook-signature", "v1,AAAA")],
)
def test_a_changed_header_is_rejected(change: str, value: str) -> None:
    sent = headers(SECRET, MSG_ID, TS, BODY) | {change: value}
    assert not verify(SECRET, sent, BODY, now=TS)


def test_tampered_body_and_wrong_secret_are_rejected() -> None:
    sent = headers(SECRET, MSG_ID, TS, BODY)
    assert not verify(SECRET, sent, BODY + b" ", now=TS)
    assert not verify("whsec_" + base64.b64encode(b"another key").decode(), sent, BODY, now=TS)


def test_timestamps_beyond_the_tolerance_are_rejected_both_ways() -> None:
    sent = headers(SECRET, MSG_ID, TS, BODY)
    assert verify(SECRET, sent, BODY, now=TS + 300)
    assert not verify(SECRET, sent, BODY, now=TS + 301)  # a replay
    assert not verify(SECRET, sent, BODY, now=TS - 301)  # a clock far ahead
    assert verify(SECRET, sent, BODY, now=TS + 3600, tolerance_s=3600)


def test_any_one_of_several_signatures_is_enough() -> None:
    good = sign(SECRET, MSG_ID, TS, BODY)
    stale = _hmac(b"old key", MSG_ID, TS, BODY)
    sent = headers(SECRET, MSG_ID, TS, BODY) | {"webhook-signature": f"{stale} {good}"}
    assert verify(SECRET, sent, BODY, now=TS)


def test_only_v1_signatures_count() -> None:
    value = sign(SECRET, MSG_ID, TS, BODY).removeprefix("v1,")
    sent = headers(SECRET, MSG_ID, TS, BODY) | {"webhook-signature": f"v1a,{value}"}
    assert not verify(SECRET, sent, BODY, now=TS)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_rejected(missing: str) -> None:
    sent = headers(SECRET, MSG_ID, TS, BODY)
    del sent[missing]
    assert not verify(SECRET, sent, BODY, now=TS)


@pytest.mark.parametrize("stamp", ["", "soon", "-5", "1614265330.0", "١٦١٤٢٦٥٣٣٠"])
def test_a_malformed_timestamp_is_rejected(stamp: str) -> None:
    sent = headers(SECRET, MSG_ID, TS, BODY) | {"webhook-timestamp": stamp}
    assert not verify(SECRET, sent, BODY, now=TS)


def test_a_bad_secret_raises_without_quoting_it() -> None:
    secret = "whsec_abcde"  # five base64 characters: no byte string encodes to that
    with pytest.raises(ValueError, match="not base64") as raised:
        sign(secret, MSG_ID, TS, BODY)
    assert "abcde" not in str(raised.value)
    assert raised.value.__cause__ is None
    with pytest.raises(binascii.Error):
        Webhook(secret)  # the official library refuses it too
    for empty in ("", "whsec_"):
        with pytest.raises(ValueError, match="empty"):
            sign(empty, MSG_ID, TS, BODY)


KEY = base64.b64encode(b"a 24-byte key for signing").decode()


@pytest.mark.parametrize(
    "secret",
    [
        SECRET,
        "whsec_" + KEY.rstrip("="),  # unpadded: the official library pads it
        KEY,  # no prefix: base64 all the same
        "whsec_" + KEY[:8] + "*-" + KEY[8:],  # characters outside the alphabet are skipped
    ],
)
def test_the_official_library_accepts_our_signatures_and_we_accept_its(secret: str) -> None:
    official = Webhook(secret)
    now = int(time.time())  # the library checks the timestamp against its own clock (5 min either way)
    sent = headers(secret, MSG_ID, now, BODY)
    assert official.verify(BODY, sent, json_parse=False) is None
    theirs = official.sign(MSG_ID, datetime.fromtimestamp(now, UTC), BODY)
    assert theirs == sent["webhook-signature"]
    assert verify(secret, {**sent, "webhook-signature": theirs}, BODY, now=now)
