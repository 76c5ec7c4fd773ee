"""Install Watchfloor's Kibana assets (deploy/kibana/) through Kibana's HTTP APIs, idempotently.

Data views go through the data views API with ``override: true`` and fixed ids (``watchfloor-alerts``,
``watchfloor-articles``): the alert links and the saved objects refer to those ids, and override replaces
a data view of the same title instead of failing. Saved searches, Lens charts and the dashboard are
imported with ``overwrite=true``, so running setup again replaces them instead of duplicating them.
The saved objects declare the versions of their shape (core 8.8.0), so Kibana 8.8+ and 9.x migrate them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from schemas.bundled import DEPLOY

ASSETS = DEPLOY / "kibana"
SAVED_OBJECTS = "saved-objects.ndjson"


class KibanaError(RuntimeError):
    pass


def _detail(resp: httpx.Response) -> str:
    """Kibana's own explanation: the ``message`` of its JSON error body, else the start of the body."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    return str(body.get("message", "")) if isinstance(body, dict) else str(body)[:300]


def _import_errors(result: dict[str, Any]) -> list[str]:
    """One line per object Kibana refused, e.g. ``lens/x: missing_references index-pattern/y``."""
    lines = []
    for err in result.get("errors", []):
        error = err.get("error", {})
        missing = [f"{r.get('type')}/{r.get('id')}" for r in error.get("references", [])]
        why = " ".join(missing) or error.get("message", "")
        lines.append(f"{err.get('type')}/{err.get('id')}: {error.get('type')} {why}".strip())
    return lines


def setup_kibana(
    url: str, api_key: SecretStr | None, assets_dir: Path, client: httpx.Client | None = None
) -> list[str]:
    """Create or replace the data views, then import the saved objects; returns what was installed.

    Errors name the step, Kibana's status and message, never the API key.
    """
    key = api_key.get_secret_value() if api_key is not None else ""
    headers = {"kbn-xsrf": "true"} | ({"Authorization": f"ApiKey {key}"} if key else {})
    base = url.rstrip("/")
    http = client or httpx.Client(timeout=30)

    def post(what: str, path: str, **kwargs: Any) -> httpx.Response:
        resp = http.post(f"{base}{path}", headers=headers, **kwargs)
        if not resp.is_success:
            detail = _detail(resp).replace(key, "***") if key else _detail(resp)
            raise KibanaError(f"{what}: HTTP {resp.status_code} {detail}".strip())
        return resp

    installed = []
    try:
        for path in sorted(assets_dir.glob("data-view-*.json")):
            view = json.loads(path.read_text(encoding="utf-8"))
            post(
                f"data view {view['id']}",
                "/api/data_views/data_view",
                json={"data_view": view, "override": True},
            )
            installed.append(f"data view {view['id']}")
        ndjson = (assets_dir / SAVED_OBJECTS).read_bytes()
        resp = post(
            "saved objects import",
            "/api/saved_objects/_import?overwrite=true",
            files={"file": (SAVED_OBJECTS, ndjson, "application/ndjson")},
        )
    finally:
        if client is None:
            http.close()
    try:
        result = resp.json()
    except ValueError as exc:
        raise KibanaError(f"saved objects import: not JSON: {resp.text[:300]}") from exc
    if not result.get("success"):
        raise KibanaError(f"saved objects import failed: {'; '.join(_import_errors(result)) or result}")
    objects = [json.loads(line) for line in ndjson.decode().splitlines() if line.strip()]
    return installed + [f"{o['type']} {o['id']}" for o in objects]
