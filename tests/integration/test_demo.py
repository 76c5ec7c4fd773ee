"""`make run`'s demo end to end: replayed feeds → ingest → pipeline → notifier → local webhook sink,
then the analyst finds the alerts with `watchfloor search` and `watchfloor alerts`.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

from connectors.stack.local import LocalStack
from tests.support.pipeline import REPO, WATCHFLOOR

CANONICAL_TOPICS = {"arms_transfer", "leader_visit"}


def _cli(*args: str) -> list[dict[str, object]]:
    out = subprocess.run([*WATCHFLOOR, *args], cwd=REPO, capture_output=True, check=True, timeout=60)
    return [json.loads(line) for line in out.stdout.decode().splitlines() if line.strip()]


def test_demo_prints_one_alert_per_topic_for_the_canonical_story_and_search_finds_it(
    stack: LocalStack, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.json"
    demo = subprocess.run(
        [*WATCHFLOOR, "demo", "--speed", "30", "--duration", "75", "--summary", str(summary)],
        cwd=REPO,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout.decode()[-3000:] + demo.stderr.decode()[-3000:]
    assert b"stopped" in demo.stdout

    deliveries = json.loads(summary.read_text())["deliveries"]
    alerts = [d["data"]["alert"] for d in deliveries if d["type"] == "watchfloor.alert"]
    # The wire story, its copies and the Kremlin's later response (all headlines name Kim) are one story.
    canonical = [a for a in alerts if "Kim" in a["watchfloor"]["headline"]]
    story_ids = {a["watchfloor"]["story_id"] for a in canonical}
    assert len(story_ids) == 1, "the canonical story is one story"
    first_alerts = Counter(a["watchfloor"]["topic"] for a in canonical if a["watchfloor"]["revision"] == 1)
    assert set(first_alerts) >= CANONICAL_TOPICS
    assert all(n == 1 for n in first_alerts.values()), first_alerts  # exactly one alert per topic
    assert len({a["watchfloor"]["alert_id"] for a in alerts}) == len(alerts)  # none delivered twice

    (story_id,) = story_ids
    found = _cli(
        "search", "kim putin", "--topic", "arms_transfer", "--actor", "PRK", "--since", "24h", "--json"
    )
    assert story_id in {f["story_id"] for f in found}
    listed = _cli("alerts", "list", "--topic", "leader_visit", "--json")
    ids = {a["watchfloor"]["alert_id"] for a in listed if a["watchfloor"]["story_id"] == story_id}  # type: ignore[index]
    assert ids, "the analyst finds the alert"
    (detail,) = _cli("alerts", "show", sorted(ids)[0], "--json")  # type: ignore[arg-type]
    assert len({a["feed_id"] for a in detail["articles"]}) >= 3  # type: ignore[union-attr]
