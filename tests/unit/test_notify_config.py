"""The notifier's configuration: deploy/notify.yaml, its schema (schemas/notify.py) and the secrets read
from the environment (connectors/notify/config.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from connectors.notify.config import credentials, load_config
from schemas.notify import SEVERITY_ORDER, Destination, NotifyConfig, severity_at_least

REPO = Path(__file__).resolve().parents[2]
HOOK_URL = "https://hooks.example/T000/SECRET123"
SIGNING_KEY = "whsec_c2lnbmluZy1rZXktVkFMVUU0NTY="


def _config(*destinations: dict[str, Any]) -> NotifyConfig:
    return NotifyConfig.model_validate({"destinations": list(destinations)})


WEBHOOK = {"id": "hook", "kind": "webhook", "url_env": "HOOK_URL", "secret_env": "HOOK_KEY"}
SLACK = {"id": "desk", "kind": "slack", "url_env": "SLACK_URL"}


# --- credentials ------------------------------------------------------------------------------------


def test_credentials_are_read_as_secrets() -> None:
    creds = credentials(
        _config(WEBHOOK, SLACK),
        {"HOOK_URL": HOOK_URL, "HOOK_KEY": SIGNING_KEY, "SLACK_URL": "https://slack.example/T1/B2/XYZ789"},
    )
    assert set(creds) == {"hook", "desk"}
    hook, desk = creds["hook"], creds["desk"]
    assert isinstance(hook.url, SecretStr)
    assert isinstance(hook.secret, SecretStr)
    assert hook.url.get_secret_value() == HOOK_URL
    assert hook.secret.get_secret_value() == SIGNING_KEY
    assert desk.url.get_secret_value() == "https://slack.example/T1/B2/XYZ789"
    assert desk.secret is None  # a slack destination has no key


def test_credentials_do_not_show_their_values() -> None:
    creds = credentials(_config(WEBHOOK), {"HOOK_URL": HOOK_URL, "HOOK_KEY": SIGNING_KEY})
    hook = creds["hook"]
    assert hook.secret is not None
    shown = [str(hook.url), repr(hook.url), str(hook.secret), repr(hook.secret), repr(hook), str(creds)]
    for text in shown:
        assert "SECRET123" not in text
        assert "hooks.example" not in text
        assert "VkFMVUU0NTY" not in text


def test_missing_variables_are_named_and_no_value_is_shown() -> None:
    cfg = _config(WEBHOOK, SLACK)
    with pytest.raises(ValueError, match="set these environment variables") as exc:
        credentials(cfg, {"HOOK_URL": HOOK_URL, "OTHER": "VALUE-NOT-TO-LEAK"})
    message = str(exc.value)
    assert "HOOK_KEY" in message
    assert "SLACK_URL" in message
    assert "HOOK_URL" not in message  # it is set
    assert "SECRET123" not in message
    assert "VALUE-NOT-TO-LEAK" not in message


def test_an_empty_variable_counts_as_missing() -> None:
    with pytest.raises(ValueError, match="HOOK_KEY") as exc:
        credentials(_config(WEBHOOK), {"HOOK_URL": HOOK_URL, "HOOK_KEY": ""})
    assert "SECRET123" not in str(exc.value)


def test_a_variable_shared_by_destinations_is_named_once() -> None:
    other = WEBHOOK | {"id": "hook2", "url_env": "HOOK2_URL"}
    with pytest.raises(ValueError) as exc:
        credentials(_config(WEBHOOK, other), {"HOOK_URL": HOOK_URL, "HOOK2_URL": HOOK_URL})
    assert str(exc.value).count("HOOK_KEY") == 1


def test_credentials_default_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WF_UNIT_SLACK_URL", HOOK_URL)
    creds = credentials(_config(SLACK | {"url_env": "WF_UNIT_SLACK_URL"}))
    assert creds["desk"].url.get_secret_value() == HOOK_URL


# --- deploy/notify.yaml -----------------------------------------------------------------------------


def test_the_shipped_config_validates() -> None:
    cfg = load_config(REPO / "deploy" / "notify.yaml")
    assert cfg.destinations
    for dest in cfg.destinations:
        assert dest.url_env.isupper()  # names variables, never holds a URL
        assert "://" not in dest.url_env
    hook = next(d for d in cfg.destinations if d.kind == "webhook")
    assert hook.secret_env


def test_an_empty_config_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValidationError, match="destinations"):
        load_config(path)


# --- schema -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["webhook", "pagerduty"])
def test_signed_kinds_need_secret_env(kind: str) -> None:
    with pytest.raises(ValidationError, match="needs secret_env"):
        Destination.model_validate({"id": "d", "kind": kind, "url_env": "URL"})
    assert Destination.model_validate({"id": "d", "kind": kind, "url_env": "URL", "secret_env": "KEY"})


@pytest.mark.parametrize("kind", ["slack", "teams"])
def test_chat_kinds_need_no_secret_env(kind: str) -> None:
    assert Destination.model_validate({"id": "d", "kind": kind, "url_env": "URL"}).secret_env is None


def test_duplicate_destination_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match="unique"):
        _config(SLACK, SLACK | {"url_env": "OTHER_URL"})


def test_at_least_one_destination() -> None:
    with pytest.raises(ValidationError):
        NotifyConfig.model_validate({"destinations": []})


def test_pagerduty_cannot_have_a_digest() -> None:
    with pytest.raises(ValidationError, match="digest"):
        Destination.model_validate(
            {"id": "pd", "kind": "pagerduty", "url_env": "U", "secret_env": "K", "digest": {}}
        )


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Destination.model_validate({"id": "d", "kind": "slack", "url_env": "U", "url": HOOK_URL})


@pytest.mark.parametrize(
    ("severity", "floor", "expected"),
    [
        ("low", "low", True),
        ("medium", "low", True),
        ("critical", "high", True),
        ("high", "high", True),
        ("medium", "high", False),
        ("low", "medium", False),
        ("high", "critical", False),
    ],
)
def test_severity_at_least(severity: str, floor: str, expected: bool) -> None:
    assert severity_at_least(severity, floor) is expected


def test_severity_order() -> None:
    assert SEVERITY_ORDER == ("low", "medium", "high", "critical")
    for i, floor in enumerate(SEVERITY_ORDER):
        assert [severity_at_least(s, floor) for s in SEVERITY_ORDER] == [j >= i for j in range(4)]
