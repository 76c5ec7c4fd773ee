"""Load the notifier's YAML and read each destination's secrets from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import SecretStr

from connectors.notify.notifier import Credentials
from schemas.notify import NotifyConfig


def load_config(path: Path) -> NotifyConfig:
    return NotifyConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def credentials(config: NotifyConfig, env: Mapping[str, str] | None = None) -> dict[str, Credentials]:
    """Every destination's URL and key as secrets; a missing variable is named, its value never shown."""
    env = os.environ if env is None else env
    missing = [
        name for d in config.destinations for name in (d.url_env, d.secret_env) if name and not env.get(name)
    ]
    if missing:
        raise ValueError(f"set these environment variables: {', '.join(sorted(set(missing)))}")
    return {
        d.id: Credentials(SecretStr(env[d.url_env]), SecretStr(env[d.secret_env]) if d.secret_env else None)
        for d in config.destinations
    }
