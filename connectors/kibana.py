"""Install Watchfloor's Kibana assets (deploy/kibana/) through Kibana's HTTP APIs, idempotently.

Data views go through the data views API with ``override: true`` and keep fixed ids
(``watchfloor-alerts``, ``watchfloor-articles``), which the alert links and saved objects refer to.
Saved searches and the dashboard are imported with ``overwrite=true``. Running setup again therefore
replaces the assets instead of duplicating them.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from pydantic import SecretStr

ASSETS = Path(__file__).resolve().parents[1] / "deploy" / "kibana"


class KibanaError(RuntimeError):
    pass


def _check(resp: httpx.Response, what: str) -> None:
    if resp.is_success:
        return
    try:
        detail = resp.json().get("message", "")
    except ValueError:
        detail = resp.text[:300]
    raise KibanaError(f"{what}: HTTP {resp.status_code} {detail}".strip())


def setup_kibana(
    url: str, api_key: SecretStr | None, assets_dir: Path = ASSETS, client: httpx.Client | None = None
) -> list[str]:
    """Create or replace the data views, then import the saved objects; returns what was installed."""
    headers = {"kbn-xsrf": "true"}
    if api_key is not None:
        headers["Authorization"] = f"ApiKey {api_key.get_secret_value()}"
    http = client or httpx.Client(timeout=30)
    base = url.rstrip("/")
    installed = []
    try:
        for path in sorted(assets_dir.glob("data-view-*.json")):
            view = json.loads(path.read_text(encoding="utf-8"))
            resp = http.post(
                f"{base}/api/data_views/data_view",
                json={"data_view": view, "override": True},
                headers=headers,
            )
            _check(resp, f"data view {view['id']}")
            installed.append(f"data view {view['id']}")
        ndjson = assets_dir / "saved-objects.ndjson"
        resp = http.post(
            f"{base}/api/saved_objects/_import",
            params={"overwrite": "true"},
            files={"file": (ndjson.name, ndjson.read_bytes(), "application/ndjson")},
            headers=headers,
        )
        _check(resp, "saved objects import")
        result = resp.json()
        if not result.get("success"):
            failed = [
                f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type')}"
                for e in result.get("errors", [])
            ]
            raise KibanaError(f"saved objects import failed for {failed}")
        installed.append(f"{result.get('successCount', 0)} saved objects")
    finally:
        if client is None:
            http.close()
    return installed
