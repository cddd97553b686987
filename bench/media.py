"""Media benchmark (issue 16): Pillow against pyvips for a preset size, serving a stored size,
uploading a 5 MB JPEG.

Run from the repository root with the project's virtualenv active (pyvips only for the
comparison: `pip install pyvips pyvips-binary`):

    python bench/media.py [--only libraries|http] [--no-write]   # --help for the rest

1. A 6000x4000 photo-like JPEG (smooth colour, detail and grain: about 5 MB at quality 90) is
   made 1000 wide in WebP (and AVIF) by Pillow, through service.media.images.render itself,
   and by pyvips; each case in fresh processes, for wall time, CPU time and peak RSS.
2. The real app (one uvicorn worker on SQLite, pinned to one core; wrk on the other) takes the
   photo through the GraphQL multipart upload; GETs of its w1000.webp are then timed with wrk,
   for server CPU per request (target: at most 0.3 ms).
3. Distinct 5 MB uploads, two in flight: uploads/s, MB/s and server CPU per upload.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import importlib
import io
import itertools
import json
import os
import platform
import random
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import load
import PIL
import processes
import servers
from bare_app import ANSWERS_PATH
from cpu import machine_busy_seconds, process_cpu_seconds
from errors import BenchError
from PIL import Image, ImageChops, features

from service.media import images

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
MARK_START = "<!-- media.py: start -->"
MARK_END = "<!-- media.py: end -->"
SERVE_TARGET_MS = 0.3
WIDTH, HEIGHT = 6000, 4000
PHOTO_QUALITY = 90
GRAIN = 0.04  # amplitude of the per-pixel noise: it sets the file's size, as a sensor's does
SIZE_WIDTH = 1000
UPLOAD = """mutation Upload($input: UploadMediaInput!) {
  uploadMedia(input: $input) { media { url bytes width height } userErrors { code message } } }"""


# --------------------------------------------------------------------------------------------
# The photo


def photo() -> Image.Image:
    """Random colour fields at three scales: compresses like a photo, not like a flat test card."""
    rng = random.Random(24)

    def blurred(cells: tuple[int, int]) -> Image.Image:
        small = Image.frombytes("RGB", cells, rng.randbytes(cells[0] * cells[1] * 3))
        return small.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)

    scenery = Image.blend(blurred((12, 8)), blurred((300, 200)), 0.35)
    noise = Image.frombytes("L", (WIDTH, HEIGHT), rng.randbytes(WIDTH * HEIGHT))
    grain = noise.point(lambda v: round(128 + (v - 128) * GRAIN))
    return ImageChops.add(scenery, Image.merge("RGB", (grain, grain, grain)), offset=-128)


def jpeg_bytes(image: Image.Image, mark: int) -> bytes:
    """The photo with a patch of its own colour: uploads of the same bytes are stored once, so
    each timed upload must be new."""
    image.paste((mark * 37 % 256, mark * 91 % 256, mark * 53 % 256), (0, 0, 64, 64))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=PHOTO_QUALITY)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# 1. Libraries, each case in fresh processes


@dataclass(frozen=True)
class Case:
    key: str
    library: str  # "pillow" or "pyvips"
    task: str  # "webp" or "avif" (made 1000 wide), or "normalise" (the upload's own work)
    label: str
    env: dict[str, str]
    draft: bool = False  # pyvips: decode at Pillow's draft scale, not thumbnail's own


ONE_THREAD = {"VIPS_CONCURRENCY": "1"}
CASES = [
    Case("pillow-webp", "pillow", "webp", "Pillow", {}),
    Case("pyvips-webp", "pyvips", "webp", "pyvips thumbnail", {}),
    Case("pyvips1-webp", "pyvips", "webp", "pyvips thumbnail, 1 thread", ONE_THREAD),
    Case("pyvips-draft-webp", "pyvips", "webp", "pyvips at Pillow's scale", {}, draft=True),
    Case("pillow-avif", "pillow", "avif", "Pillow", {}),
    Case("pyvips-avif", "pyvips", "avif", "pyvips thumbnail", {}),
    Case("pillow-normalise", "pillow", "normalise", "Pillow", {}),
    Case("pyvips-normalise", "pyvips", "normalise", "pyvips", {}),
]
TASKS = {
    "webp": f"w{SIZE_WIDTH}.webp (Q80)",
    "avif": f"w{SIZE_WIDTH}.avif (Q60)",
    "normalise": "upload: decode, re-encode JPEG Q92",
}
Work = Callable[[bytes], tuple[bytes, int, int]]


def pillow_work(task: str) -> Work:
    """The product's own code path."""

    def work(data: bytes) -> tuple[bytes, int, int]:
        if task == "normalise":
            picture = images.normalise(data)
        else:
            picture = images.render(data, width=SIZE_WIDTH, height=None, format=task)
        return picture.data, picture.width, picture.height

    return work


