"""The notifier against the real broker and real local HTTP receivers.

Each test has its own alerts topic, consumer group and destination ids (the ledger and the story states
on the shared state topic are keyed by destination), so tests neither see each other's deliveries nor
depend on order. Destinations have the default granularity (a message per story) unless a test says
`granularity: topic`; each alert of `tests.support.alerts.alert(n)` is a story of its own.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.kafka_sink import make_producer
from connectors.notify.config import credentials
from connectors.notify.delivery import Outcome, Sender
from connectors.notify.markup import Rendered
from connectors.notify.notifier import SNOOZE_PREFIX, Notifier, Snoozes
from connectors.notify.signing import verify
from connectors.notify.table import CompactedTable
from connectors.stack.local import LocalStack
from schemas.alert import AlertDoc
from schemas.article import ActorRef
from schemas.notify import Destination, NotifyConfig
from schemas.topics import DEAD_LETTERS, STATE
from tests.support.alerts import SECRET, alert
from tests.support.pipeline import REPO, WATCHFLOOR
from tests.support.receiver import Received, Receiver, Reply


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


class Env:
    def __init__(self, stack: LocalStack, partitions: int = 3) -> None:
        self.bootstrap = stack.settings.kafka_bootstrap
        self.run = uuid.uuid4().hex[:8]
        self.topic = f"wf-notify-{self.run}"
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        admin.create_topics([NewTopic(self.topic, partitions, 1)])
        admin.close()

    def produce(self, alerts: list[AlertDoc], extra: tuple[bytes, ...] = ()) -> None:
        producer = make_producer(self.bootstrap)
        for a in alerts:
            producer.send(
                self.topic, key=a.watchfloor.story_id.encode(), value=json.dumps(a.to_es()).encode()
            )
        for raw in extra:
            producer.send(self.topic, key=b"junk", value=raw)
        producer.flush()
        producer.close()

    def config(
        self, receiver: Receiver, destinations: list[dict[str, object]]
    ) -> tuple[NotifyConfig, dict[str, str]]:
        env = {}
        for d in destinations:
            d["id"] = f"{d['id']}-{self.run}"
            if d.get("granularity") != "topic":
                d.setdefault(
                    "coalesce_s", 1
                )  # the hold is the same code at any length; 1 s keeps tests quick
            var = f"WF_TEST_URL_{self.run}_{len(env)}"
            env[var] = receiver.url(f"/{d['id']}")
            d["url_env"] = var
            if d["kind"] in ("webhook", "pagerduty"):
                d["secret_env"] = f"WF_TEST_SECRET_{self.run}"
                env[d["secret_env"]] = SECRET  # type: ignore[index]
        return NotifyConfig.model_validate(
            {"kibana_url": "http://kibana.test:5601", "destinations": destinations}
        ), env

    def notifier(
        self,
        cfg: NotifyConfig,
        env: dict[str, str],
        group: str = "",
        sender_factory: Callable[[Destination, str, threading.Event], Sender] | None = None,
    ) -> Notifier:
        return Notifier(
            cfg,
            credentials(cfg, env),
            bootstrap=self.bootstrap,
            alerts_topic=self.topic,
            dead_letter_topic=DEAD_LETTERS.name,
            state_topic=STATE.name,
            group_id=group or f"wf-notify-{self.run}",
            sender_factory=sender_factory,
        )


def _stories(received: list[Received]) -> list[dict[str, Any]]:
    """The story of each story message."""
    bodies = [json.loads(r.body) for r in received]
    assert {b["type"] for b in bodies} <= {"watchfloor.story"}, bodies
    return [b["data"] for b in bodies]


def _dead(env: Env) -> list[dict[str, str]]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=env.bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000
    )
    tp = TopicPartition(DEAD_LETTERS.name, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    letters = [json.loads(r.value) for r in consumer]
    consumer.close()
    return [d for d in letters if env.run in d["origin"] or env.topic in d["origin"]]


def test_each_kind_is_delivered_once_signed_and_routed(stack: LocalStack, receiver: Receiver) -> None:
    env = Env(stack)
    alerts = [alert(1, "critical"), alert(2, "high"), alert(3, "medium")]
    env.produce(alerts)
    cfg, secrets = env.config(
        receiver,
        [
            {"id": "hook", "kind": "webhook"},
            {"id": "per-topic", "kind": "webhook", "granularity": "topic"},
            {"id": "slack", "kind": "slack", "route": {"min_severity": "high"}},
            {"id": "teams", "kind": "teams", "route": {"topics": ["leader_visit"]}},
            {"id": "pd", "kind": "pagerduty", "route": {"min_severity": "critical"}},
        ],
    )
    env.notifier(cfg, secrets).run(idle_exit_s=2)

    hook = receiver.at(f"/hook-{env.run}")
    stories = _stories(hook)
    assert sorted(s["story_id"] for s in stories) == sorted(a.watchfloor.story_id for a in alerts)
    assert sorted(t["alert_id"] for s in stories for t in s["topics"]) == sorted(
        a.watchfloor.alert_id for a in alerts
    )
    assert len({r.headers["webhook-id"] for r in hook}) == 3
    for r in hook:
        assert verify(SECRET, r.headers, r.body, now=int(time.time()))
        assert r.headers["idempotency-key"] == r.headers["webhook-id"]
    per_topic = receiver.at(f"/per-topic-{env.run}")  # today's per-alert messages, on request
    assert sorted(r.headers["webhook-id"] for r in per_topic) == sorted(a.watchfloor.alert_id for a in alerts)
    for r in per_topic:
        assert verify(SECRET, r.headers, r.body, now=int(time.time()))
        assert json.loads(r.body)["data"]["alert"]["watchfloor"]["alert_id"] == r.headers["webhook-id"]
    assert len(receiver.at(f"/slack-{env.run}")) == 2  # critical and high only
    assert "http://kibana.test:5601/app/discover" in receiver.at(f"/slack-{env.run}")[0].body.decode()
    assert receiver.at(f"/teams-{env.run}") == []  # routed to another topic
    (page,) = receiver.at(f"/pd-{env.run}")
    event = json.loads(page.body)
    assert event["dedup_key"] == alerts[0].watchfloor.story_id and event["payload"]["severity"] == "critical"

    # A second notifier in the same group finds everything settled: nothing is delivered twice.
    before = len(receiver.received)
    env.produce(alerts[:1])  # and the same alert re-sent by the pipeline (a replay) is skipped
    env.notifier(cfg, secrets).run(idle_exit_s=2)
    assert len(receiver.received) == before


def test_an_idle_exit_comes_only_once_every_partition_is_read(stack: LocalStack, receiver: Receiver) -> None:
    """No quiet spell to wait for: however slow the first fetch, the run reads what the topic holds."""
    env = Env(stack)
    alerts = [alert(n) for n in range(1, 4)]
    env.produce(alerts)
    cfg, secrets = env.config(receiver, [{"id": "hook", "kind": "webhook", "coalesce_s": 0}])
    env.notifier(cfg, secrets).run(idle_exit_s=0)
    delivered = {s["story_id"] for s in _stories(receiver.at(f"/hook-{env.run}"))}
    assert delivered == {a.watchfloor.story_id for a in alerts}


def test_a_notifier_without_partitions_says_so_and_keeps_trying(
    stack: LocalStack, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """Another member of its group holds the only partition: the notifier says it waits, and takes
    over once that member leaves."""
    from kafka import KafkaConsumer

    env = Env(stack, partitions=1)
    waiting = alert(1, story=f"st-waiting-{env.run}")
    env.produce([waiting])
    cfg, secrets = env.config(receiver, [{"id": "hook", "kind": "webhook"}])
    group = f"wf-notify-{env.run}"
    holder = KafkaConsumer(bootstrap_servers=env.bootstrap, group_id=group, enable_auto_commit=False)
    holder.subscribe([env.topic])
    deadline = time.monotonic() + 120
    while not holder.assignment() and time.monotonic() < deadline:
        holder.poll(timeout_ms=200)
    assert holder.assignment(), "the holder never joined the group"
    notifier = env.notifier(cfg, secrets)
    notifier.unassigned_log_s = 0.5
    caplog.set_level(logging.WARNING, logger="watchfloor.notify")
    runner = threading.Thread(target=notifier.run, daemon=True)
    runner.start()
    try:
        while "no partition assigned yet" not in caplog.text and time.monotonic() < deadline:
            holder.poll(timeout_ms=200)  # keeps the holder in the group, and the partition with it
        assert "no partition assigned yet" in caplog.text
        assert receiver.at(f"/hook-{env.run}") == []
        holder.close()
        while not receiver.at(f"/hook-{env.run}") and time.monotonic() < deadline:
            runner.join(timeout=0.2)
        assert [s["story_id"] for s in _stories(receiver.at(f"/hook-{env.run}"))] == [
            waiting.watchfloor.story_id
        ]
    finally:
        notifier.stop()
        runner.join(timeout=60)
        holder.close()


def test_a_story_is_one_message_and_later_only_its_material_changes(
    stack: LocalStack, receiver: Receiver
) -> None:
    env = Env(stack)
    story = f"st-kim-{env.run}"
    cfg, secrets = env.config(
        receiver,
        [{"id": "story", "kind": "webhook"}, {"id": "topic", "kind": "webhook", "granularity": "topic"}],
    )
    at_story, at_topic = f"/story-{env.run}", f"/topic-{env.run}"
    # The first article: the pipeline issues a topic's alert each, moments apart.
    first = [alert(1, "high", story, "arms_transfer"), alert(1, "medium", story, "leader_visit")]
    env.produce(first)
    env.notifier(cfg, secrets).run(idle_exit_s=2)
    (message,) = _stories(receiver.at(at_story))
    assert [t["alert_id"] for t in message["topics"]] == [a.watchfloor.alert_id for a in first]
    assert message["update"]["reason"] == "new_story"

    # After a restart: the pipeline replays both, and a copy naming Shoigu is only a new actor.
    shoigu = ActorRef(id="person:sergei-shoigu", name="Sergei Shoigu", type="person", country="RUS")
    quiet = alert(2, "high", story, "arms_transfer", revision=2, reason="new_actor", actors=(shoigu,))
    env.produce([*first, quiet])
    env.notifier(cfg, secrets).run(idle_exit_s=2)
    assert len(receiver.at(at_story)) == 1

    # A second outlet reports it in its own words: one update for the story, both topics in it.
    confirmed = [
        alert(
            3,
            "high",
            story,
            "arms_transfer",
            revision=3,
            reason="corroborated",
            independent=2,
            actors=(shoigu,),
        ),
        alert(
            3,
            "medium",
            story,
            "leader_visit",
            revision=2,
            reason="corroborated",
            independent=2,
            actors=(shoigu,),
        ),
    ]
    env.produce(confirmed)
    env.notifier(cfg, secrets).run(idle_exit_s=2)
    first_message, update_message = receiver.at(at_story)
    update = _stories([update_message])[0]
    assert update["update"]["message"] == 2
    assert [c["kind"] for c in update["update"]["changes"]] == ["corroborated"]
    assert sorted(t["alert_id"] for t in update["topics"]) == sorted(a.watchfloor.alert_id for a in confirmed)
    assert update_message.headers["webhook-id"] != first_message.headers["webhook-id"]

    # Per topic, each of the five alert revisions is a message of its own.
    topic_ids = sorted(r.headers["webhook-id"] for r in receiver.at(at_topic))
    assert topic_ids == sorted(a.watchfloor.alert_id for a in [*first, quiet, *confirmed])

    # A notifier in a new consumer group reads every alert again; what it remembers keeps it silent.
    before = len(receiver.received)
    env.notifier(cfg, secrets, group=f"wf-notify-{env.run}-again").run(idle_exit_s=2)
    assert len(receiver.received) == before


def test_receiver_errors_are_retried_and_the_last_failure_is_dead_lettered(
    stack: LocalStack, receiver: Receiver
) -> None:
    env = Env(stack)
    flaky, down = alert(1), alert(2, story="st-down", topic="leader_visit")
    env.produce([flaky, down], extra=(b"{not an alert",))
    cfg, secrets = env.config(
        receiver,
        [
            {
                "id": "flaky",
                "kind": "webhook",
                "timeout_s": 1,
                "max_backoff_s": 1,
                "route": {"actors": ["PRK"], "topics": ["arms_transfer"]},
            },
            {
                "id": "down",
                "kind": "webhook",
                "max_attempts": 3,
                "max_backoff_s": 0.5,
                "breaker_cooldown_s": 1,
            },
        ],
    )
    receiver.script(
        f"/flaky-{env.run}",
        Reply(500),
        Reply(429, {"Retry-After": "1"}),
        Reply(200, delay_s=2.5),  # hangs past the 1 s timeout
    )  # then 200 for good
    receiver.script(f"/down-{env.run}", *[Reply(503)] * 20)
    started = time.monotonic()
    env.notifier(cfg, secrets).run(idle_exit_s=2)

    flaky_hits = receiver.at(f"/flaky-{env.run}")
    assert len(flaky_hits) == 4
    assert len({r.headers["webhook-id"] for r in flaky_hits}) == 1  # one message, retried
    assert {s["story_id"] for s in _stories(flaky_hits)} == {flaky.watchfloor.story_id}
    retry_after_gap = flaky_hits[2].at - flaky_hits[1].at
    assert retry_after_gap >= 0.95  # Retry-After honoured
    assert time.monotonic() - started < 60
    assert len(receiver.at(f"/down-{env.run}")) == 2 * 3  # both stories, three attempts each
    letters = _dead(env)
    stages = Counter(d["stage"] for d in letters)
    assert stages == {"NotifyDeliver": 2, "NotifyDecode": 1}
    assert {d["origin"] for d in letters if d["stage"] == "NotifyDeliver"} == {
        f"down-{env.run}/{a.watchfloor.story_id}" for a in (flaky, down)
    }
    assert all("HTTP 503" in d["reason"] for d in letters if d["stage"] == "NotifyDeliver")
    assert all(SECRET not in d["reason"] and "127.0.0.1" not in d["reason"] for d in letters)


@pytest.mark.parametrize(
    ("granularity", "single", "digest", "listed"),
    [
        ("story", "watchfloor.story", "watchfloor.story_digest", "stories"),
        ("topic", "watchfloor.alert", "watchfloor.digest", "alerts"),
    ],
)
def test_digest_collects_low_severity_and_critical_bypasses_it(
    stack: LocalStack, receiver: Receiver, granularity: str, single: str, digest: str, listed: str
) -> None:
    env = Env(stack)
    lows = [alert(n, "low") for n in range(1, 4)]
    critical = alert(9, "critical")
    env.produce([*lows, critical])
    cfg, secrets = env.config(
        receiver,
        [{"id": "digest", "kind": "webhook", "granularity": granularity, "digest": {"every_minutes": 0.05}}],
    )
    env.notifier(cfg, secrets).run(idle_exit_s=5)
    bodies = [json.loads(r.body) for r in receiver.at(f"/digest-{env.run}")]
    assert [b["type"] for b in bodies].count(single) == 1
    digests = [b for b in bodies if b["type"] == digest]
    assert len(digests) == 1
    entries = digests[0]["data"][listed]
    story_ids = {e.get("story_id") or e["alert"]["watchfloor"]["story_id"] for e in entries}
    assert story_ids == {a.watchfloor.story_id for a in lows}  # each low alert is a story of its own


def _headlined(a: AlertDoc, headline: str) -> AlertDoc:
    return a.model_copy(update={"watchfloor": a.watchfloor.model_copy(update={"headline": headline})})


@pytest.mark.parametrize("granularity", ["story", "topic"])
def test_a_teams_digest_too_large_for_teams_is_split_not_dead_lettered(
    stack: LocalStack, granularity: str
) -> None:
    """40 low alerts with long non-Latin headlines and one hostile headline: Teams refuses a body over
    ≈ 28 KB with 413. Here the receiver refuses 10 KB, below our own limit, so both ways of splitting
    run: by our size check, then on the 413."""
    env = Env(stack)
    long_headline = "金正恩委员长可能前往俄罗斯与普京举行武器会谈" * 20
    lows = [_headlined(alert(n, "low"), f"{n}: {long_headline}") for n in range(1, 41)]
    hostile = _headlined(alert(41, "low"), "[click here](http://phish.example/login) " + "炸" * 75_000)
    env.produce([*lows, hostile])
    with Receiver(max_bytes=10_000) as teams:
        cfg, secrets = env.config(
            teams,
            [{"id": "teams", "kind": "teams", "granularity": granularity, "digest": {"every_minutes": 0.05}}],
        )
        env.notifier(cfg, secrets).run(idle_exit_s=5)
        received = teams.at(f"/teams-{env.run}")
    accepted = [json.loads(r.body) for r in received if len(r.body) <= 10_000]
    shown = json.dumps(accepted, ensure_ascii=False)
    for n in range(1, 42):
        assert f"{n}: " in shown or n == 41, f"alert {n} never reached Teams"
    assert "phish.example" in shown and "[click here](" not in shown  # shown as text, not as a link
    assert _dead(env) == []


def _pagerduty_events(receiver: Receiver, env: Env) -> list[tuple[str, str]]:
    return [
        (e["event_action"], e["dedup_key"])
        for e in map(json.loads, (r.body for r in receiver.at(f"/pd-{env.run}")))
    ]


@pytest.mark.parametrize("ending", ["expired", "snoozed_for_good"])
def test_pagerduty_incident_is_resolved_when_its_story_ends(
    stack: LocalStack, receiver: Receiver, ending: str
) -> None:
    """A story expires (`story_ttl_hours` after its last alert) or is snoozed past that: its incident is
    resolved with the dedup_key that opened it, once."""
    env = Env(stack)
    # Stories of this test's own: a snooze is kept on the shared state topic, for every test to see.
    paged, quiet = alert(1, "critical", f"st-paged-{env.run}"), alert(2, "critical", f"st-quiet-{env.run}")
    env.produce([paged, quiet])
    cfg, secrets = env.config(receiver, [{"id": "pd", "kind": "pagerduty"}])
    ttl_s = 1.0 if ending == "expired" else 3600.0
    cfg = cfg.model_copy(update={"story_ttl_hours": ttl_s / 3600})
    env.notifier(cfg, secrets).run(idle_exit_s=2)  # at least 2 s: longer than the 1 s ttl
    opened = sorted(_pagerduty_events(receiver, env))
    assert opened == sorted(("trigger", a.watchfloor.story_id) for a in (paged, quiet))
    if ending == "snoozed_for_good":
        table = CompactedTable(env.bootstrap, STATE.name, SNOOZE_PREFIX)
        Snoozes(table).add("story", paged.watchfloor.story_id, datetime.now(UTC) + timedelta(hours=2))
        table.close()
    for _ in range(2):  # a restarted notifier sweeps at start; the second finds nothing left to resolve
        env.notifier(cfg, secrets).run(idle_exit_s=1)
    resolved = sorted(e for e in _pagerduty_events(receiver, env) if e[0] == "resolve")
    ended = (paged, quiet) if ending == "expired" else (paged,)
    assert resolved == sorted(("resolve", a.watchfloor.story_id) for a in ended)


def test_snoozed_story_and_actor_are_not_delivered(stack: LocalStack, receiver: Receiver) -> None:
    env = Env(stack)
    quiet, loud, other = alert(1, story=f"st-quiet-{env.run}"), alert(2), alert(3)
    other.watchfloor.actor_ids[:] = [f"person:nobody-{env.run}"]
    env.produce([quiet, loud, other])
    table = CompactedTable(env.bootstrap, STATE.name, SNOOZE_PREFIX)
    until = datetime.now(UTC) + timedelta(hours=1)
    Snoozes(table).add("story", quiet.watchfloor.story_id, until)
    Snoozes(table).add("actor", f"person:nobody-{env.run}", until)
    table.close()
    cfg, secrets = env.config(receiver, [{"id": "hook", "kind": "webhook"}])
    env.notifier(cfg, secrets).run(idle_exit_s=2)
    assert [s["story_id"] for s in _stories(receiver.at(f"/hook-{env.run}"))] == [loud.watchfloor.story_id]


@pytest.mark.timeout(120)  # the failure this guards against is a notifier that never returns
def test_a_failing_worker_stops_the_notifier_and_a_restart_delivers_what_it_held(
    stack: LocalStack, receiver: Receiver
) -> None:
    env = Env(stack)
    held = alert(1)
    env.produce([held])
    cfg, secrets = env.config(receiver, [{"id": "hook", "kind": "webhook"}])

    class Broken(Sender):
        def deliver(self, message: Rendered) -> Outcome | None:
            raise RuntimeError("a bug in delivery")

    broken = env.notifier(cfg, secrets, sender_factory=lambda d, url, stop: Broken(d, url, stop=stop))
    with pytest.raises(RuntimeError, match=f"hook-{env.run}"):
        broken.run(idle_exit_s=2)
    env.notifier(cfg, secrets).run(idle_exit_s=2)  # its offset was not committed
    assert [s["story_id"] for s in _stories(receiver.at(f"/hook-{env.run}"))] == [held.watchfloor.story_id]


def test_sigkill_mid_delivery_then_restart_delivers_every_alert_once(
    stack: LocalStack, receiver: Receiver, tmp_path: Path
) -> None:
    env = Env(stack)
    alerts = [alert(n) for n in range(40)]
    env.produce(alerts)
    cfg, secrets = env.config(receiver, [{"id": "hook", "kind": "webhook", "rate_per_minute": 6000}])
    receiver.default = Reply(200, delay_s=0.1)
    (tmp_path / "notify.yaml").write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    run_env = {
        **os.environ,
        **secrets,
        "WATCHFLOOR_NOTIFY_ALERTS_TOPIC": env.topic,
        "WATCHFLOOR_NOTIFY_GROUP_ID": f"wf-notify-{env.run}",
    }
    command = [*WATCHFLOOR, "notify", "--config", str(tmp_path / "notify.yaml")]
    log = (tmp_path / "notify.log").open("ab")
    first = subprocess.Popen(command, cwd=REPO, env=run_env, stdout=log, stderr=subprocess.STDOUT)
    path = f"/hook-{env.run}"
    deadline = time.monotonic() + 60
    while len(receiver.at(path)) < 10 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    before = len(receiver.at(path))
    assert 0 < before < len(alerts), "the kill must land mid-delivery"

    second = subprocess.run(
        [*command, "--idle-exit", "3"],
        cwd=REPO,
        env=run_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        timeout=120,
        check=False,
    )
    assert second.returncode == 0, (tmp_path / "notify.log").read_text()[-3000:]
    keys = Counter(r.headers["webhook-id"] for r in receiver.at(path))
    assert {s["story_id"] for s in _stories(receiver.at(path))} == {a.watchfloor.story_id for a in alerts}
    assert len(keys) == len(alerts)  # none lost: a message per story
    # At most the one in flight when killed is sent twice, with the same idempotency key.
    assert sum(keys.values()) - len(keys) <= 1, keys.most_common(3)
