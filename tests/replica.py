"""A streaming replica of the local PostgreSQL, for the read-replica tests: `pg_basebackup -R`
into a temporary directory, a hot standby on a free loopback port, stopped and deleted
afterwards.

The primary needs nothing but a `replication` line in pg_hba.conf (CI adds one). Nothing is
left on it: the backup's slot is temporary and the standby streams without one, so the
primary keeps no WAL for it once it is gone. Run as root (CI), the cluster's programs run as
the `postgres` user, who owns the data."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from tests.live_server import free_port

CLUSTER_USER = "postgres"  # the OS user owning the cluster (Debian's packages)
# A standby must allow at least what its primary does, or it refuses to run hot.
HOT_STANDBY_MINIMA = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)
BACKUP_TIMEOUT_SECONDS = 120.0
START_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.02


class ReplicaUnavailable(RuntimeError):
    """The replica could not be made or started; the message says why."""


@dataclass(frozen=True)
class Replica:
    port: int
    url: str  # the primary's URL with the replica's port: the same database, read-only
    directory: Path  # data/, the server's log, its socket
    bindir: Path
    started_in: float  # seconds, from the backup's start to a streaming standby

    @property
    def name(self) -> str:
        """How the primary lists this standby (application_name): unique, as its directory."""
        return self.directory.name

    @property
    def dsn(self) -> str:
        """The same database for asyncpg."""
        return dsn(self.url)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the replica's server log, for failure messages."""
        return "\n".join(_read(self.directory / "server.log").splitlines()[-lines:])


