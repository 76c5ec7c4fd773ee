"""`watchfloor notify` as its own process on a JobEnv's alerts topic, delivering to one signed webhook,
and which stories a webhook sink was told about."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml
from kafka.admin import KafkaAdminClient, NewTopic

from schemas.topics import OPS_ALERTS
from tests.support.alerts import SECRET
from tests.support.pipeline import REPO, WATCHFLOOR, JobEnv
from tests.support.receiver import Receiver


def notify_process(
    job: JobEnv, workdir: Path, sink_url: str, coalesce_s: float = 5
) -> subprocess.Popen[bytes]:
    """`watchfloor notify` on the job's alerts topic, its ops topic a fresh one (no other run's alerts)."""
    ops_topic = f"wf-ops-{job.run}"
    admin = KafkaAdminClient(bootstrap_servers=job.settings.kafka_bootstrap)
    admin.create_topics([NewTopic(ops_topic, OPS_ALERTS.partitions, 1, topic_configs=OPS_ALERTS.configs)])
    admin.close()
    destination = {
        "id": f"hook-{job.run}",
        "kind": "webhook",
        "url_env": "WF_HOOK_URL",
        "secret_env": "WF_HOOK_SECRET",
        "coalesce_s": coalesce_s,
        "rate_per_minute": 600,
    }
    config = workdir / "notify.yaml"
    config.write_text(yaml.safe_dump({"destinations": [destination]}))
    env = {
        **os.environ,
        "WF_HOOK_URL": sink_url,
        "WF_HOOK_SECRET": SECRET,
        "WATCHFLOOR_NOTIFY_ALERTS_TOPIC": job.alerts_topic,
        "WATCHFLOOR_NOTIFY_OPS_TOPIC": ops_topic,
        "WATCHFLOOR_NOTIFY_GROUP_ID": f"wf-notify-{job.run}",
    }
    return subprocess.Popen(
        [*WATCHFLOOR, "notify", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdout=(workdir / "notify.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def story_urls(receiver: Receiver, path: str) -> dict[str, float]:
    """Story URL -> when the sink first received a message for that story."""
    first: dict[str, float] = {}
    for received in receiver.at(path):
        payload = json.loads(received.body)
        stories = payload["data"]["stories"] if payload["type"].endswith("_digest") else [payload["data"]]
        for story in stories:
            first.setdefault(story["url"], received.at)
    return first
