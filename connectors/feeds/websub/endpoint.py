"""What the callback server does with a push: authenticate it, then ingest it through the poll path.

The answer tells the hub what to do next: 2xx when the items are in Kafka (or the push was ignored:
forged, or a body no retry can fix, which is dead-lettered), 410 Gone for a subscription we no longer
hold, 503 when Kafka did not acknowledge (the items or the dead letter) or the feed leases are being
rebalanced, so the hub delivers it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from connectors.feeds.ingest import Ingester
from connectors.feeds.websub.callback import Deliver
from connectors.feeds.websub.subscriber import PushRejected, Subscriber

log = logging.getLogger("watchfloor.ingest")


def push_endpoint(subscriber: Subscriber, ingester: Ingester) -> Deliver:
    def deliver(token: str, headers: Mapping[str, str], body: bytes) -> int:
        try:
            push = subscriber.authenticate(token, headers, body)
        except PushRejected as exc:
            ingester.metrics.pushes.labels(exc.reason).inc()
            log.warning("websub push ignored", extra={"event.reason": exc.reason, "bytes": len(body)})
            return exc.status
        feed = next((f for f in ingester.feeds if f.id == push.feed_id and f.enabled), None)
        if feed is None:
            ingester.metrics.pushes.labels("unknown_feed").inc()
            return 410
        outcome = ingester.push(feed, body, headers, push.topic)
        return 503 if outcome.error_kind == "publish" else 202

    return deliver
