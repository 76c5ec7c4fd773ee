"""Silence alerts end to end: a `watchfloor ingest` process, the notifier and a local webhook sink,
with the real broker. A wire feed whose learned cadence says it is overdue raises an operational alert
that reaches the sink at once (wire tier: medium, not digested); when the feed publishes again, the
clear reaches the sink too, under the same episode id.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient, NewTopic

from connectors.feeds.digest import DigestRequest, digest
from connectors.kafka_sink import make_producer
from connectors.notify.config import credentials
from connectors.notify.notifier import Notifier
from connectors.notify.signing import verify
from connectors.stack.local import LocalStack
from schemas.feed import FeedConfig
from schemas.feedstate import FeedState
from schemas.notify import NotifyConfig
from schemas.topics import DEAD_LETTERS, OPS_ALERTS, STATE
from tests.integration.test_websub import Ingest, feed_route, wait_for
from tests.support.alerts import SECRET
from tests.support.feeds import rss
from tests.support.feedserver import FeedServer
from tests.support.receiver import Receiver


def _topics(bootstrap: str, run: str) -> tuple[str, str]:
    state, ops = f"wf-health-state-{run}", f"wf-health-ops-{run}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics(
        [
            NewTopic(state, STATE.partitions, 1, topic_configs=STATE.configs),
            NewTopic(ops, OPS_ALERTS.partitions, 1, topic_configs=OPS_ALERTS.configs),
        ]
    )
    admin.close()
    return state, ops


def _ops_messages(receiver: Receiver, path: str) -> list[dict[str, Any]]:
    found = []
    for received in receiver.at(path):
        assert verify(SECRET, received.headers, received.body, now=int(time.time()))
        found += json.loads(received.body)["ops_alerts"]
    return found


def test_a_silent_wire_feed_raises_an_alert_that_reaches_the_sink_and_clears_when_it_publishes(
    stack: LocalStack, tmp_path: Path
) -> None:
    bootstrap = stack.settings.kafka_bootstrap
    run = uuid.uuid4().hex[:8]
    state_topic, ops_topic = _topics(bootstrap, run)
    feed_id = f"health-{run}"
    with FeedServer() as server, Receiver() as receiver:
        url = server.url(f"/{feed_id}.xml")
        feed = {
            "id": feed_id,
            "url": url,
            "name": "Wire",
            "tier": "wire",
            "min_interval_s": 30,
            "max_interval_s": 30,
        }
        old_items = rss(feed_id, 2)
        server.route(f"/{feed_id}.xml", feed_route(old_items))  # the feed stopped publishing
        now = datetime.now(UTC)
        seen = digest(DigestRequest(old_items, {}, url, FeedConfig.model_validate(feed), now)).items
        # What the ingester learned before: an item every 3 s, the last 20 s ago, both already published.
        learned = FeedState(
            feed_id=feed_id,
            url=url,
            next_due=now,
            interval_s=30,
            last_new_item=now - timedelta(seconds=20),
            last_success=now - timedelta(seconds=1),
            mean_gap_s=3.0,
            recent_ids=[i.item_id for i in seen],
        )
        producer = make_producer(bootstrap)
        producer.send(state_topic, key=learned.key.encode(), value=learned.model_dump_json().encode()).get(60)
        producer.close()

        config = NotifyConfig.model_validate(
            {
                "destinations": [
                    {"id": f"ops-{run}", "kind": "webhook", "url_env": "WF_URL", "secret_env": "WF_SECRET"}
                ]
            }
        )
        env = {"WF_URL": receiver.url("/ops"), "WF_SECRET": SECRET}
        notifier = Notifier(
            config,
            credentials(config, env),
            bootstrap=bootstrap,
            alerts_topic=ops_topic,  # no news alerts in this test: the ops topic stands in
            dead_letter_topic=DEAD_LETTERS.name,
            state_topic=state_topic,
            group_id=f"wf-health-{run}",
            ops_topic=ops_topic,
        )
        thread = threading.Thread(target=notifier.run, daemon=True)
        thread.start()
        ingest = Ingest(
            tmp_path,
            [feed],
            state_topic,
            WATCHFLOOR_INGEST_OPS_TOPIC=ops_topic,
            WATCHFLOOR_INGEST_HEALTH_CHECK_S="1",
            WATCHFLOOR_INGEST_HEALTH_SILENT_FACTOR="2",
            WATCHFLOOR_INGEST_HEALTH_SILENT_FLOOR_S="0",
        )
        try:
            wait_for("the silence alert", lambda: _ops_messages(receiver, "/ops"), timeout_s=120)
            firing = _ops_messages(receiver, "/ops")[0]
            assert (firing["kind"], firing["status"], firing["subject"]) == ("feed_silent", "firing", feed_id)
            assert firing["severity"] == "medium"  # a wire feed: up from the default low, so not digested
            server.route(f"/{feed_id}.xml", feed_route(rss(feed_id, 3)))  # it publishes again
            wait_for("the clear", lambda: len(_ops_messages(receiver, "/ops")) >= 2)
            cleared = _ops_messages(receiver, "/ops")[1]
            assert (cleared["status"], cleared["ops_id"]) == ("cleared", firing["ops_id"])
        finally:
            ingest.stop()
            notifier.stop()
            thread.join(30)
        assert len(_ops_messages(receiver, "/ops")) == 2
