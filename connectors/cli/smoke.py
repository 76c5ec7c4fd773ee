"""``watchfloor smoke``: the end-to-end smoke run — Kafka → streaming Beam on Prism → Elasticsearch."""

from __future__ import annotations

import json
import time
import uuid

import typer

from schemas.settings import LogLevel, PipelineSettings, StackSettings


def smoke(
    messages: int = typer.Option(100, help="How many JSON messages to produce."),
    timeout: float = typer.Option(180.0, help="Seconds to wait for every document to be searchable."),
) -> None:
    """Produce N JSON messages, run the streaming smoke pipeline until all are in Elasticsearch, cancel it."""
    # Beam and the clients load only when this command runs, so the rest of the CLI starts fast.
    import apache_beam as beam
    from elasticsearch import ApiError, Elasticsearch
    from kafka.admin import KafkaAdminClient, NewTopic

    from connectors.kafka_sink import make_producer
    from connectors.logging import configure_logging, quiet_teardown
    from connectors.stack.local import LocalStack
    from pipeline import smoke as smoke_pipeline
    from pipeline.runner import streaming_options

    configure_logging(LogLevel.WARNING)
    settings = StackSettings()
    LocalStack(settings).up()
    run_id = uuid.uuid4().hex[:8]
    topic, index = f"watchfloor.smoke.{run_id}", f"watchfloor-smoke-{run_id}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    producer = make_producer(settings.kafka_bootstrap)
    for i in range(messages):
        producer.send(topic, key=f"msg-{i:05d}".encode(), value=json.dumps({"n": i, "run": run_id}).encode())
    producer.flush()
    typer.echo(f"produced {messages} messages to {topic}")

    cfg = smoke_pipeline.SmokeConfig(
        settings.kafka_bootstrap, settings.es_url, topic, index, PipelineSettings().dead_letter_topic
    )
    pipeline = beam.Pipeline(options=streaming_options(settings))
    smoke_pipeline.build(pipeline, cfg)
    started = time.monotonic()
    result = pipeline.run()
    es = Elasticsearch(settings.es_url)
    count = 0
    try:
        while time.monotonic() - started < timeout:
            try:
                count = es.count(index=index)["count"]
            except ApiError:  # 404 not created yet, or 503 while its shard starts
                count = 0
            if count >= messages:
                break
            time.sleep(0.5)
    finally:
        # Cancelling tears workers down mid-bundle; their tracebacks say nothing about the run.
        quiet_teardown()
        result.cancel()
    elapsed = time.monotonic() - started
    typer.echo(
        f"{count}/{messages} documents searchable in {index} after {elapsed:.1f}s; pipeline {result.state}"
    )
    if count != messages:
        raise typer.Exit(1)
