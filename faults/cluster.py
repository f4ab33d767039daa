"""The processes the fault run owns: a private PostgreSQL and a multi-worker ``hojre serve``.

Everything here is synchronous and acts only on what it started itself: the PostgreSQL data
directory it created (``pg_ctl -D <its dir>``) and the server process group it spawned. The
machine's shared PostgreSQL and Redis are never touched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def run(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    account: Account | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a program given by absolute path (as ``account`` when given), capturing output."""
    result = subprocess.run(  # noqa: S603 - fixed programs, arguments built here
        argv,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        user=None if account is None else account.uid,
        group=None if account is None else account.gid,
        extra_groups=None if account is None else [],
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def free_port(preferred: int) -> int:
    """``preferred`` when nothing listens there, else a port the kernel picks."""
    for candidate in (preferred, 0):
        with socket.socket() as sock:
            # As the servers will: a port left in TIME_WAIT by an earlier run is free.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")


# -- PostgreSQL --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    uid: int
    gid: int


def postgres_account() -> Account | None:
    """PostgreSQL refuses to run as root: as root, use the ``postgres`` system user.

    When the machine has none, a system user ``hojre-faults`` is created once.
    """
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "hojre-faults"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return Account(name, entry.pw_uid, entry.pw_gid)
    run(["/usr/sbin/useradd", "--system", "--user-group", "--no-create-home",
         "--shell", "/usr/sbin/nologin", "hojre-faults"])  # fmt: skip
    entry = pwd.getpwnam("hojre-faults")
    return Account("hojre-faults", entry.pw_uid, entry.pw_gid)


def postgres_bin() -> Path:
    """The newest installed server's ``bin`` directory (Debian layout), or the PATH's."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if (Path(folder) / "pg_ctl").exists() and (Path(folder) / "initdb").exists():
            return Path(folder)
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")


class PrivatePostgres:
    """A throw-away cluster in ``root``: trust auth, 127.0.0.1 only, default durability."""

    def __init__(self, root: Path, port: int, *, synchronous_commit: str = "on") -> None:
        self.root = root
        self.port = port
        # "off" is the harness's self-test: commits acknowledged before their WAL is written
        # are lost by an immediate stop, and the run must say so.
        self.synchronous_commit = synchronous_commit
        self.data = root / "pgdata"
        self.sockets = root / "pgsocket"
        self.log = root / "postgres.log"
        self.bin = postgres_bin()
        self.account = postgres_account()
        self.started = False
        self.stops = 0

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/hojre"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/hojre"

    def _as_owner(self, *argv: str, timeout: float = 120) -> None:
        run([str(self.bin / argv[0]), *argv[1:]], account=self.account, cwd=self.root,
            timeout=timeout)  # fmt: skip

    def create(self) -> None:
        for folder in (self.data, self.sockets):
            folder.mkdir(mode=0o700)
            if self.account is not None:
                os.chown(folder, self.account.uid, self.account.gid)
        self.log.touch()
        if self.account is not None:
            os.chown(self.log, self.account.uid, self.account.gid)
        self._as_owner("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        # fsync, synchronous_commit and full_page_writes stay at their (durable) defaults:
        # the run checks what PostgreSQL promises, not a faster configuration.
        settings = (
            "listen_addresses = '127.0.0.1'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.sockets}'\n"
            "max_connections = 200\n"
            "fsync = on\n"
            f"synchronous_commit = {self.synchronous_commit}\n"
            "full_page_writes = on\n"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# hojre faults\n" + settings)
        self.start()
        self._as_owner("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                       "hojre")  # fmt: skip

    def start(self) -> None:
        self._as_owner("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                       "start")  # fmt: skip
        self.started = True

    def stop_immediately(self) -> None:
        """``pg_ctl stop -m immediate``: no checkpoint, crash recovery at the next start."""
        self._as_owner("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.stops += 1

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        return None

    def destroy(self) -> None:
        """Stop this cluster (and only it); the caller removes the directory."""
        if not self.data.exists():
            return
        pid = self.postmaster_pid()
        if pid is None:
            return
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._as_owner("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "20",
                           "stop", timeout=30)  # fmt: skip
            return
        # pg_ctl could not stop it: kill the postmaster recorded in our own data directory.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# -- the server --------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid ...": comm may hold spaces, so split after the ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _session_members(sid: int) -> list[int]:
    """Live processes of session ``sid`` (the server is started with a new session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            # After the comm: state, ppid, pgrp, session.
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


class Server:
    """``hojre serve --workers N`` in its own process group; uvicorn's master re-spawns workers."""

    def __init__(self, hojre: Path, env: dict[str, str], port: int, log: Path,
                 workers: int) -> None:  # fmt: skip
        self.hojre = hojre
        self.env = env
        self.port = port
        self.log = log
        self.workers_wanted = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI
                [str(self.hojre), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers_wanted)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /web/ping answers and every worker is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + "/web/ping", timeout=1).status_code == 200 and (
                    len(self.workers()) >= self.workers_wanted
                ):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not become ready in {timeout:.0f}s; see {self.log}")

    def workers(self) -> list[int]:
        """The uvicorn worker processes (the master's ``spawn_main`` children)."""
        if self.process is None:
            return []
        return sorted(p for p in _children(self.process.pid) if "spawn_main" in _cmdline(p))

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (graceful: in-flight requests finish, after-commit SMS kicks drain)."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)
        # Whatever is left in the session this server was started in (ours alone): a master
        # that would not stop, or a worker orphaned by it.
        for pid in _session_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1
        self.wait_ready()


# -- SQLite ------------------------------------------------------------------------------------

# SQLite's WAL locks are fcntl byte locks on the ``-shm`` file from offset 120: the write lock
# (held from BEGIN IMMEDIATE to COMMIT, and by a TRUNCATE checkpoint) and, at 121, the
# checkpoint lock (held for a whole checkpoint, passive ones included).
SHM_LOCKS = {120: "write", 121: "checkpoint"}


def sqlite_lock_holders(shm: Path) -> dict[int, set[str]]:
    """Which processes hold SQLite's write or checkpoint lock on this database, from
    /proc/locks (a process holding a lock shows with its pid; waiters are skipped)."""
    try:
        inode = os.stat(shm).st_ino
        text = Path("/proc/locks").read_text()
    except OSError:
        return {}
    held: dict[int, set[str]] = {}
    for line in text.splitlines():
        # "12: POSIX  ADVISORY  WRITE 4242 fd:01:123456 120 120"; a waiter has "->".
        fields = line.split()
        if len(fields) != 8 or fields[1] != "POSIX" or fields[3] != "WRITE":
            continue
        with contextlib.suppress(ValueError):
            if int(fields[5].rsplit(":", 1)[1]) != inode:
                continue
            start = int(fields[6])
            end = 1 << 62 if fields[7] == "EOF" else int(fields[7])
            for offset, name in SHM_LOCKS.items():
                if start <= offset <= end:
                    held.setdefault(int(fields[4]), set()).add(name)
    return held


def kill_holding(shm: Path, lock: str, workers: list[int], within: float) -> int | None:
    """SIGKILL the first of ``workers`` seen holding ``lock`` ("write": in a write transaction
    and not checkpointing; "checkpoint": in a checkpoint); None when none did ``within`` s.
    Polls about 2,000 times a second, so a lock held for a tenth of a millisecond is seen."""
    wanted = set(workers)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for pid, locks in sqlite_lock_holders(shm).items():
            if pid in wanted and lock in locks and (lock == "checkpoint" or len(locks) == 1):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    return pid
        time.sleep(0.0005)
    return None
