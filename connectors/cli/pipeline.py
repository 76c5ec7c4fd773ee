"""``watchfloor pipeline run``: the streaming job, on the local runner unless told otherwise."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from pathlib import Path

import typer

from connectors.cli.errors import fail
from schemas.settings import PipelineSettings, StackSettings

app = typer.Typer(help="The streaming Beam job: items → stories, topics, alerts.", no_args_is_help=True)


@app.command("run")
def run(
    runner: str = typer.Option(
        "prism", help="prism (local, default), flink or dataflow; see deploy/README.md."
    ),
    parallelism: int = typer.Option(
        1, min=1, help="Flink only. Above 1 is not correct yet: see deploy/README.md."
    ),
    flink_master: str = typer.Option(
        "local", help="Flink only: local (a MiniCluster in the job server) or a JobManager's HOST:PORT."
    ),
    rules: Path | None = typer.Option(None, help="Directory with rules/, gazetteer/ and watchlist.yaml."),
    extra: list[str] = typer.Option([], "--beam-arg", help="Extra Beam pipeline option, repeatable."),
) -> None:
    """Run until SIGTERM or Ctrl-C, then cancel the job (offsets are committed only after writes).

    On Flink, the job server JVM this starts is stopped after the cancel: a cancelled job keeps running
    inside a local MiniCluster, and only stopping the JVM ends it.
    """
    import apache_beam as beam
    import grpc  # type: ignore[import-untyped]

    from connectors.logging import configure_logging
    from connectors.stack.flink import FlinkJobServer
    from connectors.stack.process import StackError
    from pipeline.job import JobConfig, build, prepare
    from pipeline.runner import streaming_options

    # Beam logs per-bundle statistics at INFO on the root logger: our own loggers alone speak at INFO.
    configure_logging("WARNING")
    for ours in ("watchfloor", "pipeline", "connectors"):
        logging.getLogger(ours).setLevel(logging.INFO)
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
        log.info("pipeline running", extra={"run_id": cfg.run_id, "runner": runner})
        while not stop.wait(1.0):
            state = str(result.state)
            if not state.endswith("RUNNING") and not state.endswith("STARTING"):
                log.error("pipeline stopped by itself", extra={"state": state})
                raise typer.Exit(1)
        # Cancelling tears workers down mid-bundle; their tracebacks say nothing about the run.
        logging.getLogger("apache_beam.runners.worker").setLevel(logging.CRITICAL)
        try:
            result.cancel()
        except grpc.RpcError:  # Ctrl-C in a terminal signals Prism too; the job went down with it
            log.info("pipeline stopped with its runner")
            return
        log.info("pipeline cancelled", extra={"state": str(result.state)})
