from schemas.deadletter import MAX_PAYLOAD_CHARS, DeadLetter


def test_key_is_deterministic_per_stage_and_origin() -> None:
    a = DeadLetter.of("DecodeJson", "bad", "t/0@5", b"x")
    b = DeadLetter.of("DecodeJson", "other reason", "t/0@5", b"y")
    c = DeadLetter.of("DecodeJson", "bad", "t/0@6", b"x")
    assert a.key == b.key
    assert a.key != c.key


def test_payload_is_text_and_truncated() -> None:
    letter = DeadLetter.of("s", "r", "o", b"\xff" + b"a" * (MAX_PAYLOAD_CHARS + 10))
    assert letter.payload.startswith("\ufffd")
    assert len(letter.payload) == MAX_PAYLOAD_CHARS
    assert letter.at.tzinfo is not None
