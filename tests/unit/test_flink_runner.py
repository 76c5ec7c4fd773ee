"""Flink runner plumbing: the launcher jar's manifest and the options a Flink run is submitted with."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import PortableOptions, StandardOptions

from connectors.stack.artifacts import write_launcher_jar
from connectors.stack.flink import FlinkJobServer
from connectors.stack.process import StackError
from pipeline.runner import flink_args, streaming_options
from schemas.settings import StackSettings


def _manifest(jar: Path) -> tuple[list[bytes], dict[str, str]]:
    raw = zipfile.ZipFile(jar).read("META-INF/MANIFEST.MF")
    lines = raw.split(b"\r\n")
    fields: dict[str, str] = {}
    name = ""
    for line in lines:
        if line.startswith(b" "):  # a continuation of the previous field
            fields[name] += line[1:].decode()
        elif line:
            name, value = line.decode().split(": ", 1)
            fields[name] = value
    return lines, fields


def test_launcher_manifest_names_main_class_and_the_whole_class_path_in_72_byte_lines(tmp_path: Path) -> None:
    class_path = [f"libs/some-long-artifact-name-{n}-2.70.0.jar" for n in range(40)]
    jar = tmp_path / "launcher.jar"
    write_launcher_jar(jar, "org.example.Main", class_path)
    lines, fields = _manifest(jar)
    assert fields["Main-Class"] == "org.example.Main"
    assert fields["Class-Path"].split(" ") == class_path
    assert max(len(line) for line in lines) == 72  # wrapped, and at the limit
    assert lines[-2:] == [b"", b""]  # the manifest ends with an empty line


def test_flink_run_checkpoints_and_finishes_bundles_before_each_checkpoint() -> None:
    args = flink_args("127.0.0.1:4711", parallelism=2)
    assert "--job_endpoint=127.0.0.1:4711" in args and "--parallelism=2" in args
    assert any(a.startswith("--checkpointing_interval=") for a in args)
    assert "--finish_bundle_before_checkpointing" in args  # without it nothing passes the first stage
    bundle = [int(a.split("=")[1]) for a in args if a.startswith("--max_bundle_time_mills=")]
    assert bundle and bundle[0] < 1000, "Beam's 1 s default bundle time costs ~1 s of latency per stage"


def test_flink_options_are_streaming_loopback_and_extra_args_override_ours() -> None:
    opts = streaming_options(
        StackSettings(), "flink", ["--environment_type=PROCESS"], flink_endpoint="127.0.0.1:4711"
    )
    assert opts.view_as(StandardOptions).streaming
    assert opts.view_as(StandardOptions).runner == "PortableRunner"
    assert opts.view_as(PortableOptions).environment_type == "PROCESS"


@pytest.mark.parametrize("parallelism", [0, -1])
def test_flink_parallelism_below_one_is_refused(parallelism: int) -> None:
    with pytest.raises(ValueError, match="parallelism"):
        flink_args("127.0.0.1:4711", parallelism)


def test_flink_without_a_job_server_is_refused() -> None:
    with pytest.raises(ValueError, match="job server"):
        streaming_options(StackSettings(), "flink")


def test_job_server_that_is_not_staged_says_how_to_stage_it(tmp_path: Path) -> None:
    server = FlinkJobServer(StackSettings(cache_dir=tmp_path))
    with pytest.raises(StackError, match="watchfloor stack fetch"):
        server.start()
