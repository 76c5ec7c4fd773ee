"""Notifier benchmark (issue D): deliveries/s to a local receiver, and the notifier's overhead per delivery.

Side by side in one run, to the same local receiver:
- a plain loop of signed HTTP POSTs (httpx, the same rendering), which is the floor;
- the notifier: Kafka consume, routing, ledger write (acks=all) per delivery, render and sign, HTTP POST,
  offset commits.
Overhead per delivery = (notifier time - plain time) / deliveries.

    .venv/bin/python -m bench.notify [--alerts 500]     (needs `watchfloor stack up`)
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime

import httpx
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.kafka_sink import make_producer
from connectors.notify.config import credentials
from connectors.notify.formats import render
from connectors.notify.notifier import Notifier
from schemas.notify import NotifyConfig
from schemas.settings import StackSettings
from schemas.topics import DEAD_LETTERS, STATE
from tests.support.alerts import SECRET, alert
from tests.support.receiver import Receiver


def _span(receiver: Receiver, path: str) -> float:
    times = [r.at for r in receiver.at(path)]
    return max(times) - min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=500)
    args = parser.parse_args()
    settings = StackSettings()
    run = uuid.uuid4().hex[:8]
    topic = f"wf-bench-notify-{run}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 3, 1)])
    admin.close()
    alerts = [alert(n, story=f"st-bench-{run}-{n}") for n in range(args.alerts)]
    producer = make_producer(settings.kafka_bootstrap)
    for a in alerts:
        producer.send(
            topic, key=a.watchfloor.story_id.encode(), value=a.model_dump_json(by_alias=True).encode()
        )
    producer.flush()
    producer.close()

    with Receiver() as receiver:
        cfg = NotifyConfig.model_validate(
            {
                "destinations": [
                    {
                        "id": f"bench-{run}",
                        "kind": "webhook",
                        "url_env": "URL",
                        "secret_env": "SECRET",
                        "rate_per_minute": 1e9,
                        "granularity": "topic",  # a message per alert, as the plain loop sends
                    }
                ]
            }
        )
        env = {"URL": receiver.url("/plain"), "SECRET": SECRET}
        (dest,) = cfg.destinations
        with httpx.Client() as client:
            for a in alerts:
                msg = render(
                    dest,
                    [a],
                    kibana_url=cfg.kibana_url,
                    secret=SECRET,
                    msg_id=a.watchfloor.alert_id,
                    now=datetime.now(UTC),
                )
                client.post(env["URL"], content=msg.body, headers=msg.headers).raise_for_status()

        env["URL"] = receiver.url("/notifier")
        notifier = Notifier(
            cfg,
            credentials(cfg, env),
            bootstrap=settings.kafka_bootstrap,
            alerts_topic=topic,
            dead_letter_topic=DEAD_LETTERS.name,
            state_topic=STATE.name,
            group_id=f"wf-bench-{run}",
        )
        notifier.run(idle_exit_s=1.0)
        got = {r.headers["webhook-id"] for r in receiver.at("/notifier")}
        # First to last delivery as the receiver saw them: group join and idle exit are not delivery work.
        plain = _span(receiver, "/plain")
        elapsed = _span(receiver, "/notifier")
    assert got == {a.watchfloor.alert_id for a in alerts}, "every alert delivered"
    n = len(alerts) - 1  # deliveries after the first
    print(f"plain signed POST loop   {n / plain:8.0f} deliveries/s")
    print(f"notifier (Kafka → HTTP)  {n / elapsed:8.0f} deliveries/s   ratio {plain / elapsed:.2f}")
    overhead_ms = (elapsed - plain) / n * 1000
    print(f"notifier overhead        {overhead_ms:8.2f} ms per delivery (acks=all ledger write, Kafka)")


if __name__ == "__main__":
    main()
