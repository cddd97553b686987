"""CPU accounting from /proc: the server's process tree, PostgreSQL's backends, this client and
the machine as a whole, so a figure per request can say what else was running."""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from database import connect_postgresql
from sqlalchemy.engine import URL

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on, or None if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # what follows "pid (comm)"


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` (all its threads), 0.0 if it is gone."""
    fields = stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def reaped_children_cpu_seconds(pid: int) -> float | None:
    """CPU time of the children `pid` has waited for (cutime + cstime)."""
    fields = stat_fields(pid)
    return None if fields is None else (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


def parent_pid(pid: int) -> int | None:
    fields = stat_fields(pid)
    return None if fields is None else int(fields[1])


def descendants(pid: int) -> list[int]:
    """`pid` and its children, grandchildren, ... (uvicorn with one worker has none)."""
    family = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                family.extend(descendants(int(child)))
    return family


def tree_cpu_seconds(pid: int) -> float:
    return sum(process_cpu_seconds(member) for member in descendants(pid))


@dataclass(frozen=True)
class PostgresqlActivity:
    backend_pids: list[int]
    sessions: int | None  # connections ever opened to the database (PostgreSQL 14+)
    postmaster_pid: int | None  # None when /proc does not show the server (a remote one)


async def postgresql_activity(url: URL) -> PostgresqlActivity:
    """The backends connected to the benchmark database (other than our own) and its
    session counter."""
    connection = await connect_postgresql(url, "postgres")
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            url.database,
        )
        postmaster = parent_pid(await connection.fetchval("SELECT pg_backend_pid()"))
        try:
            sessions = await connection.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = $1", url.database
            )
        except asyncpg.UndefinedColumnError:
            sessions = None
    finally:
        await connection.close()
    return PostgresqlActivity([int(row["pid"]) for row in rows], sessions, postmaster)


def machine_busy_seconds() -> float:
    """CPU seconds all processors have spent not idle since boot (from /proc/stat)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = ticks[:7]  # guest time is inside user
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def backends_cpu_seconds(pids: list[int]) -> dict[int, float] | None:
    """CPU seconds per backend pid; None when /proc cannot see them (a remote server)."""
    seconds = {pid: process_cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}").exists()}
    return seconds or None


@dataclass(frozen=True)
class CpuSnapshot:
    server: float
    backends: dict[int, float] | None
    reaped: float | None
    sessions: int | None
    client: float
    machine: float
    wall: float


def database_cpu_delta(before: CpuSnapshot, after: CpuSnapshot) -> float | None:
    """CPU the database used in between: its live backends (new ones started from zero), plus
    the backends that exited meanwhile (the postmaster's reaped children: the server's pool
    closes overflow connections, and any other database's backends count here too)."""
    if before.backends is None or after.backends is None:
        return None
    live = sum(spent - before.backends.get(pid, 0.0) for pid, spent in after.backends.items())
    if before.reaped is None or after.reaped is None:
        return live
    return live + after.reaped - before.reaped


@dataclass(frozen=True)
class CpuMeter:
    """CPU seconds used by the server, the database backends (PostgreSQL) and the client: this
    process and the children it has waited for (wrk)."""

    server_pid: int
    database_url: URL | None

    async def read(self) -> CpuSnapshot:
        backends, reaped, sessions = None, None, None
        if self.database_url is not None:
            activity = await postgresql_activity(self.database_url)
            backends = backends_cpu_seconds(activity.backend_pids)
            if activity.postmaster_pid is not None:
                reaped = reaped_children_cpu_seconds(activity.postmaster_pid)
            sessions = activity.sessions
        return CpuSnapshot(
            tree_cpu_seconds(self.server_pid),
            backends,
            reaped,
            sessions,
            client_cpu_seconds(),
            machine_busy_seconds(),
            time.perf_counter(),
        )


def client_cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def new_sessions(before: CpuSnapshot, after: CpuSnapshot) -> int | None:
    if before.sessions is None or after.sessions is None:
        return None
    return after.sessions - before.sessions


def other_load(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """CPUs' worth of work done by processes other than server, client and database."""
    ours = (after.server - before.server) + (after.client - before.client)
    ours += database_cpu_delta(before, after) or 0.0
    return max(0.0, (after.machine - before.machine) - ours) / (after.wall - before.wall)


@contextlib.contextmanager
def postgresql_pinned(postmaster: int | None, core: int) -> Iterator[bool]:
    """Pin the postmaster and all its children to `core` (new backends inherit it); restore
    every process's affinity afterwards. Yields whether pinning worked."""
    if postmaster is None:
        print("PostgreSQL's processes are not visible here: not pinning them.")
        yield False
        return
    saved: dict[int, set[int]] = {}
    try:
        for pid in descendants(postmaster):
            with contextlib.suppress(ProcessLookupError):
                saved[pid] = os.sched_getaffinity(pid)
                os.sched_setaffinity(pid, {core})
    except PermissionError:
        print("Not allowed to change PostgreSQL's CPU affinity (run as root): not pinned.")
        restore_affinity(postmaster, saved)
        yield False
        return
    try:
        yield True
    finally:
        restore_affinity(postmaster, saved)


def restore_affinity(postmaster: int, saved: dict[int, set[int]]) -> None:
    default = saved.get(postmaster, set(range(os.cpu_count() or 1)))
    for pid in descendants(postmaster):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.sched_setaffinity(pid, saved.get(pid, default))
