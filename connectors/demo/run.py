"""``make run``: the whole system on the local stack, fed by the bundled demo (or real feeds).

Starts the stack, a replaying feed server and a webhook sink in this process, then the three jobs as
child processes exactly as an operator would run them (`watchfloor ingest`, `pipeline run`,
`notify`), and shows a live view until Ctrl-C, when it stops everything it started.

Each demo run uses fresh feed ids (``demo-<outlet>-<run>``), and first deletes the previous demo's
documents. Otherwise the story state rebuilt from Elasticsearch would fold the replayed articles
into the last run's stories, and the replay would raise no new alerts.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from connectors.demo.corpus import Corpus
from connectors.demo.server import ReplayFeeds, WebhookSink
from connectors.stack.local import LocalStack
from connectors.stack.process import free_port
from schemas.bundled import DEPLOY
from schemas.settings import PipelineSettings, StackSettings

DEMO_PREFIX = "demo-"
WATCHFLOOR = [sys.executable, "-m", "connectors"]


@dataclass
class Deliveries:
    """What the webhook sink received, for the view: a line per story message (updates marked), or per
    alert from a per-topic destination."""

    lines: list[Text] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, payload: dict[str, Any], verified: bool) -> None:
        data = payload["data"]
        items = {"watchfloor.story_digest": "stories", "watchfloor.digest": "alerts"}.get(
            payload.get("type", "")
        )
        with self.lock:
            self.payloads.append(payload)
            for item in data[items] if items else [data]:
                self.lines.append(_line(item, verified))
                self.count += 1


def _line(item: dict[str, Any], verified: bool) -> Text:
    if "alert" in item:
        w = item["alert"]["watchfloor"]
        kind = "ALERT " if w["revision"] == 1 else f"UPDATE r{w['revision']}"
        severity, what, headline, sources = w["severity"], w["topic"], w["headline"], w["source_count"]
        why = ""
    else:  # a story message
        number = item["update"]["message"]
        kind = "STORY " if number == 1 else f"UPDATE {number}"
        severity, headline, sources = item["severity"], item["headline"], item["sources"]
        what = ", ".join(t["topic"] for t in item["topics"])
        why = "" if number == 1 else "; ".join(c["text"] for c in item["update"]["changes"]) + " "
    style = {"critical": "bold red", "high": "red", "medium": "yellow"}.get(severity, "cyan")
    line = Text(f"{time.strftime('%H:%M:%S')} {kind} ", style="bold")
    line.append(f"[{severity}] {what}", style=style)
    line.append(f" {headline[:80]} ({sources} sources) {why}")
    line.append("signed ✓" if verified else "SIGNATURE INVALID", style="green" if verified else "red")
    return line


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _delete_matching(es: Elasticsearch, index: str, query: dict[str, Any]) -> None:
    """Delete by search and bulk: the local distribution has no delete-by-query (no reindex module)."""
    while True:
        try:
            es.indices.refresh(index=index)
            hits = es.search(index=index, query=query, size=1000, source=False)["hits"]["hits"]
        except NotFoundError:
            return
        if not hits:
            return
        helpers.bulk(es, ({"_op_type": "delete", "_index": index, "_id": h["_id"]} for h in hits))


class Demo:
    def __init__(self, feeds: Path | None, speed: float, console: Console) -> None:
        self.console = console
        self.stack = LocalStack(StackSettings())
        self.pipeline_settings = PipelineSettings()
        self.feeds_file = feeds
        self.speed = speed
        self.run_id = secrets.token_hex(3)
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.deliveries = Deliveries()
        self.metrics_port = free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix="watchfloor-demo-"))
        self.replay: ReplayFeeds | None = None
        self.started = time.monotonic()
        self._rate: tuple[float, float] = (time.monotonic(), 0.0)

    # --- setup --------------------------------------------------------------------------------------

    def _clear_previous_demo(self, es: Elasticsearch) -> None:
        s = self.pipeline_settings
        prefix = {"prefix": {"watchfloor.feed.id": DEMO_PREFIX}}
        for index, query in (
            (s.articles_index, prefix),
            (s.alerts_index, {"prefix": {"watchfloor.sources": DEMO_PREFIX}}),
        ):
            _delete_matching(es, index, query)

    def _registry(self) -> Path:
        if self.feeds_file is not None:
            return self.feeds_file
        assert self.replay is not None
        replay = self.replay
        feeds = replay.corpus.feeds(lambda o: replay.url(f"/feeds/{o}.xml"), id_suffix=f"-{self.run_id}")
        entries = [f.model_dump(mode="json") | {"id": DEMO_PREFIX + f.id} for f in feeds]
        path = self.workdir / "demo-feeds.yaml"
        path.write_text(yaml.safe_dump({"feeds": entries}))
        return path

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [*WATCHFLOOR, *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )

    @contextmanager
    def running(self) -> Iterator[None]:
        self.console.print("[bold]Watchfloor[/] starting the local stack (Kafka, Elasticsearch)…")
        was_up = self.stack.is_healthy()
        self.stack.up()
        es = Elasticsearch(self.stack.settings.es_url)
        sink = WebhookSink(self.secret, self.deliveries.add)
        sink.start()
        try:
            if self.feeds_file is None:
                self._clear_previous_demo(es)
                self.replay = ReplayFeeds(Corpus.load(), speed=self.speed)
                self.replay.start()
            env = {
                **os.environ,
                "WATCHFLOOR_WEBHOOK_URL": sink.url("/hooks/oncall"),
                "WATCHFLOOR_WEBHOOK_SECRET": self.secret,
                "WATCHFLOOR_NOTIFY_GROUP_ID": "watchfloor-notify-demo",
            }
            self._spawn("pipeline", ["pipeline", "run"], env)
            self._spawn("notify", ["notify", "--config", str(DEPLOY / "demo" / "notify.yaml")], env)
            registry = str(self._registry())
            if self.replay is not None:  # it serves on 127.0.0.1, which ingest refuses unless allowed
                env["WATCHFLOOR_INGEST_ALLOW_NETWORKS"] = "127.0.0.1"
            self._spawn(
                "ingest", ["ingest", "--registry", registry, "--metrics-port", str(self.metrics_port)], env
            )
            yield
        finally:
            self.console.print("stopping…")
            for proc in self.procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for name, proc in self.procs.items():
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    self.console.print(f"{name} did not stop in 60 s; killing it")
                    proc.kill()
                    proc.wait()
            if self.replay is not None:
                self.replay.stop()
            sink.stop()
            es.close()
            if not was_up:
                self.stack.down()
            self.console.print(f"stopped; logs in {self.workdir}")

    # --- view ---------------------------------------------------------------------------------------

    def _counts(self, es: Elasticsearch) -> dict[str, Any]:
        s = self.pipeline_settings
        out: dict[str, Any] = {"articles": 0, "stories": 0, "alerts": {}}
        demo = {"prefix": {"watchfloor.feed.id": DEMO_PREFIX}}
        filt = demo if self.feeds_file is None else {"match_all": {}}
        try:
            es.indices.refresh(index=f"{s.articles_index},{s.alerts_index}", ignore_unavailable=True)
            resp = es.search(
                index=s.articles_index,
                size=0,
                query=filt,
                aggs={"stories": {"cardinality": {"field": "story_id"}}},
            )
            out["articles"] = resp["hits"]["total"]["value"]
            out["stories"] = resp["aggregations"]["stories"]["value"]
            demo_alerts = {"prefix": {"watchfloor.sources": DEMO_PREFIX}}
            alerts = es.search(
                index=s.alerts_index,
                size=0,
                query=demo_alerts if self.feeds_file is None else {"match_all": {}},
                aggs={"topics": {"terms": {"field": "rule.name"}}},
            )
            out["alerts"] = {b["key"]: b["doc_count"] for b in alerts["aggregations"]["topics"]["buckets"]}
        except ApiError:
            pass
        return out

    def _ingest_metrics(self) -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=1) as resp:
                return str(resp.read().decode())
        except OSError:
            return ""

    def view(self, es: Elasticsearch) -> Group:
        metrics = self._ingest_metrics()
        published = _metric(metrics, "watchfloor_ingest_items_published_total")
        now = time.monotonic()
        then, before = self._rate
        rate = (published - before) / max(1e-6, now - then)
        self._rate = (now, published)
        counts = self._counts(es)
        table = Table(title="Watchfloor — live", show_header=False, expand=False)
        table.add_row("feeds polled", f"{_metric(metrics, 'watchfloor_ingest_polls_total'):.0f}")
        table.add_row("items published", f"{published:.0f}  ({rate:.1f}/s)")
        table.add_row("articles / stories", f"{counts['articles']} / {counts['stories']}")
        table.add_row(
            "alerts by topic", ", ".join(f"{k} {v}" for k, v in sorted(counts["alerts"].items())) or "—"
        )
        table.add_row("webhook deliveries", str(self.deliveries.count))
        table.add_row(
            "jobs", ", ".join(f"{n} {'up' if p.poll() is None else 'EXITED'}" for n, p in self.procs.items())
        )
        if self.replay is not None:
            left = max(0.0, self.replay.duration_s - (now - self.started))
            table.add_row(
                "demo replay", f"{left:.0f} s of news left" if left else "all news out; Ctrl-C to stop"
            )
        with self.deliveries.lock:
            lines = self.deliveries.lines[-12:]
        return Group(table, Text("deliveries (local webhook sink):", style="bold"), *lines)


def run_demo(
    feeds: Path | None = None,
    speed: float = 1.0,
    duration_s: float | None = None,
    summary: Path | None = None,
) -> None:
    """Until Ctrl-C, SIGTERM or `duration_s`; `summary` gets every delivery the sink received (JSON)."""
    console = Console()
    demo = Demo(feeds, speed, console)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deadline = None if duration_s is None else time.monotonic() + duration_s
    with demo.running():
        es = Elasticsearch(demo.stack.settings.es_url)
        try:
            with Live(demo.view(es), console=console, refresh_per_second=2) as live:
                while not stop.wait(1.0) and (deadline is None or time.monotonic() < deadline):
                    live.update(demo.view(es))
        except KeyboardInterrupt:
            pass
        finally:
            es.close()
    if summary is not None:
        with demo.deliveries.lock:
            summary.write_text(json.dumps({"run_id": demo.run_id, "deliveries": demo.deliveries.payloads}))
