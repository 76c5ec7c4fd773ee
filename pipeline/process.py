"""`ProcessItems`: item messages in, domain records out; what the job does between its source and sinks.

    DecodeItems → ClassifyTopics → KeyByShard → StoryCore (dedup → story → alert decision)

Decoding and classification are stateless and run wherever the runner puts them; the keyed core sees
every item of a shard in one place (pipeline/core.py). Nothing here knows Kafka or Elasticsearch: the
composition root (pipeline/job.py) wires the source, the sinks and the state's restore.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.pvalue import PCollection

from pipeline.core import ShardRestore, StoryCoreFn, keyed
from pipeline.records import ALERTS, DEAD, DONE
from pipeline.transforms import ClassifyFn, DecodeItemFn


class Processed(NamedTuple):
    writes: PCollection[Any]
    """`DocWrite`s: every article, and every alert revision."""
    alerts: PCollection[Any]
    """`AlertMessage`s for the alerts topic."""
    dead: PCollection[Any]
    """`DeadLetter`s of every step."""
    done: PCollection[Any]
    """`Receipt`s of items that need no write (duplicates dropped)."""


class ProcessItems(beam.PTransform[PCollection[Any], Processed]):
    def __init__(self, rules_root: Path, restore: ShardRestore, shards: int = 1) -> None:
        super().__init__()
        self._rules_root = rules_root
        self._restore = restore
        self._shards = shards

    def expand(self, messages: PCollection[Any]) -> Processed:
        decoded = messages | "DecodeItems" >> beam.ParDo(DecodeItemFn()).with_outputs(DEAD, main="items")
        classify = beam.ParDo(ClassifyFn(self._rules_root)).with_outputs(DEAD, main="items")
        classified = decoded.items | "ClassifyTopics" >> classify
        core_fn = beam.ParDo(StoryCoreFn(self._restore)).with_outputs(DEAD, ALERTS, DONE, main="writes")
        core = (
            classified.items
            | "KeyByShard" >> beam.Map(keyed, self._shards).with_output_types(beam.typehints.KV[str, Any])
            | "StoryCore" >> core_fn
        )
        dead = (decoded[DEAD], classified[DEAD], core[DEAD]) | "CollectDeadLetters" >> beam.Flatten()
        return Processed(core.writes, core[ALERTS], dead, core[DONE])
