"""The canonical scenario that every runner must get right: one wire story from three outlets, and noise.

Demo feeds are served as RSS, ingested once onto the test's items topic with one junk message; the job
must write every article once, make the wire story one story with one alert per topic, and leave the
other news without alerts. Shared by the Prism and Flink integration tests.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from elasticsearch import Elasticsearch

from connectors.demo.corpus import Corpus, render_rss
from connectors.kafka_sink import make_producer
from schemas.topics import DEAD_LETTERS
from tests.support.feedserver import FeedServer, Route
from tests.support.pipeline import JobEnv, wait_for

CANONICAL = "kim-putin-arms-talks"
# The canonical story from three outlets, and unrelated stories (two sharing one outlet's footer).
SCENARIO = {CANONICAL, "central-bank-rates", "harbour-storm", "cup-final"}


def progress(es: Elasticsearch, job: JobEnv) -> str:
    articles = len(job.docs(es, job.articles_index))
    return f"{articles} articles, committed {job.committed()}, end offsets {job.end_offsets()}"


def ingest_scenario(job: JobEnv, tmp_path: Path, stories: Collection[str] = SCENARIO) -> dict[str, str]:
    """Ingest the demo feeds of `stories` once, then a junk message; returns feed id -> outlet id."""
    corpus = Corpus.load()
    start = datetime.now(UTC) - timedelta(minutes=10)
    suffix = f"-t{job.run}"
    with FeedServer() as server:
        for outlet in corpus.outlets.values():
            articles = [a for a in corpus.by_outlet(outlet.id) if a.story in stories]
            body = render_rss(outlet, articles, start)
            server.route(
                f"/{outlet.id}.xml", Route(body=body, headers={"Content-Type": "application/rss+xml"})
            )
        feeds = corpus.feeds(lambda o: server.url(f"/{o}.xml"), id_suffix=suffix)
        registry = tmp_path / "demo.yaml"
        registry.write_text(yaml.safe_dump({"feeds": [f.model_dump(mode="json") for f in feeds]}))
        job.ingest_once(registry)
    producer = make_producer(job.settings.kafka_bootstrap)
    producer.send(job.items_topic, key=b"junk", value=b"{not a feed item")
    producer.flush()
    producer.close()
    return {f.id: f.id.removesuffix(suffix) for f in feeds}


def wait_until_all_written(es: Elasticsearch, job: JobEnv, proc: subprocess.Popen[bytes]) -> None:
    """Every scenario article in Elasticsearch and every offset committed (the junk one included)."""
    expected = len({(a.story, a.outlet) for a in Corpus.load().articles if a.story in SCENARIO})
    wait_for(
        lambda: len(job.docs(es, job.articles_index)) == expected and job.committed() == job.end_offsets(),
        timeout=180,
        what="every article written and every offset committed",
        proc=proc,
        status=lambda: progress(es, job),
    )


def is_canonical(article: dict[str, Any]) -> bool:
    """The article (an Elasticsearch document) is a copy of the canonical story, by its link."""
    return CANONICAL in article.get("url", {}).get("full", "")


def check_results(es: Elasticsearch, job: JobEnv, outlets: dict[str, str]) -> None:
    """One article per item, one story for the wire copies, one alert per topic, the junk a dead letter."""
    articles = job.docs(es, job.articles_index)
    expected = len({(a.story, a.outlet) for a in Corpus.load().articles if a.story in SCENARIO})
    assert len(articles) == expected  # one per item: nothing lost, nothing doubled
    by_outlet = {outlets[a["watchfloor"]["feed"]["id"]]: a for a in articles if is_canonical(a)}
    assert set(by_outlet) == {"wire-global", "daily-courier", "asia-monitor"}
    story_ids = {a["story_id"] for a in by_outlet.values()}
    assert len(story_ids) == 1, "three outlets carrying one wire story are one story"
    (story_id,) = story_ids
    others = [a for a in articles if not is_canonical(a)]
    assert len({a["story_id"] for a in others}) == len(others) and story_id not in {
        a["story_id"] for a in others
    }
    assert sum(a["syndicated"] for a in by_outlet.values()) == 2  # the copies do not corroborate
    for article in by_outlet.values():
        assert {"arms_transfer", "leader_visit"} <= set(article["topics"])
        assert {"PRK", "RUS", "person:kim-jong-un", "person:vladimir-putin"} <= set(article["actor_ids"])

    alerts = job.docs(es, job.alerts_index)
    assert alerts and {a["watchfloor"]["story_id"] for a in alerts} == {story_id}  # no alert for the noise
    per_topic: dict[str, list[int]] = defaultdict(list)
    for alert in alerts:
        per_topic[alert["watchfloor"]["topic"]].append(alert["watchfloor"]["revision"])
        assert alert["event"]["kind"] == "alert" and alert["rule"]["name"] == alert["watchfloor"]["topic"]
    assert {"arms_transfer", "leader_visit"} <= set(per_topic)
    for revisions in per_topic.values():  # one alert per topic; revisions only on material change
        assert sorted(revisions) == list(range(1, len(revisions) + 1))
    visit = next(a for a in alerts if a["watchfloor"]["topic"] == "leader_visit")
    assert visit["watchfloor"]["modality"] == "planned_or_possible"
    assert {"PRK", "RUS", "person:kim-jong-un", "person:vladimir-putin"} <= set(
        visit["watchfloor"]["actor_ids"]
    )

    # Searchable the way an analyst searches, and on the notifier's topic with the same ids.
    found = es.search(index=job.alerts_index, query={"match": {"message": "kim putin"}})["hits"]["hits"]
    assert {h["_id"] for h in found} == {a["_id"] for a in alerts}
    messages = job.kafka_messages(job.alerts_topic)
    assert {m["watchfloor"]["alert_id"] for _, m in messages} == {a["_id"] for a in alerts}
    assert {key for key, _ in messages} == {story_id.encode()}
    # The junk message is a dead letter with its origin and reason, and counted as done (all committed).
    letters = [m for _, m in job.kafka_messages(DEAD_LETTERS.name) if m["origin"].startswith(job.items_topic)]
    assert len(letters) == 1 and letters[0]["stage"] == "DecodeItems"
    assert "not a valid FeedItem" in letters[0]["reason"]
