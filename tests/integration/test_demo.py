"""`make run`'s demo end to end: replayed feeds → ingest → pipeline → notifier → local webhook sink,
then the analyst finds the alerts with `watchfloor search` and `watchfloor alerts`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from connectors.stack.local import LocalStack
from tests.support.pipeline import REPO, WATCHFLOOR

CANONICAL_TOPICS = {"arms_transfer", "leader_visit"}


def _cli(*args: str) -> list[dict[str, object]]:
    out = subprocess.run([*WATCHFLOOR, *args], cwd=REPO, capture_output=True, check=True, timeout=60)
    return [json.loads(line) for line in out.stdout.decode().splitlines() if line.strip()]


def test_demo_sends_one_message_for_the_canonical_story_and_search_finds_its_alerts(
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
    stories = [d["data"] for d in deliveries if d["type"] == "watchfloor.story"]
    # The wire story, its copies and the Kremlin's later response (all headlines name Kim) are one story.
    canonical = [s for s in stories if "Kim" in s["headline"]]
    story_ids = {s["story_id"] for s in canonical}
    assert len(story_ids) == 1, "the canonical story is one story"
    # One message as it breaks, with every topic of the first article; at most one update after it
    # (the independent follow-up), however many alert revisions the pipeline issued.
    assert 1 <= len(canonical) <= 2, [s["update"] for s in canonical]
    assert canonical[0]["update"]["reason"] == "new_story"
    assert {t["topic"] for t in canonical[0]["topics"]} >= CANONICAL_TOPICS
    assert [s["update"]["message"] for s in canonical] == list(range(1, len(canonical) + 1))
    numbered = [(s["story_id"], s["update"]["message"]) for s in stories]
    assert len(set(numbered)) == len(numbered)  # none delivered twice

    (story_id,) = story_ids
    found = _cli(
        "search", "kim putin", "--topic", "arms_transfer", "--actor", "PRK", "--since", "24h", "--json"
    )
    assert story_id in {f["story_id"] for f in found}
    # Elasticsearch keeps an alert per (story, topic): the analyst finds each topic's.
    for topic in sorted(CANONICAL_TOPICS):
        listed = _cli("alerts", "list", "--topic", topic, "--json")
        ids = {a["watchfloor"]["alert_id"] for a in listed if a["watchfloor"]["story_id"] == story_id}  # type: ignore[index]
        assert ids, f"the analyst finds the {topic} alert"
    (detail,) = _cli("alerts", "show", sorted(ids)[0], "--json")  # type: ignore[arg-type]
    assert len({a["watchfloor"]["feed"]["id"] for a in detail["articles"]}) >= 3  # type: ignore[union-attr]