def pyvips_work(task: str, *, draft: bool) -> Work:
    """What images.render and images.normalise would be in pyvips, at the same settings
    (WebP effort 4 is Pillow's method 4; AVIF effort 3 is Pillow's speed 6)."""
    try:
        pyvips: Any = importlib.import_module("pyvips")
    except ImportError as error:
        raise BenchError("pyvips is missing: pip install pyvips pyvips-binary") from error
    pyvips.cache_set_max(0)  # else the same call is answered from libvips' operation cache
    icc = pyvips.enums.ForeignKeep.ICC

    def sized(data: bytes) -> Any:
        if not draft:
            # Shrink-on-load to no less than twice the width (6000 wide: 1/2), Lanczos 3 after.
            return pyvips.Image.thumbnail_buffer(data, SIZE_WIDTH, size="down")
        # As Pillow's draft: decoded at the smallest of 1/2, 1/4, 1/8 still as wide.
        width = pyvips.Image.new_from_buffer(data, "").width  # the header only
        shrink = max(f for f in (1, 2, 4, 8) if width // f >= SIZE_WIDTH)
        image = pyvips.Image.new_from_buffer(data, "", shrink=shrink, access="sequential")
        return image.resize(SIZE_WIDTH / image.width, kernel="lanczos3")

    def work(data: bytes) -> tuple[bytes, int, int]:
        if task == "normalise":
            image = pyvips.Image.new_from_buffer(
                data, "", access="sequential", fail_on="truncated"
            ).autorot()
            # 4:2:0 as Pillow does (libvips would keep full chroma from Q90 up).
            quality = images.ORIGINAL_QUALITY["JPEG"]
            out = image.jpegsave_buffer(Q=quality, subsample_mode="on", keep=icc)
        else:
            image = sized(data)
            if task == "webp":
                out = image.webpsave_buffer(Q=images.SIZE_QUALITY["WEBP"], effort=4, keep=icc)
            else:
                quality = images.SIZE_QUALITY["AVIF"]
                out = image.heifsave_buffer(Q=quality, compression="av1", effort=3, keep=icc)
        return bytes(out), int(image.width), int(image.height)

    return work


def worker(key: str, path: Path, runs: int) -> dict[str, Any]:
    """One case, `runs` times in this process: what the parent reads from our stdout."""
    case = next(case for case in CASES if case.key == key)
    data = path.read_bytes()
    if case.library == "pillow":
        work = pillow_work(case.task)
    else:
        work = pyvips_work(case.task, draft=case.draft)
    # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss still holds the parent's peak.
    _, baseline = load.memory_mb(os.getpid())
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()  # all threads' CPU
        out, width, height = work(data)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    _, peak = load.memory_mb(os.getpid())
    return {
        "walls": walls,
        "cpus": cpus,
        "added_mb": peak - baseline,
        "bytes": len(out),
        "size": f"{width}x{height}",
    }


@dataclass(frozen=True)
class LibraryRow:
    case: Case
    wall_ms: float  # median of the calls after each process's first
    cpu_ms: float
    first_ms: float  # median of the first calls (one-time set-up included)
    added_mb: float  # peak RSS above the process's before the first call (median)
    others: float  # CPUs' worth of other processes' work meanwhile
    output_kb: float
    size: str


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compare_libraries(path: Path, *, processes: int, runs: int) -> list[LibraryRow]:
    rows = []
    for case in CASES:
        results = []
        busy, children, started = machine_busy_seconds(), children_cpu(), time.monotonic()
        for _ in range(processes):
            command = [sys.executable, __file__, "--worker", case.key, str(path), str(runs)]
            done = subprocess.run(
                command, env={**os.environ, **case.env}, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise BenchError(f"{case.key} failed:\n{done.stderr[-3000:]}")
            results.append(json.loads(done.stdout))
        mine = children_cpu() - children
        others = max(0.0, machine_busy_seconds() - busy - mine) / (time.monotonic() - started)
        warm = [
            pair
            for result in results
            for pair in zip(result["walls"][1:], result["cpus"][1:], strict=True)
        ]
        row = LibraryRow(
            case=case,
            wall_ms=statistics.median(w for w, _ in warm) * 1000,
            cpu_ms=statistics.median(c for _, c in warm) * 1000,
            first_ms=statistics.median(result["walls"][0] for result in results) * 1000,
            added_mb=statistics.median(result["added_mb"] for result in results),
            others=others,
            output_kb=results[0]["bytes"] / 1000,
            size=results[0]["size"],
        )
        rows.append(row)
        print(
            f"  {case.key:18} wall {row.wall_ms:7.0f} ms  CPU {row.cpu_ms:7.0f} ms  "
            f"first {row.first_ms:7.0f} ms  +{row.added_mb:6.1f} MB  {row.output_kb:8.1f} kB  "
            f"others {row.others:.2f} CPUs"
        )
    return rows


# --------------------------------------------------------------------------------------------
# 2 and 3. The real server


@dataclass(frozen=True)
class Timed:
    """One timed wrk run."""

    wrk: load.WrkResult
    cpu_ms: float  # server CPU per request
    others: float  # fraction of the server's core other processes used meanwhile


@dataclass(frozen=True)
class ServeRow:
    label: str
    runs: list[Timed]  # one per repetition
    rss_mb: float  # the server's resident memory after the first

    def median(self, value: Callable[[Timed], float]) -> float:
        return statistics.median(value(timed) for timed in self.runs)

    @property
    def cpu_ms(self) -> float:
        return self.median(lambda timed: timed.cpu_ms)


@dataclass(frozen=True)
class Profile:
    samples: int
    own: list[tuple[str, float]]  # function, share of samples with it innermost
    inclusive: list[tuple[str, float]]  # function, share of samples with it on the stack


@dataclass(frozen=True)
class UploadResult:
    uploads: int
    megabytes: float  # sent, all uploads together
    seconds: float
    latency_s: float  # median
    cpu_ms: float  # server CPU per upload
    rss_mb: float
    hwm_mb: float


@dataclass(frozen=True)
class ServerFigures:
    first_request_ms: float  # the GET that makes w1000.webp
    serving: list[ServeRow]  # the first is the target's
    floor: ServeRow  # a bare ASGI app sending the same answer
    profile: Profile | None  # taken when the target is missed and py-spy is installed
    uploads: UploadResult
    after_serving_hwm_mb: float
    rss_mb: dict[str, float]  # the server's, after start, the first upload, the first size


def create_staff(url: str, workdir: Path, email: str, password: str) -> None:
    """As an operator does: `broadsheet users create` (it migrates the database first)."""
    command = [str(Path(sys.executable).parent / "broadsheet"), "users", "create"]
    command += ["--email", email, "--name", "Bench", "--role", "editor", "--password-stdin"]
    done = subprocess.run(
        command,
        input=password + "\n",
        env=processes.server_environment(url),
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"broadsheet users create failed:\n{done.stdout}{done.stderr}")


async def upload(client: httpx.AsyncClient, base: str, token: str, data: bytes) -> dict[str, Any]:
    """The GraphQL multipart request, as tests/test_media.py sends it."""
    operations = {"query": UPLOAD, "variables": {"input": {"file": None}}}
    response = await client.post(
        base + "/graphql",
        data={"operations": json.dumps(operations), "map": '{"0": ["variables.input.file"]}'},
        files={"0": ("photo.jpg", data, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    payload = response.json() if response.status_code == 200 else {}
    result = (payload.get("data") or {}).get("uploadMedia") or {}
    if result.get("userErrors") != [] or not result.get("media"):
        raise BenchError(f"upload failed: {response.status_code} {response.text[:500]}")
    return dict(result["media"])


async def serve(server: servers.Server, url: str, label: str, lua: Path, load_: load.Load) -> Timed:
    """wrk's warm-up, then its timed run, and the server's CPU time during it."""
    if load_.warmup:
        await load.wrk(url, lua, load_.warmup, load_)
    await load.wait_idle(server.pid)
    before, core = process_cpu_seconds(server.pid), load.core_busy_seconds(load_.server_core)
    result = await load.wrk(url, lua, load_.duration, load_)
    cpu = process_cpu_seconds(server.pid) - before
    core = load.core_busy_seconds(load_.server_core) - core
    timed = Timed(
        result, cpu * 1000 / max(result.requests, 1), max(0.0, core - cpu) / result.seconds
    )
    print(
        f"  {label:44} {result.per_second:7.0f} req/s  p99 {result.p99_ms:7.2f} ms  "
        f"CPU {timed.cpu_ms:6.3f} ms/req  errors {result.errors}  others {timed.others:.2f}"
    )
    return timed


async def profile(
    server: servers.Server, url: str, lua: Path, load_: load.Load, out: Path
) -> Profile:
    """py-spy's samples of the server's Python stacks during a wrk run (C code is charged to
    the Python function that called it). py-spy stops the process for each sample: the
    stacks are whole, and this run is not a timed one."""
    spy = await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(server.pid), "--duration", str(load_.duration),
        "--rate", "250", "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await load.wrk(url, lua, load_.duration, load_)
    _, error = await spy.communicate()
    if spy.returncode != 0:
        raise BenchError(f"py-spy failed: {error.decode(errors='replace')[-1000:]}")
    return read_profile(out)


def read_profile(out: Path) -> Profile:
    """py-spy's raw output: `frame;frame;… count` per distinct stack."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    samples = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [short_frame(frame) for frame in stack.split(";") if frame]
        if not frames or frames[0] != MAIN_THREAD:
            continue  # the idle pool and aiosqlite threads, which py-spy counts as busy
        samples += int(count)
        own[frames[-1]] = own.get(frames[-1], 0) + int(count)
        for frame in set(frames):
            if not frame.startswith(BOOTSTRAP):
                inclusive[frame] = inclusive.get(frame, 0) + int(count)

    def top(counts: dict[str, int], rows: int) -> list[tuple[str, float]]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:rows]
        return [(frame, count / max(samples, 1)) for frame, count in ranked]

    return Profile(samples, top(own, OWN_ROWS), top(inclusive, INCLUSIVE_ROWS))


OWN_ROWS, INCLUSIVE_ROWS = 15, 30
MAIN_THREAD = "_run_module_as_main (<frozen runpy>)"  # the event loop's thread
# Frames under every request's stack (the process's start and the event loop's): their
# share with callees is the whole profile's.
BOOTSTRAP = (
    "_run_module_as_main ", "_run_code ", "<module> (uvicorn/", "main (uvicorn/",
    "run (uvicorn/", "Server.", "asyncio_run ", "Runner.run ", "Command.", "Context.invoke ",
)  # fmt: skip


def short_frame(frame: str) -> str:
    """`function (…/site-packages/starlette/routing.py:72)` -> `function (starlette/routing.py)`."""
    function, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for prefix in ("site-packages/", str(BENCH_DIR.parent) + "/", "lib/python3."):
        if prefix in path:
            path = path.split(prefix, 1)[1]
    return f"{function} ({path})" if path else function


async def time_uploads(
    client: httpx.AsyncClient, server: servers.Server, token: str, bodies: list[bytes]
) -> UploadResult:
    """Two uploads in flight: the server decodes one while the next arrives."""
    pending = iter(bodies)
    latencies: list[float] = []

    async def lane() -> None:
        for body in pending:
            started = time.perf_counter()
            await upload(client, server.base_url, token, body)
            latencies.append(time.perf_counter() - started)

    await load.wait_idle(server.pid)
    before, started = process_cpu_seconds(server.pid), time.perf_counter()
    await asyncio.gather(lane(), lane())
    seconds = time.perf_counter() - started
    cpu = process_cpu_seconds(server.pid) - before
    rss, hwm = load.memory_mb(server.pid)
    return UploadResult(
        uploads=len(bodies),
        megabytes=sum(len(body) for body in bodies) / 1e6,
        seconds=seconds,
        latency_s=statistics.median(latencies),
        cpu_ms=cpu * 1000 / len(bodies),
        rss_mb=rss,
        hwm_mb=hwm,
    )


async def measure_server(
    server: servers.Server,
    login: tuple[str, str],
    first: bytes,
    bodies: list[bytes],
    options: Options,
    scratch: Path,
) -> ServerFigures:
    load_ = options.load
    email, password = login
    async with httpx.AsyncClient(timeout=300) as client:
        await servers.wait_ready(client, server)
        print(f"Server: pid {server.pid} at {server.base_url}, core {load_.server_core}")
        signed_in = await client.post(
            server.base_url + "/api/v1/auth/token", data={"username": email, "password": password}
        )
        if signed_in.status_code != 200:
            raise BenchError(f"sign-in failed: {signed_in.status_code} {signed_in.text[:300]}")
        token = signed_in.json()["access_token"]
        rss = {"started": load.memory_mb(server.pid)[0]}
        media = await upload(client, server.base_url, token, first)
        rss["after one upload"] = load.memory_mb(server.pid)[0]
        original = "/media/" + media["url"].rsplit("/media/", 1)[1]
        sha256, _, extension = original.removeprefix("/media/").partition(".")
        size = server.base_url + f"/media/{sha256}/w{SIZE_WIDTH}.webp"
        started = time.perf_counter()
        made = await client.get(size)
        first_request_ms = (time.perf_counter() - started) * 1000
        if made.status_code != 200 or made.headers["content-type"] != "image/webp":
            raise BenchError(f"GET {size}: {made.status_code} {made.headers}")
        rss["after making one size"] = load.memory_mb(server.pid)[0]
        etag = made.headers["etag"]
        revalidated = await client.get(size, headers={"If-None-Match": etag})
        if revalidated.status_code != 304:
            raise BenchError(f"GET {size} with If-None-Match: {revalidated.status_code}")

        plain, conditional = scratch / "get.lua", scratch / "revalidate.lua"
        plain.write_text("-- plain GETs\n")
        conditional.write_text(f"wrk.headers[\"If-None-Match\"] = '{etag}'\n")
        floor = floor_server()
        cases = [
            (server, size, f"w{SIZE_WIDTH}.webp, {len(made.content) / 1000:.0f} kB", plain),
            (server, size, f"w{SIZE_WIDTH}.webp revalidated (304)", conditional),
            (
                server,
                server.base_url + original,
                f"original .{extension}, {media['bytes'] / 1e6:.1f} MB",
                plain,
            ),
            (
                floor,
                floor.base_url + urlsplit(size).path,
                f"w{SIZE_WIDTH}.webp from a bare ASGI app",
                plain,
            ),
        ]
        print(
            f"Serving, {options.repetitions} times each, interleaved ({load_.warmup} + "
            f"{load_.duration} s, {load_.connections} connections):"
        )
        runs: list[list[Timed]] = [[] for _ in cases]
        rss_after = [0.0 for _ in cases]
        with servers.running([floor], load_.server_core):
            await servers.wait_ready(client, floor)
            await install_floor(client, floor, made)
            for _ in range(options.repetitions):
                for index, (target, url, label, lua) in enumerate(cases):
                    runs[index].append(await serve(target, url, label, lua, load_))
                    if not rss_after[index]:  # later ones follow the 5 MB original's rows
                        rss_after[index] = load.memory_mb(target.pid)[0]
        rows = [
            ServeRow(label, timed, memory)
            for (_, _, label, _), timed, memory in zip(cases, runs, rss_after, strict=True)
        ]
        spied = None
        missed = rows[0].cpu_ms > SERVE_TARGET_MS
        if (missed or options.profile_out) and shutil.which("py-spy"):
            print(f"Profiling {load_.duration} s of the same load with py-spy ...")
            out = options.profile_out or scratch / "profile.txt"
            spied = await profile(server, size, plain, load_, out.resolve())
        _, after_serving_hwm = load.memory_mb(server.pid)
        print(f"Uploading {len(bodies)} distinct JPEGs, two in flight ...")
        uploads = await time_uploads(client, server, token, bodies)
    return ServerFigures(
        first_request_ms, rows[:-1], rows[-1], spied, uploads, after_serving_hwm, rss
    )


UVICORN = [
    sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--workers", "1",
    "--no-access-log", "--log-level", "warning",
]  # fmt: skip


def floor_server() -> servers.Server:
    """bench/bare_app.py, answering what Broadsheet answered (installed once it runs): what
    uvicorn and the kernel cost alone."""
    command = [*UVICORN, "--app-dir", str(BENCH_DIR), "bare_app:app"]
    return servers.Server("floor", "bare ASGI", command, dict(os.environ), "/", database=False)


async def install_floor(
    client: httpx.AsyncClient, floor: servers.Server, made: httpx.Response
) -> None:
    skipped = ("date", "server", "content-length")  # uvicorn's own, and bare_app's
    answer = {
        "path": urlsplit(str(made.url)).path,
        "status": 200,
        "headers": [[name, value] for name, value in made.headers.items() if name not in skipped],
        "body_base64": base64.b64encode(made.content).decode(),
    }
    response = await client.put(floor.base_url + ANSWERS_PATH, json=[answer])
    if response.status_code != 200:
        raise BenchError(f"the bare ASGI app refused the answer: {response.status_code}")


def measure_http(first: bytes, bodies: list[bytes], options: Options) -> ServerFigures:
    scratch = Path(tempfile.mkdtemp(prefix="broadsheet-media-bench-"))
    try:
        url = f"sqlite+aiosqlite:///{scratch / 'bench.db'}"
        login = ("bench@example.com", secrets.token_urlsafe(24))
        create_staff(url, scratch, *login)
        environment = processes.server_environment(url)
        environment["BROADSHEET_MEDIA_DIR"] = str(scratch / "media")
        command = [*UVICORN, "--factory", "service.app:create_app"]
        server = servers.Server("broadsheet", "Broadsheet", command, environment, "/healthcheck")
        # This process only waits for wrk and sends uploads: keep it off the server's core.
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {options.load.load_core})
        with servers.running([server], options.load.server_core):
            figures: ServerFigures = processes.run_event_loop(
                lambda: measure_server(server, login, first, bodies, options, scratch)
            )
            return figures
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Report


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=BENCH_DIR
    ).stdout.strip()
    try:
        pyvips: Any = importlib.import_module("pyvips")
        libvips = ".".join(str(pyvips.version(part)) for part in range(3))
        vips = f"pyvips {pyvips.__version__} (libvips {libvips})"
    except ImportError:
        vips = "no pyvips"
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}; {model}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; Pillow "
        f"{PIL.__version__} (libjpeg-turbo {features.version('libjpeg_turbo')}, libwebp "
        f"{features.version('webp')}, libavif {features.version('avif')}), {vips}"
    )


def versus(libraries: list[LibraryRow], task: str) -> str:
    """Pillow's figures against each pyvips row's, for one task."""
    rows = [row for row in libraries if row.case.task == task]
    pillow = next((row for row in rows if row.case.library == "pillow"), None)
    if pillow is None:
        return ""
    parts = [
        f"{row.case.label} {row.wall_ms / pillow.wall_ms:.2f}x the wall time, "
        f"{row.cpu_ms / pillow.cpu_ms:.2f}x the CPU, "
        f"{row.added_mb - pillow.added_mb:+.0f} MB of peak memory"
        for row in rows
        if row is not pillow
    ]
    return f"- {TASKS[task]}: against Pillow, " + "; ".join(parts) + "."


def report(
    photo_bytes: int, libraries: list[LibraryRow], http: ServerFigures | None, options: Options
) -> str:
    lines = [
        "## Media: Pillow and pyvips, serving and uploads (`bench/media.py`)",
        "",
        f"{machine()}. Written by `python bench/media.py`: a new run replaces this section. "
        f"The photo: {WIDTH}x{HEIGHT}, JPEG quality {PHOTO_QUALITY}, {photo_bytes / 1e6:.1f} MB.",
    ]
    if libraries:
        lines += [
            "",
            f"Each case in {options.processes} fresh processes of {options.runs} calls on the "
            "same bytes. Wall and CPU: medians of the calls after each process's first (CPU "
            "counts all threads: pyvips and the AVIF encoders use several). Memory: how far "
            "the process's peak RSS (VmHWM, C allocations included) rose during its calls. "
            "Others: CPUs' worth of other processes' work meanwhile (0 on a quiet machine).",
            "",
            "| task | library | wall ms | CPU ms | first call ms | peak RSS added MB "
            "| output | others |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {TASKS[row.case.task]} | {row.case.label} | {row.wall_ms:.0f} | {row.cpu_ms:.0f} "
            f"| {row.first_ms:.0f} | {row.added_mb:.0f} | {row.size}, {row.output_kb:.1f} kB "
            f"| {row.others:.2f} |"
            for row in libraries
        ]
        lines += ["", *filter(None, (versus(libraries, task) for task in TASKS))]
    if http is not None:
        load_ = options.load
        lines += [
            "",
            f"Serving: one uvicorn worker (production settings, SQLite) on core "
            f"{load_.server_core}, wrk on core {load_.load_core} with {load_.connections} "
            f"connections; each row {options.repetitions} times, interleaved, each a "
            f"{load_.warmup} s warm-up then {load_.duration} s timed: medians, CPU also as "
            "min-max. Server CPU: the process's (all threads) ÷ requests. Others: the largest "
            "share of the server's core other processes used during a row's runs. RSS: the "
            "server's after the row's first run. The first GET of the size, which made it, took "
            f"{http.first_request_ms:.0f} ms; the w1000.webp is then kept in memory, the "
            "original (over 1 MB) is read from disk each time. The server's RSS: "
            + ", ".join(f"{mb:.0f} MB {when}" for when, mb in http.rss_mb.items())
            + ".",
            "",
            "| GET | req/s | p50 ms | p99 ms | errors | server CPU ms/req | others | RSS MB "
            f"| target ≤ {SERVE_TARGET_MS} ms |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for index, served in enumerate([*http.serving, http.floor]):
            met = served.cpu_ms <= SERVE_TARGET_MS
            target = ("met" if met else "**missed**") if index == 0 else ""
            cpus = [timed.cpu_ms for timed in served.runs]
            lines.append(
                f"| {served.label} | {served.median(lambda t: t.wrk.per_second):.0f} "
                f"| {served.median(lambda t: t.wrk.p50_ms):.2f} "
                f"| {served.median(lambda t: t.wrk.p99_ms):.2f} "
                f"| {sum(timed.wrk.errors for timed in served.runs)} "
                f"| {served.cpu_ms:.3f} ({min(cpus):.3f}-{max(cpus):.3f}) "
                f"| {max(timed.others for timed in served.runs):.2f} | {served.rss_mb:.0f} "
                f"| {target} |"
            )
        if http.profile is not None:
            spied, cost = http.profile, http.serving[0].cpu_ms
            lines += [
                "",
                f"The server under the same load as the first row, sampled by py-spy "
                f"({spied.samples} samples of the event loop's thread; C code is charged to the "
                "Python function calling it; ms: the share times the first row's server CPU "
                "per request):",
                "",
                "| innermost function | share | ms | function with its callees | share | ms |",
                "|---|---|---|---|---|---|",
            ]
            for own, outer in itertools.zip_longest(spied.own, spied.inclusive):
                cells = [
                    f"`{frame}` | {share:.0%} | {share * cost:.3f}" if frame else " | | "
                    for frame, share in (own or ("", 0.0), outer or ("", 0.0))
                ]
                lines.append(f"| {cells[0]} | {cells[1]} |")
        up = http.uploads
        lines += [
            "",
            f"Uploads: {up.uploads} distinct {up.megabytes / up.uploads:.1f} MB JPEGs through the "
            "GraphQL multipart request, two in flight, to the same server (decoding and "
            "encoding run on one thread per process: service.media.library.IMAGES).",
            "",
            "| uploads/s | MB/s | median latency s | server CPU ms/upload | server RSS / peak MB |",
            "|---|---|---|---|---|",
            f"| {up.uploads / up.seconds:.2f} | {up.megabytes / up.seconds:.1f} | "
            f"{up.latency_s:.2f} | {up.cpu_ms:.0f} | {up.rss_mb:.0f} / {up.hwm_mb:.0f} "
            f"(peak before the uploads: {http.after_serving_hwm_mb:.0f}) |",
        ]
    return "\n".join(lines)


def write_results(section: str) -> None:
    """Our section between our markers, at the end unless it is there already; the rest of
    the file (other harnesses write it too) is left as read just now."""
    block = f"{MARK_START}\n{section}\n{MARK_END}"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if MARK_START in old and MARK_END in old:
        before, rest = old.split(MARK_START, 1)
        RESULTS.write_text(before + block + rest.split(MARK_END, 1)[1])
    else:
        RESULTS.write_text(old.rstrip("\n") + "\n\n" + block + "\n")


# --------------------------------------------------------------------------------------------
# Main


@dataclass(frozen=True)
class Options:
    processes: int
    runs: int
    repetitions: int
    uploads: int
    load: load.Load
    libraries: bool
    http: bool
    write: bool
    profile_out: Path | None


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--processes", type=int, default=3, help="fresh processes per library case (3)")
    add("--runs", type=int, default=5, help="calls per process (5)")
    add("--repetitions", type=int, default=3, help="timed runs of each GET case (3)")
    add("--uploads", type=int, default=10, help="timed uploads (10)")
    add("--duration", type=int, default=10, help="timed seconds per GET case (10)")
    add("--warmup", type=int, default=2, help="untimed seconds before each (2)")
    add("--connections", type=int, default=16, help="wrk connections (16)")
    add("--server-core", type=int, default=0)
    add("--load-core", type=int, default=1)
    add("--only", choices=["libraries", "http"], help="one part only")
    add("--no-write", action="store_true", help="print the report; leave RESULTS.md alone")
    add(
        "--profile-out",
        type=Path,
        help="profile the serving even when on target; keep py-spy's raw stacks in this file",
    )
    args = parser.parse_args(argv)
    counts = (args.processes, args.repetitions, args.uploads, args.duration, args.connections)
    if min(counts) < 1:
        parser.error("counts and durations must be at least 1")
    if args.runs < 2:
        parser.error("--runs must be at least 2 (the first call of each process is apart)")
    cores = os.cpu_count() or 1
    load_core = args.load_core if cores > 1 else 0
    return Options(
        processes=args.processes,
        runs=args.runs,
        repetitions=args.repetitions,
        uploads=args.uploads,
        load=load.Load(
            args.duration, args.warmup, args.connections, 10, args.server_core, load_core
        ),
        libraries=args.only != "http",
        http=args.only != "libraries",
        write=not args.no_write,
        profile_out=args.profile_out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--worker"]:
        key, file, runs = sys.argv[2:5]
        print(json.dumps(worker(key, Path(file), int(runs))))
        return 0
    options = parse_args(argv)
    processes.raise_on_sigterm()
    scratch = Path(tempfile.mkdtemp(prefix="broadsheet-media-photo-"))
    try:
        if options.http and shutil.which("wrk") is None:
            raise BenchError("wrk is not installed (apt-get install wrk)")
        print("Making the photo ...")
        image = photo()
        first = jpeg_bytes(image, 0)
        path = scratch / "photo.jpg"
        path.write_bytes(first)
        print(f"  {WIDTH}x{HEIGHT}, {len(first) / 1e6:.2f} MB")
        libraries = []
        if options.libraries:
            print("Libraries:")
            libraries = compare_libraries(path, processes=options.processes, runs=options.runs)
        http = None
        if options.http:
            bodies = [jpeg_bytes(image, mark) for mark in range(1, options.uploads + 1)]
            http = measure_http(first, bodies, options)
        section = report(len(first), libraries, http, options)
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(section)
    if options.write:
        write_results(section)
        print(f"\nWritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
