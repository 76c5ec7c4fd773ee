"""``watchfloor pipeline run``: the streaming job, on the local runner unless told otherwise."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path

import typer

from connectors.cli.errors import fail
from connectors.cli.logs import FormatOpt, LevelOpt
from schemas.settings import LogFormat, LogLevel, PipelineSettings, StackSettings

app = typer.Typer(help="The streaming Beam job: items → stories, topics, alerts.", no_args_is_help=True)


@app.command("run")
def run(
    runner: str = typer.Option(
        "prism", help="prism (local, default), flink or dataflow; see deploy/README.md."
    ),
    parallelism: int = typer.Option(
        1, min=1, help="Flink only: the job's parallelism (its stateful core is keyed; see deploy/README.md)."
    ),
    flink_master: str = typer.Option(
        "local", help="Flink only: local (a MiniCluster in the job server) or a JobManager's HOST:PORT."
    ),
    rules: Path | None = typer.Option(None, help="Directory with rules/, gazetteer/ and watchlist.yaml."),
    extra: list[str] = typer.Option([], "--beam-arg", help="Extra Beam pipeline option, repeatable."),
    log_level: LogLevel | None = LevelOpt,
    log_format: LogFormat | None = FormatOpt,
) -> None:
    """Run until SIGTERM or Ctrl-C, then cancel the job (offsets are committed only after writes).

    Exit 0 after a stop asked for; exit 1 when the job cannot start or stops by itself (its runner's
    error is logged), which a supervisor answers with a restart (docs/operations.md). On Flink, the job
    server JVM this starts is stopped after the cancel: a cancelled job keeps running inside a local
    MiniCluster, and only stopping the JVM ends it."""
    import apache_beam as beam
    import grpc  # type: ignore[import-untyped]

    from connectors.logging import MainThreadOnly, configure_logging, quiet_teardown
    from connectors.stack.flink import FlinkJobServer
    from connectors.stack.process import StackError
    from pipeline.job import JobConfig, build, prepare
    from pipeline.runner import JobWatch, streaming_options

    configure_logging(log_level, log_format)
    log = logging.getLogger("watchfloor.pipeline")
    stack = StackSettings()
    settings = PipelineSettings()
    if rules is not None:
        settings = settings.model_copy(update={"rules_root": rules})
    cfg = JobConfig(stack.kafka_bootstrap, stack.es_url, settings.resolved())
    try:
        prepare(cfg)
    except Exception as exc:
        fail(exc, "pipeline cannot start")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with contextlib.ExitStack() as resources:
        endpoint = None
        if runner == "flink":
            master = "[local]" if flink_master == "local" else flink_master
            try:
                endpoint = resources.enter_context(FlinkJobServer(stack, master))
            except StackError as exc:
                fail(exc, "pipeline cannot start")
        pipeline = beam.Pipeline(options=streaming_options(stack, runner, extra, endpoint, parallelism))
        build(pipeline, cfg)
        result = pipeline.run()
        watch = JobWatch(result)
        log.info("pipeline running", extra={"runner": runner, "parallelism": parallelism})
        while not stop.wait(1.0):
            if watch.ended.is_set():
                trace = {"error.stack_trace": watch.error} if watch.error else {}
                log.error(
                    "pipeline stopped by itself: %s",
                    watch.reason,
                    extra={"error.message": watch.reason, **trace},
                )
                raise typer.Exit(1)
        # Cancelling tears workers down mid-bundle; their tracebacks say nothing about the run. Beam logs
        # them (`quiet_teardown`) and prints them to stderr from its worker threads. So does kafka-python
        # (its network thread reading a socket the consumer just closed: "'NoneType' object has no
        # attribute 'recv'" from kafka/net/transport.py): offsets were committed only after the sinks,
        # before any of this.
        quiet_teardown()
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
        sys.stderr = MainThreadOnly(sys.stderr)
        try:
            result.cancel()
        except grpc.RpcError:  # Ctrl-C in a terminal signals the runner too; the job went down with it
            log.info("pipeline stopped with its runner")
            return
        log.info("pipeline cancelled", extra={"state": str(result.state)})
