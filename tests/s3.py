"""A real S3-protocol server for the media tests: moto's (`moto[server]`, a dev dependency from
PyPI) in its own process on a free loopback port, answering S3's HTTP API as AWS, MinIO or R2
would. The tests start it themselves, so CI needs nothing but `pip install -e '.[dev]'`; with
CI=true a server that cannot start fails the tests instead of skipping them."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import boto3
import httpx
import pytest

from tests.live_server import free_port, stop

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
START_TIMEOUT_SECONDS = 30.0
REGION = "us-east-1"
PREFIX = "broadsheet/media"  # the tests store under a prefix, as a shared bucket would


@dataclass(frozen=True)
class S3Server:
    url: str  # http://127.0.0.1:PORT
    log: Path

    @property
    def client(self) -> S3Client:
        return client(self.url)

    def new_bucket(self) -> str:
        """An empty bucket of its own, for one test."""
        bucket = f"media-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=bucket)
        return bucket

    def settings(self, bucket: str) -> dict[str, Any]:
        """Broadsheet's settings for `bucket` on this server."""
        return {
            "media_s3_bucket": bucket,
            "media_s3_prefix": PREFIX,
            "media_s3_endpoint_url": self.url,
            "media_s3_region": REGION,
            "media_s3_access_key_id": "test",
            "media_s3_secret_access_key": "test",
        }

    def keys(self, bucket: str) -> list[str]:
        """Every name in `bucket`, in order."""
        return keys(self.url, bucket)


@functools.cache
def client(endpoint_url: str) -> S3Client:
    """A client of the server at `endpoint_url` (made once: making one takes a moment)."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def keys(endpoint_url: str, bucket: str) -> list[str]:
    """Every name in `bucket` on the server at `endpoint_url`, in order."""
    pages = client(endpoint_url).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail when CI=true: CI must run the S3 tests."""
    if IN_CI:
        pytest.fail(f"no S3 server (CI=true, so this fails instead of skipping): {reason}")
    pytest.skip(f"no S3 server: {reason}")


@contextlib.contextmanager
def running_server(workdir: Path) -> Iterator[S3Server]:
    """moto's server on a free loopback port until the block ends."""
    if importlib.util.find_spec("moto.server") is None:
        unavailable("moto is not installed (pip install -e '.[dev]')")
    port = free_port()
    log = workdir / "moto.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = S3Server(f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_ready(server, process)
        yield server
    finally:
        stop(process)


def _wait_until_ready(server: S3Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-2000:]
            unavailable(f"moto's server exited with status {process.returncode}:\n{tail}")
        try:
            # ListBuckets, unsigned: moto answers it once it is serving.
            httpx.get(server.url, timeout=2)
        except httpx.TransportError as error:
            last = repr(error)
        else:
            return
        time.sleep(0.1)
    unavailable(f"moto's server never answered (last: {last})")