def dsn(url: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://…) as a libpq/asyncpg connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def start_replica(primary_url: str) -> Replica:
    """Make and start a streaming hot standby; raises ReplicaUnavailable when it cannot."""
    started = time.monotonic()
    primary = make_url(primary_url)
    if primary.host not in ("127.0.0.1", "localhost", "::1"):
        raise ReplicaUnavailable(f"the primary must be local to copy it (host {primary.host})")
    version, minima = asyncio.run(_primary_facts(dsn(primary_url)))
    bindir = _bindir(version)
    directory = Path(tempfile.mkdtemp(prefix="broadsheet-replica-"))
    try:
        _give_to_cluster_user(directory)
        data = directory / "data"
        conninfo = (
            f"host={primary.host} port={primary.port or 5432} "
            f"user={primary.username or CLUSTER_USER} application_name={directory.name}"
        )
        _run(
            bindir,
            "pg_basebackup", "--dbname", conninfo, "--pgdata", str(data),
            "--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast",
            "--no-sync", "--no-manifest",
            timeout=BACKUP_TIMEOUT_SECONDS,
            hint="does pg_hba.conf allow replication connections from 127.0.0.1? (see .ci/run)",
        )  # fmt: skip
        for attempt in range(3):  # a free port can be taken before the server binds it
            port = free_port()
            _configure(directory, port, minima)
            try:
                _run(
                    bindir,
                    "pg_ctl", "start", "--pgdata", str(data), "--wait",
                    f"--timeout={int(START_TIMEOUT_SECONDS)}",
                    "--log", str(directory / "server.log"),
                    timeout=START_TIMEOUT_SECONDS + 10,
                )  # fmt: skip
                break
            except ReplicaUnavailable:
                if attempt == 2 or "already in use" not in _read(directory / "server.log"):
                    raise
        url = primary.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        replica = Replica(port, url, directory, bindir, started_in=0.0)
        asyncio.run(_until_streaming(replica))
    except BaseException as error:
        log = _read(directory / "server.log")
        try:
            _stop(bindir, directory)
        except ReplicaUnavailable as stopping:
            error.add_note(f"{stopping} (left running in {directory})")
        else:
            shutil.rmtree(directory, ignore_errors=True)
        if isinstance(error, ReplicaUnavailable) and log:
            raise ReplicaUnavailable(f"{error}\nthe replica's log:\n{log[-3000:]}") from error
        raise
    return Replica(port, url, directory, bindir, started_in=time.monotonic() - started)


def stop_replica(replica: Replica, primary_url: str) -> None:
    """Stop the standby at once, delete its directory, and wait until the primary has
    forgotten it (its WAL sender gone)."""
    _stop(replica.bindir, replica.directory)  # on failure, the directory stays with the server
    shutil.rmtree(replica.directory, ignore_errors=True)
    asyncio.run(_until_forgotten(dsn(primary_url), replica.name))


async def _primary_facts(primary_dsn: str) -> tuple[int, dict[str, str]]:
    try:
        connection = await asyncpg.connect(primary_dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise ReplicaUnavailable(f"cannot reach the primary: {error}") from error
    try:
        version = int(await connection.fetchval("SHOW server_version_num"))
        rows = await connection.fetch(
            "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])",
            list(HOT_STANDBY_MINIMA),
        )
    finally:
        await connection.close()
    return version, {row["name"]: row["setting"] for row in rows}


def _bindir(version: int) -> Path:
    """The server's own major version's programs: Debian's layout, else those on PATH."""
    debian = Path(f"/usr/lib/postgresql/{version // 10000}/bin")
    if (debian / "pg_ctl").exists():
        return debian
    on_path = shutil.which("pg_ctl")
    if on_path is None:
        raise ReplicaUnavailable(f"no pg_ctl for PostgreSQL {version // 10000} ({debian})")
    return Path(on_path).parent


def _as_cluster_user() -> list[str]:
    """Root cannot run a PostgreSQL server: it runs as the cluster's owner."""
    return ["runuser", "-u", CLUSTER_USER, "--"] if os.geteuid() == 0 else []


def _give_to_cluster_user(path: Path) -> None:
    if os.geteuid() == 0:
        owner = pwd.getpwnam(CLUSTER_USER)
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _configure(directory: Path, port: int, minima: dict[str, str]) -> None:
    """The standby's own configuration (Debian keeps the primary's outside its data
    directory): loopback only, its socket in its directory, no fsync, hot standby."""
    data = directory / "data"
    settings = {
        "port": str(port),
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{directory}'",
        "hot_standby": "on",
        "fsync": "off",
        "shared_buffers": "'32MB'",
        "wal_receiver_status_interval": "'1s'",
        "logging_collector": "off",
        **minima,
    }
    files = {
        "postgresql.conf": "".join(f"{name} = {value}\n" for name, value in settings.items()),
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }
    for name, text in files.items():
        path = data / name
        path.write_text(text)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(CLUSTER_USER)
            os.chown(path, owner.pw_uid, owner.pw_gid)
        path.chmod(0o600)


def _run(bindir: Path, program: str, *args: str, timeout: float, hint: str = "") -> None:
    command = [*_as_cluster_user(), str(bindir / program), *args]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tempfile.gettempdir(),  # one the cluster's user may enter (root's home is not)
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ReplicaUnavailable(f"{program}: {error}") from error
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise ReplicaUnavailable(
            f"{program} failed (status {result.returncode}): {output}"
            + (f"\nhint: {hint}" if hint else "")
        )


def _stop(bindir: Path, directory: Path) -> None:
    """Stop the standby if it runs: immediately, as nothing of it needs to survive."""
    data = directory / "data"
    if not (data / "postmaster.pid").exists():
        return
    _run(
        bindir,
        "pg_ctl", "stop", "--pgdata", str(data), "--mode=immediate", "--wait",
        f"--timeout={int(START_TIMEOUT_SECONDS)}",
        timeout=START_TIMEOUT_SECONDS + 10,
    )  # fmt: skip


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


async def _until_streaming(replica: Replica) -> None:
    """Until the standby answers, is in recovery, and receives WAL from the primary."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_SECONDS
    last = "no answer"
    while loop.time() < deadline:
        try:
            connection = await asyncpg.connect(replica.dsn, timeout=5)
            try:
                row = await connection.fetchrow(
                    "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver)"
                )
            finally:
                await connection.close()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            last = repr(error)
        else:
            assert row is not None
            in_recovery, status = row
            if in_recovery and status == "streaming":
                return
            last = f"in recovery: {in_recovery}, WAL receiver: {status}"
        await asyncio.sleep(POLL_SECONDS * 5)
    raise ReplicaUnavailable(f"the replica never streamed from the primary ({last})")


async def _until_forgotten(primary_dsn: str, name: str) -> None:
    """Until the primary has no WAL sender and no slot left from the replica."""
    connection = await asyncpg.connect(primary_dsn, timeout=10)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_SECONDS
        while True:
            row = await connection.fetchrow(
                "SELECT (SELECT count(*) FROM pg_stat_replication WHERE application_name = $1),"
                " (SELECT count(*) FROM pg_replication_slots"
                "   WHERE slot_name LIKE 'pg\\_basebackup\\_%')",
                name,
            )
            assert row is not None
            senders, slots = row
            if senders == 0 and slots == 0:
                return
            if loop.time() > deadline:
                raise RuntimeError(
                    f"the primary still has {senders} WAL sender(s) and {slots} backup slot(s) "
                    "from the test replica"
                )
            await asyncio.sleep(POLL_SECONDS * 5)
    finally:
        await connection.close()
