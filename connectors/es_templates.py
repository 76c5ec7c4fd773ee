"""Install Watchfloor's index templates (``schemas/es``) into Elasticsearch; idempotent (PUT by name)."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from schemas.es import templates


def install_templates(es_url: str) -> list[str]:
    """Create or update every template; returns their names."""
    es = Elasticsearch(es_url, request_timeout=30)
    try:
        for name, body in templates().items():
            es.indices.put_index_template(name=f"watchfloor-{name}", **body)
        return [f"watchfloor-{name}" for name in templates()]
    finally:
        es.close()
