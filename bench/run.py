#!/usr/bin/env python3
"""The HTTP benchmark behind ``make bench`` and ``make bench-quick``.

For each backend (PostgreSQL, SQLite) and dataset (big, small): build the dataset with
``bench/dataset.py build`` (unless ``--reuse-data``), start ``hojre serve --workers 2`` on a
free port and, beside it, the bare FastAPI app of ``bench/bare_app.py`` (the same uvicorn
options) and the database floors of ``bench/floor_app.py`` (a raw ASGI app running one SELECT by
primary key, or one UPDATE in a write transaction, per request on the session's database), check
one response of every endpoint, then
drive each endpoint with wrk and ``bench/lua/generic.lua`` replaying requests that
``bench/endpoints.py`` built from the dataset (real tokens and ids, rotated). The endpoints are
generated from the route table (``hojre.web_v1.app.ROUTERS``): every v1 endpoint, plus
``GET /web/ping``, which runs first and last, and the bare app and the floors, measured next to it.
Writes ``bench/results/<date>.md`` (and ``.json``): per endpoint and database req/s, ratio to
ping, p50/p99, errors, big ÷ small, the target and whether it is met; the machine's load and
where the CPU went during each run; in the full run also the access log's cost, SQL statements
per request and a py-spy profile of the slowest read.

Run it with the project's venv Python (``.venv/bin/python bench/run.py --help``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
LUA = BENCH / "lua"
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
HOJRE = BIN / "hojre"
PY_SPY = WORK / "tools" / "bin" / "py-spy"
PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
# The databases' names: <DB_PREFIX>_big, <DB_PREFIX>_small (PostgreSQL, and the SQLite files in
# WORK). --db-prefix and --work move a second run (a helper's, a branch's) off the default ones.
DB_PREFIX = "hojre_bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROFILE_RATE = 200


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    script: str
    kind: str  # ping, bare, floor (both floors), read, write (the route's flag: GETs marking
    # rows seen write)
    method: str = "GET"
    path: str = ""  # as declared in the route table, without /web
    recipe: Any = None  # bench/endpoints.py Recipe

    @property
    def exempt(self) -> str | None:
        return getattr(self.recipe, "exempt", None)

    @property
    def cached(self) -> bool:
        return bool(getattr(self.recipe, "cached", False))

    @property
    def pool(self) -> str | None:
        return getattr(self.recipe, "pool", None)


def _recipes() -> Any:
    sys.path.insert(0, str(BENCH))
    import endpoints as recipes  # bench/endpoints.py

    return recipes


def route_table() -> list[tuple[str, str, bool]]:
    """(method, path, writes) of every v1 endpoint, from the app's own route table."""
    sys.path.insert(0, str(ROOT / "src"))
    from hojre.web_v1.app import ROUTERS

    return [(e.method, e.path, e.writes) for r in ROUTERS for e in r.endpoints]


_ENDPOINTS: list[Endpoint] = []


def all_endpoints() -> list[Endpoint]:
    """Ping, the bare app, the floors, then every route in the table's order, with its recipe."""
    if _ENDPOINTS:
        return _ENDPOINTS
    recipes = _recipes()
    found = [
        Endpoint("ping", "GET /web/ping", "generic.lua", "ping", "GET", "/ping",
                 recipes.TABLE[recipes.PING]),
        Endpoint("bare", "bare FastAPI app, GET / (1 KB of JSON)", "generic.lua", "bare"),
        Endpoint("floor", "floor app, GET /db?id= (one SELECT by primary key)", "generic.lua",
                 "floor"),
        Endpoint("floor-write", "floor app, POST /write?id= (one UPDATE in a write transaction)",
                 "generic.lua", "floor", "POST"),
    ]  # fmt: skip
    # GET /img/…: served before the v1 dispatch (no route of the table), measured as reads.
    for key, (label, recipe) in recipes.IMG.items():
        found.append(Endpoint(key, label, "generic.lua", "read", "GET", "", recipe))
    missing = []
    for method, path, writes in route_table():
        recipe = recipes.TABLE.get((method, path))
        if recipe is None:
            missing.append(f"{method} {path}")
            continue
        found.append(
            Endpoint(recipes.key_of(method, path), f"{method} /web{path}", "generic.lua",
                     "write" if writes else "read", method, path, recipe)
        )  # fmt: skip
        for name, variant in recipes.VARIANTS.get((method, path), {}).items():
            found.append(
                Endpoint(f"{recipes.key_of(method, path)}+{name}",
                         f"{method} /web{path} ({name})", "generic.lua",
                         "write" if writes else "read", method, path, variant)
            )  # fmt: skip
    if missing:
        raise SystemExit(f"no benchmark recipe (bench/endpoints.py) for: {', '.join(missing)}")
    _ENDPOINTS.extend(found)
    return _ENDPOINTS


def by_key() -> dict[str, Endpoint]:
    return {e.key: e for e in all_endpoints()}


# The quick run's representative subset: the cached lists, a login read, lists and composites
# of both kinds, the chat reads, and writes of each family (a toggle, a message, a consumed
# pool).
QUICK = (
    "states", "cities", "users", "store-user-comments", "stores/{id}", "chats", "main-chats",
    "user/add-like", "user/send-chat-message", "user/delete-favorite",
)  # fmt: skip
TARGETS = {  # (reads ≥ × ping, writes ≥ × ping)
    "postgres": (0.25, 0.12),
    "sqlite": (0.45, 0.25),
}
CACHED_TARGET = 0.8  # the cached public lists, on both databases
ARGON2_CONNECTIONS = 8  # wrk's connections for the endpoints bounded by argon2
BARE_TARGET = 0.9  # /web/ping ÷ the bare FastAPI app
SIDE_KINDS = ("bare", "floor")  # measured beside /web/ping on servers of their own: no target
# The write floor's table, bench_floor_counts (bench/floor_app.py): its ids 1..N, which the
# write floor's requests rotate over.
FLOOR_COUNT_ROWS = 10_000
# One client address sending thousands of requests a second for a few users: far past what
# the per-sender, per-number and per-address throttles and the SMS budgets let a person do.
# They stay on (their counters cost what they cost, measured with the rest); only their
# limits are out of the load's way. argon2 keeps its shipped cost.
LOAD_LIMITS = {
    f"HOJRE_{name}": "1000000000"
    for name in (
        "COMMENTS_PER_HOUR", "CHAT_MESSAGES_PER_HOUR", "STORE_MESSAGES_PER_HOUR",
        "OFFERS_PER_DAY", "LOGIN_MAX_FAILURES", "LOGIN_NUMBER_MAX_FAILURES",
        "LOGIN_ADDRESS_MAX_FAILURES", "SMS_ADDRESS_MAX_REQUESTS", "SMS_DAILY_CEILING",
        "REGISTER_MAX_SENDS", "FORGET_MAX_SENDS", "FORGET_NUMBER_MAX_SENDS",
        "ACTIVATION_CODES_PER_MINUTE", "ACTIVATION_CODES_PER_DAY",
        "ACTIVATION_CODES_NUMBER_PER_DAY", "ANONYMOUS_UPLOADS_PER_ADDRESS_PER_HOUR",
        "UPLOADS_PER_ADDRESS_PER_HOUR", "UPLOADS_PER_USER_PER_HOUR",
    )
}  # fmt: skip
BIG_SMALL_TARGET = 0.9
P99_P50_TARGET = 5.0


@dataclass
class Config:
    backend: str  # postgres | sqlite
    dataset: str  # big | small
    scale: float

    @property
    def name(self) -> str:
        return f"{self.backend}-{self.dataset}"

    @property
    def url(self) -> str:
        if self.backend == "postgres":
            return f"{PG_BASE}/{self.dbname}"
        return f"sqlite+aiosqlite:///{WORK}/{self.dbname}.db"

    @property
    def data(self) -> Path:
        return WORK / f"data-{self.name}"

    @property
    def dbname(self) -> str:
        return f"{DB_PREFIX}_{self.dataset}"


@dataclass
class Run:
    config: str
    endpoint: str
    variant: str = "hojre serve"
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p75_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    mean_ms: float = 0.0
    max_ms: float = 0.0
    non2xx: int = 0
    app_errors: int = 0
    socket_errors: int = 0
    timeouts: int = 0
    kb_per_response: float = 0.0
    load_before: str = ""
    load_after: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # % of one core
    quiet: float = 0.0  # % of one core the rest of the machine used just before the run
    started: str = ""
    wrapped: int = 0  # requests past the end of a consumed pool (answered "not found" & co)


# -- machine facts ---------------------------------------------------------------------------


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine_jiffies() -> tuple[int, int]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts[:8]) - idle, sum(parts[:8])


def proc_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def tree(pid: int) -> list[int]:
    pids = [pid]
    for child in children_of(pid):
        pids += tree(child)
    return pids


def pg_backends(dbname: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith("postgres: ") and f" {dbname} " in cmd:
                found.append(int(entry.name))
    return found


def machine_facts() -> dict[str, str]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    pg = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    import sqlite3

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{int(mem) / 1024 / 1024:.0f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg or "?",
        "sqlite": sqlite3.sqlite_version,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0].split(" [")[0] if wrk else "?",
    }


def busy_percent(seconds: float) -> float:
    """% of one core the whole machine used over ``seconds`` (we are idle meanwhile)."""
    busy0, total0 = machine_jiffies()
    time.sleep(seconds)
    busy1, total1 = machine_jiffies()
    return (busy1 - busy0) / max(total1 - total0, 1) * 100 * (os.cpu_count() or 1)


def wait_for_quiet(args: Any) -> float:
    """Wait (within the budget) until the other processes leave the CPUs mostly to us."""
    # A short sample when there is no waiting to do: it is only recorded.
    others = busy_percent(1.0 if args.quiet_wait > 0 and args.quiet_left > 0 else 0.3)
    started = time.monotonic()
    while (
        others > args.quiet_cpu
        and args.quiet_left > 0
        and (time.monotonic() - started < args.quiet_wait)
    ):
        time.sleep(1.0)
        others = busy_percent(2.0)
    args.quiet_left -= time.monotonic() - started
    return round(others, 1)


class CpuMeter:
    """Where the machine's CPU went during one wrk run (in % of one core)."""

    def __init__(self, server_pids: list[int], dbname: str | None) -> None:
        self.server_pids = server_pids
        self.dbname = dbname

    def __enter__(self) -> CpuMeter:
        self.t0 = time.perf_counter()
        self.machine0 = machine_jiffies()
        self.server0 = sum(proc_seconds(p) for p in self.server_pids)
        self.pg0 = {p: proc_seconds(p) for p in pg_backends(self.dbname)} if self.dbname else {}
        self.kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.t0
        busy1, total1 = machine_jiffies()
        busy0, total0 = self.machine0
        cores = os.cpu_count() or 1
        machine = (busy1 - busy0) / max(total1 - total0, 1) * 100 * cores
        server = (sum(proc_seconds(p) for p in self.server_pids) - self.server0) / wall * 100
        pg = 0.0
        if self.dbname:
            now = {p: proc_seconds(p) for p in pg_backends(self.dbname)}
            pg = sum(v - self.pg0.get(p, 0.0) for p, v in now.items()) / wall * 100
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        client = (kids.ru_utime + kids.ru_stime) - (self.kids0.ru_utime + self.kids0.ru_stime)
        client = client / wall * 100
        self.result = {
            "machine": round(machine, 1),
            "server": round(server, 1),
            "postgres": round(pg, 1),
            "wrk": round(client, 1),
            "others": round(max(0.0, machine - server - pg - client), 1),
        }


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(config: Config, *, access_log: bool = True) -> Iterator[tuple[str, list[int]]]:
    """``hojre serve --workers 2`` (or uvicorn itself without the access log)."""
    port = free_port()
    env = dict(os.environ, HOJRE_DATABASE_URL=config.url, HOJRE_LOG_LEVEL="warning",
               HOJRE_MEDIA_ROOT=str(media_root(config)), **LOAD_LIMITS)  # fmt: skip
    if access_log:
        cmd = [str(HOJRE), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    else:
        cmd = [
            str(BIN / "python"),
            "-m",
            "uvicorn",
            "hojre.web_v1.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
            "--no-server-header",
            "--proxy-headers",
            "--log-level",
            "warning",
        ]
    log_path = WORK / f"server-{config.name}{'' if access_log else '-noaccesslog'}.log"
    with _process(cmd, env, log_path, port, "/web/ping") as found:
        yield found


@contextlib.contextmanager
def bare_server() -> Iterator[tuple[str, list[int]]]:
    """bench/bare_app.py: a bare FastAPI app under the same uvicorn options, 2 workers."""
    port = free_port()
    cmd = [str(BIN / "python"), str(BENCH / "bare_app.py"), "--port", str(port), "--workers", "2"]
    with _process(cmd, None, WORK / "server-bare.log", port, "/") as found:
        yield found


@contextlib.contextmanager
def floor_server(config: Config) -> Iterator[tuple[str, list[int]]]:
    """bench/floor_app.py on the session's database: one SELECT (GET /db) or one write
    transaction (POST /write) per request, 2 workers. Its table bench_floor_counts is made
    first (see :func:`floor_counts`)."""
    port = free_port()
    cmd = [str(BIN / "python"), str(BENCH / "floor_app.py"), "--port", str(port),
           "--workers", "2", "--database-url", config.url]  # fmt: skip
    with _process(cmd, None, WORK / f"server-floor-{config.name}.log", port, "/ping") as found:
        yield found


@contextlib.contextmanager
def _process(
    cmd: list[str], env: dict[str, str] | None, log_path: Path, port: int, probe: str
) -> Iterator[tuple[str, list[int]]]:
    """Start ``cmd`` in a session of its own, wait until ``probe`` answers 200, and stop the
    whole group afterwards (SIGTERM, SIGKILL after 20 s)."""
    with log_path.open("ab") as log:
        log.write(f"\n==== {dt.datetime.now().isoformat()} {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited ({proc.returncode}); see {log_path}")
            with contextlib.suppress(OSError), urllib.request.urlopen(base + probe, timeout=2) as r:
                if r.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not answer; see {log_path}")
            time.sleep(0.3)
        time.sleep(1.0)  # both workers up
        yield base, tree(proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the group we started (start_new_session)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- checks and wrk --------------------------------------------------------------------------


def first_fields(path: Path) -> list[str]:
    with path.open() as f:
        return f.readline().split()


def as_urllib(
    base: str, request: tuple[str, str, str], data: Path | None = None
) -> urllib.request.Request:
    method, target, body = request
    if method == "POST" and body.startswith(_recipes().MULTIPART):
        assert data is not None, "a multipart body is read from the dataset's folder"
        raw, content_type = _recipes().multipart_body(data, body)
        return urllib.request.Request(
            base + target, data=raw, headers={"Content-Type": content_type}
        )
    if method == "POST":
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        return urllib.request.Request(base + target, data=body.encode(), headers=form)
    return urllib.request.Request(base + target)


def media_root(config: Config) -> Path:
    """The bench server's media store (HOJRE_MEDIA_ROOT): the run's own, beside its data."""
    return WORK / f"media-{config.name}"


SEED_IMAGES = 20


def ensure_upload_body(config: Config) -> None:
    """The upload endpoints' multipart body, for a dataset built before it was written."""
    if not (config.data / _recipes().UPLOAD_BODY).exists():
        subprocess.run(
            [str(BIN / "python"), str(BENCH / "dataset.py"), "upload", "--out", str(config.data)],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip


def seed_images(base: str, config: Config) -> None:
    """Upload SEED_IMAGES photos to the running server (imguploadSajad, anonymous) and list
    their keys for GET /img's recipes (bench/endpoints.py IMAGES): real uploads, with their
    rows and files in this run's media store."""
    recipes = _recipes()
    keys = []
    for _ in range(SEED_IMAGES):
        request = as_urllib(base, recipes.upload("/upload/imguploadSajad"), config.data)
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = json.loads(r.read())
        if answer.get("status") != "success":
            raise RuntimeError(f"seeding GET /img: the upload failed: {answer}")
        keys.append(answer["data"]["name"])
    (config.data / recipes.IMAGES).write_text("".join(f"{k}\n" for k in keys))


def check_endpoints(
    base: str, data: Path, endpoints: list[Endpoint] | None = None
) -> dict[str, dict[str, Any]]:
    """One request per endpoint with urllib: HTTP status, envelope status, size. Endpoints
    that consume a pool are left to their runs (their pool is armed just before)."""
    import random

    recipes = _recipes()
    source = recipes.Data(data, random.Random(7))
    found: dict[str, dict[str, Any]] = {}
    for e in endpoints or all_endpoints():
        if e.recipe is None or e.pool is not None:
            continue
        request = as_urllib(base, e.recipe.build(source, 1)[0], data)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        took = (time.perf_counter() - started) * 1000
        envelope = ""
        with contextlib.suppress(ValueError):
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                envelope = str(parsed.get("status", "list" if "items" in parsed else "object"))
        ok = status == 200 and envelope != "error"
        found[e.key] = {
            "http": status,
            "envelope": envelope,
            "bytes": len(body),
            "ok": ok,
            "ms": round(took, 1),
            "body": body[:160].decode(errors="replace"),
        }
        if not ok:
            print(f"  ! {e.key}: HTTP {status} {body[:200]!r}", flush=True)
    return found


def wrk(
    base: str, endpoint: Endpoint, data: Path, *, seconds: int, threads: int, connections: int,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, Any], str]:  # fmt: skip
    env = dict(os.environ, BENCH_DATA=str(data), BENCH_LUA=str(LUA), **(env or {}))
    if endpoint.exempt:
        # A password hash takes a core for ~0.1 s (more on a busy machine): 64 at once would
        # queue for longer than any timeout. A burst of ARGON2_CONNECTIONS, waited for.
        connections = min(connections, ARGON2_CONNECTIONS)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "30s" if endpoint.exempt else "10s",
        "-s",
        str(LUA / endpoint.script),
        base,
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    text = out.stdout + out.stderr
    values: dict[str, Any] = {}
    for match in re.finditer(
        r"(\w+)=([\d.]+)", " ".join(line for line in text.splitlines() if line.startswith("BENCH"))
    ):
        values[match.group(1)] = float(match.group(2))
    if "requests" not in values:
        raise RuntimeError(f"wrk failed: {text[-2000:]}")
    return values, text


def settle(pids: list[int], most: float = 30.0) -> None:
    """Wait (at most ``most`` s) until the server is idle: wrk's connections are gone, but
    the password hashes they asked for are still queued (argon2 endpoints), and would weigh
    on the next endpoint's run."""
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        before = sum(proc_seconds(p) for p in pids)
        time.sleep(0.5)
        if sum(proc_seconds(p) for p in pids) - before < 0.1:  # under 20% of a core
            return


def slug(key: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "_", key).strip("_")


def prepare(config: Config, endpoint: Endpoint, args: Any) -> dict[str, str]:
    """The endpoint's requests file (its pool re-armed first) and the Lua script's settings."""
    import random

    recipes = _recipes()
    recipe = endpoint.recipe
    seconds = args.warmup + args.duration + 1
    n = recipes.RANDOM_LINES
    if recipe.order == "sequential":
        n = recipe.rate * seconds  # each line once: as many as the run can send
    elif recipe.pool is not None:
        n = 1000  # a pool drawn from at random (pending registrations asking for codes)
    if recipe.pool is not None:
        subprocess.run(
            [str(BIN / "python"), str(BENCH / "dataset.py"), "arm", "--url", config.url,
             "--out", str(config.data), "--pool", recipe.pool, "--n", str(n)],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    path = config.data / f"requests-{slug(endpoint.key)}.txt"
    requests = recipe.build(recipes.Data(config.data, random.Random(hash(endpoint.key))), n)
    recipes.write_requests(path, requests)
    return {
        "BENCH_REQUESTS": str(path),
        "BENCH_ORDER": recipe.order,
        "BENCH_THREADS": str(args.threads),
        "BENCH_CHAIN": "1" if recipe.chain else "0",
    }


def measure(
    config: Config,
    base: str,
    pids: list[int],
    endpoint: Endpoint,
    args: Any,
    variant: str = "hojre serve",
    env: dict[str, str] | None = None,
    rearm: Callable[[], dict[str, str]] | None = None,
) -> Run:
    """A warm-up, then the measured run. ``rearm``: what gives the measured run a fresh pool
    (newtoken's chained tokens die with the warm-up's wrk)."""
    env = dict(env or {})
    if args.warmup > 0:
        warm, _ = wrk(base, endpoint, config.data, seconds=args.warmup, threads=args.threads,
                      connections=args.connections, env=env)  # fmt: skip
        # A consumed pool: the measured run starts where the warm-up stopped.
        env["BENCH_SKIP"] = str(int(warm.get("next", 0)))
        if endpoint.exempt or rearm is not None:
            settle(pids)  # the warm-up's hashes (or chained requests) done first
        if rearm is not None:
            env = rearm()
    others = wait_for_quiet(args)
    run = Run(
        config.name,
        endpoint.key,
        variant=variant,
        load_before=loadavg(),
        quiet=others,
        started=dt.datetime.now().strftime("%H:%M:%S"),
    )
    dbname = config.dbname if config.backend == "postgres" and endpoint.kind != "bare" else None
    with CpuMeter(pids, dbname) as meter:
        values, _ = wrk(base, endpoint, config.data, seconds=args.duration, threads=args.threads,
                        connections=args.connections, env=env)  # fmt: skip
    run.load_after = loadavg()
    run.cpu = meter.result
    run.requests = int(values["requests"])
    run.seconds = values["duration_us"] / 1e6
    run.rps = run.requests / run.seconds
    for name in ("p50", "p75", "p90", "p99"):
        setattr(run, f"{name}_ms", values.get(name, 0.0) / 1000)
    run.mean_ms = values.get("mean", 0.0) / 1000
    run.max_ms = values.get("max", 0.0) / 1000
    run.non2xx = int(values.get("non2xx", 0))
    run.app_errors = int(values.get("app_errors", 0))
    run.socket_errors = int(values.get("socket_errors", 0))
    run.timeouts = int(values.get("timeouts", 0))
    run.wrapped = int(values.get("wrapped", 0))
    run.kb_per_response = values.get("bytes", 0.0) / max(run.requests, 1) / 1024
    errors = run.non2xx + run.app_errors + run.socket_errors + run.timeouts
    print(
        f"  {endpoint.key:<36} {run.rps:8.1f} req/s  p50 {run.p50_ms:7.1f} ms  "
        f"p99 {run.p99_ms:8.1f} ms  errors {errors}"
        f"{f' wrapped {run.wrapped}' if run.wrapped else ''}  load {run.load_after}",
        flush=True,
    )
    return run


# -- profiles --------------------------------------------------------------------------------

BUCKETS = (  # (bucket, files' path prefixes as py-spy prints them) in order of precedence
    ("logging (access log, redaction)", ("logging/", "hojre/core/logging.py")),
    ("asyncpg driver", ("asyncpg/",)),
    ("aiosqlite/sqlite3 driver", ("aiosqlite/", "sqlite3/")),
    ("SQLAlchemy ORM/Core", ("sqlalchemy/",)),
    ("pydantic", ("pydantic/", "pydantic_core/")),
    ("FastAPI/Starlette", ("fastapi/", "starlette/")),
    ("uvicorn/httptools", ("uvicorn/", "httptools/", "h11/")),
    ("orjson/json", ("orjson", "json/")),
    ("hojre app code", ("hojre/",)),
    ("asyncio/uvloop", ("asyncio/", "uvloop/")),
)
MARKERS = (  # inclusive time of frames: (label, function name, path prefix)
    ("auth query (accounts.authenticate)", "authenticate", "hojre/accounts/service.py"),
    ("request params (collect_params)", "collect_params", "hojre/web_v1/params.py"),
    ("the endpoint's handler", "route", "hojre/web_v1/endpoint.py"),
    ("AsyncSession.execute/scalar/get (all ORM SQL)", "AsyncSession.", "sqlalchemy/ext/asyncio"),
    ("AsyncSession.commit", "AsyncSession.commit", "sqlalchemy/ext/asyncio/session.py"),
    ("AsyncSession.close (pool return, reset)", "AsyncSession.close", "sqlalchemy/ext/asyncio"),
    ("new DB connection (asyncpg.connect)", "connect", "asyncpg/connection.py"),
    ("TLS handshake of a new connection", "_create_ssl_connection", "asyncpg/connect_utils.py"),
    ("SQL compilation (cache lookups included)", "_compile_w_cache", "sqlalchemy/sql/elements"),
    ("asyncpg execute (protocol, prepare)", "execute", "asyncpg/"),
    ("ORM row processing (result fetch)", "fetchall", "sqlalchemy/engine/result.py"),
    ("rendering (envelopes.listing)", "listing", "hojre/web_v1/envelopes.py"),
    ("orjson response (json_response)", "json_response", "hojre/web_v1/endpoint.py"),
    ("uvicorn access log (logger.info)", "Logger.info", "logging/__init__.py"),
    ("RedactFilter.filter", "RedactFilter.filter", "hojre/core/logging.py"),
)


def parse_frame(frame: str) -> tuple[str, str]:
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    return (match.group(1), match.group(2)) if match else (frame, "")


def in_file(path: str, prefix: str) -> bool:
    return path.startswith(prefix) or f"/{prefix}" in path


def summarise_profile(raw: Path) -> dict[str, Any]:
    """Samples of the event loop's thread (uvicorn's pinger thread and others apart)."""
    self_time: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    functions: dict[str, int] = {}
    total = other_threads = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [parse_frame(f) for f in stack.split(";")]
        if not any(func == "Runner.run" and "asyncio/runners" in path for func, path in frames):
            other_threads += count
            continue
        total += count
        leaf_file = frames[-1][1]
        bucket = "other (interpreter, C extensions)"
        for name, prefixes in BUCKETS:
            if any(in_file(leaf_file, p) for p in prefixes):
                bucket = name
                break
        self_time[bucket] = self_time.get(bucket, 0) + count
        for label, func, prefix in MARKERS:
            exact = not func.endswith(".")
            if any(
                (f == func if exact else f.startswith(func)) and in_file(path, prefix)
                for f, path in frames
            ):
                inclusive[label] = inclusive.get(label, 0) + count
        for func_name, path in set(frames):
            if in_file(path, "hojre/") or in_file(path, "sqlalchemy/") or in_file(path, "asyncpg/"):
                key = f"{func_name} ({path})"
                functions[key] = functions.get(key, 0) + count
    top = sorted(functions.items(), key=lambda kv: -kv[1])[:30]
    return {
        "samples": total,
        "other_threads": other_threads,
        "self": self_time,
        "inclusive": inclusive,
        "top": top,
    }


def profile(
    config: Config, base: str, pids: list[int], endpoint: Endpoint, args: Any,
    env: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    """py-spy on one worker while wrk drives the endpoint."""
    if not PY_SPY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(WORK / "tools")], check=True)
        subprocess.run([str(WORK / "tools" / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    workers = [
        p
        for p in pids[1:]
        if "spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
    ] or pids[1:]
    worker = workers[0]
    raw = WORK / f"profile-{config.name}-{slug(endpoint.key)}.txt"
    env = dict(os.environ, BENCH_DATA=str(config.data), BENCH_LUA=str(LUA), **env)
    seconds = args.profile_seconds
    load = subprocess.Popen(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{seconds + 4}s",
            "-s",
            str(LUA / endpoint.script),
            base,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    spy = subprocess.run(
        [
            str(PY_SPY),
            "record",
            "-p",
            str(worker),
            "-d",
            str(seconds),
            "-r",
            str(PROFILE_RATE),
            "-f",
            "raw",
            "-o",
            str(raw),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    load.wait()
    if spy.returncode != 0 or not raw.exists():
        return {"error": spy.stderr[-1000:]}
    summary = summarise_profile(raw)
    summary.update(
        endpoint=endpoint.key,
        config=config.name,
        worker=worker,
        seconds=seconds,
        rate=PROFILE_RATE,
        raw=str(raw.relative_to(ROOT)),
    )
    return summary


def ensure_pyinstrument() -> None:
    if not (WORK / "pyinstrument" / "pyinstrument").exists():
        if not (WORK / "tools" / "bin" / "pip").exists():
            subprocess.run([sys.executable, "-m", "venv", str(WORK / "tools")], check=True)
        subprocess.run(
            [str(WORK / "tools" / "bin" / "pip"), "install", "-q", "--target",
             str(WORK / "pyinstrument"), "pyinstrument"],
            check=True,
        )  # fmt: skip


def sql_counts(config: Config, requests: int, profile_keys: list[str]) -> dict[str, Any]:
    out = WORK / f"sqlcount-{config.name}.json"
    extra = []
    if profile_keys:
        ensure_pyinstrument()
        extra = ["--profile", ",".join(profile_keys)]
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "sqlcount.py"),
            "--url",
            config.url,
            "--data",
            str(config.data),
            "--requests",
            str(requests),
            "--json",
            str(out),
            *extra,
        ],
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


CHATS_COUNT_SQL = """SELECT count(*) FROM chats
 WHERE chats.customer_id = {u} OR chats.seller_id = {u}
 OR chats.store_id IN (SELECT store_sellers.store_id FROM store_sellers
   WHERE store_sellers.user_id = {u} AND store_sellers.status = 'active'
   UNION SELECT stores.id FROM stores WHERE stores.manager_id = {u})"""


def app_chats_sql(backend: str, user: int) -> str:
    """The count GET /web/chats runs, compiled from the app's current code (its page query
    has the same WHERE); the hand-written first version if that fails."""
    try:
        from sqlalchemy import func, select
        from sqlalchemy.dialects import postgresql, sqlite

        from hojre.messaging.models import Chat
        from hojre.messaging.service import chat_visible_to

        stmt = select(func.count()).select_from(Chat).where(chat_visible_to(user))
        dialect = postgresql.dialect() if backend == "postgres" else sqlite.dialect()
        return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except Exception:  # the app changed shape: keep the report going
        return CHATS_COUNT_SQL.format(u=user)


def code_fingerprint() -> dict[str, str]:
    """Which application code a server ran: a hash of src/hojre and its newest file."""
    import hashlib

    files = sorted((ROOT / "src" / "hojre").rglob("*.py"))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    newest = max(files, key=lambda f: f.stat().st_mtime)
    when = dt.datetime.fromtimestamp(newest.stat().st_mtime).strftime("%H:%M:%S")
    return {"sha256": digest.hexdigest()[:12], "newest": f"{newest.relative_to(ROOT)} {when}"}


def explain_chats(config: Config) -> dict[str, Any]:
    """The plan and time of the count that GET /web/chats runs, for the first token user."""
    user = int(first_fields(config.data / "users.txt")[2])
    sql = app_chats_sql(config.backend, user)
    if config.backend == "postgres":
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", config.dbname, "-At", "-c",
             f"EXPLAIN (ANALYZE, BUFFERS) {sql}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        plan = out.stdout.strip() or out.stderr.strip()
    else:
        import sqlite3

        db = sqlite3.connect(WORK / f"{config.dbname}.db")
        try:
            rows = db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            started = time.perf_counter()
            db.execute(sql).fetchall()
            took = (time.perf_counter() - started) * 1000
        finally:
            db.close()
        plan = "\n".join(f"{r[0]:>3} {r[1]:>3} {r[3]}" for r in rows)
        plan += f"\nexecuted in {took:.1f} ms"
    return {"config": config.name, "user": user, "sql": sql, "plan": plan}


# -- the report ------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def mark(ok: bool | None) -> str:
    return "–" if ok is None else ("✅" if ok else "❌")


def ping_rps(runs: list[Run], config: str) -> float | None:
    pings = [
        r.rps
        for r in runs
        if r.config == config and r.endpoint == "ping" and r.variant == "hojre serve"
    ]
    return sum(pings) / len(pings) if pings else None


def cpu_ms(run: Run) -> float | None:
    """CPU of the server and of PostgreSQL's backends per request (ms)."""
    used = run.cpu.get("server", 0.0) + run.cpu.get("postgres", 0.0)
    return used / 100 * 1000 / run.rps if run.rps and used else None


def ping_cpu_ms(runs: list[Run], config: str) -> float | None:
    costs = [
        cpu_ms(r)
        for r in runs
        if r.config == config and r.endpoint == "ping" and r.variant == "hojre serve"
    ]
    known = [c for c in costs if c]
    return sum(known) / len(known) if known else None


def cpu_ratio(runs: list[Run], run: Run) -> float | None:
    ping, mine = ping_cpu_ms(runs, run.config), cpu_ms(run)
    return ping / mine if ping and mine else None


def find(runs: list[Run], config: str, endpoint: str, variant: str = "hojre serve") -> Run | None:
    found = [
        r for r in runs if r.config == config and r.endpoint == endpoint and r.variant == variant
    ]
    return found[0] if found else None


def report_inprocess_profile(w: Any, name: str, key: str, prof: dict[str, Any]) -> None:
    n = prof["requests"]
    app = prof["app_seconds"] or 1e-9
    w(f"## In-process profile: `{key}` on {name}")
    w("")
    w(
        f"pyinstrument (0.2 ms interval) around {n} sequential in-process requests "
        f"(bench/sqlcount.py): the app took {app / n * 1000:.2f} ms of the event loop per "
        f"request, the loop sat idle waiting {prof['idle_seconds'] / n * 1000:.2f} ms per "
        "request (the database's answers; on SQLite, aiosqlite's thread running the query), "
        "the in-process client (not counted) the rest. pyinstrument's per-call hook slows "
        "call-heavy code more than C code (the profiled app ran about 2× slower than "
        "unprofiled), so read the shares as a ranking with rough sizes."
    )
    w("")
    w("| where the innermost frame is (a C built-in counts for its caller) | share | ms/req |")
    w("|---|---|---|")
    for k, v in sorted(prof["self"].items(), key=lambda kv: -kv[1]):
        w(f"| {k} | {v / app * 100:.1f}% | {v / n * 1000:.2f} |")
    w("")
    w("| inclusive time of | share | ms/req |")
    w("|---|---|---|")
    for k, v in sorted(prof["inclusive"].items(), key=lambda kv: -kv[1]):
        w(f"| {k} | {v / app * 100:.1f}% | {v / n * 1000:.2f} |")
    w("")
    w("<details><summary>Top functions of hojre, SQLAlchemy and asyncpg (inclusive)</summary>")
    w("")
    w("| function | share |")
    w("|---|---|")
    for k, v in prof["top"]:
        w(f"| `{k}` | {v / app * 100:.1f}% |")
    w("")
    w("</details>")
    w("")


def report(state: dict[str, Any]) -> str:
    runs: list[Run] = [Run(**r) for r in state["runs"]]
    configs: list[Config] = [Config(**c) for c in state["configs"]]
    lines: list[str] = []
    w = lines.append
    w(f"# Hojre HTTP benchmark, {state['date']} ({state['mode']})")
    w("")
    w(
        f"`{state['command']}`, from {state['started']} to {state['finished']} "
        f"({state['wall_minutes']:.1f} min)."
    )
    w("")
    facts = state["machine"]
    w(
        f"- Machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['memory']}, Linux "
        f"{facts['kernel']}; Python {facts['python']}, PostgreSQL {facts['postgresql']} "
        f"(shared, stock settings: shared_buffers 128MB), SQLite {facts['sqlite']}, "
        f"{facts['wrk']}."
    )
    w(
        f"- Load average (1, 5, 15 min): {state['load_before']} before, {state['load_after']} "
        "after. Other engineers' test suites share the 2 CPUs, so every number is noisy: the "
        "CPU table below says how much of the machine the server, PostgreSQL, wrk and everything "
        "else took during each run."
    )
    w(
        f"- Server: `hojre serve --workers 2` (uvicorn, httptools, uvloop), access log on as "
        f"shipped (`--no-access-log` turns it off, HOJRE_LOG_LEVEL does not; see below), "
        f"HOJRE_REDIS_URL unset. Client: `wrk -t{state['args']['threads']} "
        f"-c{state['args']['connections']} -d{state['args']['duration']}s --latency` after "
        f"a {state['args']['warmup']} s warm-up, on the same machine; bench/lua/generic.lua "
        "replays requests that bench/endpoints.py built from the dataset (real tokens and ids, "
        "rotated; consumed pools re-armed before each endpoint). Beside it, bench/bare_app.py "
        "(a bare FastAPI app, 1 KB of JSON through orjson, the same uvicorn options, uvicorn's "
        "access log on) is measured next to `/web/ping`."
    )
    w(
        "- ×ping: req/s divided by the mean of the two `/web/ping` runs (first and last) of the "
        "same server session. big÷small: req/s on the big dataset ÷ req/s on the small one; "
        "(×ping) compares the ×ping ratios, which cancels some of the machine's noise."
    )
    w(
        "- CPU ms/req: CPU time of the server's processes plus PostgreSQL's backends of the "
        "bench database, per request, measured from /proc during the run. ×ping (CPU): the "
        "ping's CPU ms/req ÷ this endpoint's; unlike req/s it hardly depends on how much CPU "
        "the other processes on the machine left us, so it is the steadier of the two ratios "
        "(it assumes the run is CPU-bound; on SQLite, main-chats and the writes wait for the "
        "write lock instead)."
    )
    w(
        "- Errors: non-2xx + HTTP 200 bodies that are the v1 error envelope (every response is "
        "checked by the Lua script) + socket errors/timeouts."
    )
    w("")
    for note in state.get("notes", []):
        w(f"- **Note:** {note}")
    if state.get("code"):
        w(
            "- Application code per server session (other engineers change src/hojre during "
            "the day; a hash of every src/hojre/*.py and the newest file): "
            + "; ".join(
                f"{name}: `{c['sha256']}` (newest {c['newest']})"
                for name, c in state["code"].items()
            )
            + "."
        )
    w("")
    w("## Datasets")
    w("")
    w(
        "| backend | dataset | scale | users | stores | products | chats | messages | "
        "interactions | load time |"
    )
    w("|---|---|---|---|---|---|---|---|---|---|")
    for c in configs:
        meta = state["loads"].get(c.name, {})
        rows = meta.get("rows", {})
        inter = sum(rows.get(t, 0) for t in ("marks", "views", "comments"))
        secs = meta.get("total_seconds")
        w(
            f"| {c.backend} | {c.dataset} | {c.scale} | {rows.get('users', 0):,} | "
            f"{rows.get('stores', 0):,} | {rows.get('products', 0):,} | {rows.get('chats', 0):,} | "
            f"{rows.get('chat_messages', 0):,} | {inter:,} | "
            f"{'reused' if secs is None else f'{secs:.0f} s'} |"
        )
    for c in configs:
        meta = state["loads"].get(c.name, {})
        if meta.get("seconds"):
            phases = ", ".join(
                f"{k} {v:.1f}s"
                for k, v in meta["seconds"].items()
                if not k.startswith(("copy ", "insert "))
            )
            w(f"\n{c.name} load phases: {phases}.")
    w("")
    datasets = [d for d in ("big", "small") if any(c.dataset == d for c in configs)]
    known = by_key()
    keys = list(dict.fromkeys(r.endpoint for r in runs if r.variant == "hojre serve"))
    verdicts: list[tuple[str, str, str]] = []  # backend, endpoint, why not met
    w("## Every endpoint")
    w("")
    w(
        "Per database: req/s, ×ping (req/s ÷ the mean of the session's two `/web/ping` runs), "
        "p50/p99 in ms and errors per dataset; big÷small (req/s); the endpoint's target (reads "
        "and writes as the route table declares them; the cached public lists ≥ "
        f"{CACHED_TARGET}×) and whether everything is met: ×ping ≥ target on each dataset, "
        f"big÷small ≥ {BIG_SMALL_TARGET}, p99 ≤ {P99_P50_TARGET:g}× p50, 0 errors. Endpoints "
        "bounded by argon2 by design (login, store-login, register, forget, change-password), "
        "and the uploads (each decodes and re-encodes a photo), are measured and must answer "
        "without errors, but their ratio, big÷small and p99 targets do not apply."
    )
    w("")
    for backend in ("postgres", "sqlite"):
        mine = [c for c in configs if c.backend == backend]
        if not mine:
            continue
        w(f"### {'PostgreSQL' if backend == 'postgres' else 'SQLite'}")
        w("")
        header, rule = "| endpoint | kind |", "|---|---|"
        for d in datasets:
            header += f" {d} req/s | {d} ×ping | {d} p50/p99 | {d} errors |"
            rule += "---|---|---|---|"
        header += " big÷small | target | met |"
        rule += "---|---|---|"
        w(header)
        w(rule)
        reads_target, writes_target = TARGETS[backend]
        for key in keys:
            e = known.get(key)
            if e is None or e.kind in SIDE_KINDS:
                continue
            row = f"| `{e.label}` | {e.kind} |"
            per: dict[str, Run | None] = {}
            why: list[str] = []
            goal = None
            if e.kind == "read":
                goal = CACHED_TARGET if e.cached else reads_target
            elif e.kind == "write":
                goal = writes_target
            judged = e.exempt is None and e.kind != "ping"
            for d in datasets:
                name = f"{backend}-{d}"
                r = find(runs, name, key)
                per[d] = r
                ping = ping_rps(runs, name)
                if r is None:
                    row += " – | – | – | – |"
                    continue
                ratio = r.rps / ping if ping else None
                errs = r.non2xx + r.app_errors + r.socket_errors + r.timeouts
                row += (
                    f" {r.rps:,.0f} | {fmt(ratio)} | {r.p50_ms:.1f}/{r.p99_ms:.1f} | {errs}"
                    f"{f' ({r.wrapped} past the pool)' if r.wrapped else ''} |"
                )
                if errs:
                    why.append(f"{errs} errors on {d}")
                if not r.requests:
                    why.append(f"no answer within the run on {d}")
                if judged and goal is not None and ratio is not None and ratio < goal:
                    why.append(f"×ping {ratio:.2f} < {goal} on {d}")
                if judged and r.p50_ms and r.p99_ms > P99_P50_TARGET * r.p50_ms:
                    why.append(f"p99 {r.p99_ms / r.p50_ms:.1f}× p50 on {d}")
            big, small = per.get("big"), per.get("small")
            if big and small and small.rps:
                ratio_bs = big.rps / small.rps
                row += f" {ratio_bs:.2f} |"
                if judged and ratio_bs < BIG_SMALL_TARGET:
                    why.append(f"big÷small {ratio_bs:.2f}")
            else:
                row += " – |"
            if e.exempt:
                target_text = f"n/a: {e.exempt.split(' (')[0]}"  # the reason's short form
            elif goal is None:
                target_text = "the ceiling"
            else:
                target_text = f"≥ {goal}×{' (cached list)' if e.cached else ''}"
            row += f" {target_text} | {'✅' if not why else '❌ ' + '; '.join(why)} |"
            if why:
                verdicts.append((backend, key, "; ".join(why)))
            w(row)
        w("")
        for c in mine:
            pings = [r for r in runs if r.config == c.name and r.endpoint == "ping"
                     and r.variant == "hojre serve"]  # fmt: skip
            bares = [r for r in runs if r.config == c.name and r.endpoint == "bare"]
            if pings and bares:
                ping = sum(r.rps for r in pings) / len(pings)
                bare = sum(r.rps for r in bares) / len(bares)
                ok = ping / bare >= BARE_TARGET
                if not ok:
                    verdicts.append((backend, f"ping ÷ bare ({c.dataset})", f"{ping / bare:.2f}"))
                w(
                    f"- {c.dataset}: `/web/ping` {', '.join(f'{r.rps:,.0f}' for r in pings)} "
                    f"req/s (first, last); bare FastAPI app "
                    f"{', '.join(f'{r.rps:,.0f}' for r in bares)}; **`/web/ping` ÷ bare = "
                    f"{ping / bare:.2f}** (target ≥ {BARE_TARGET}) {mark(ok)}"
                )
            floor = floor_summary(runs, c.name)
            if floor:
                cost, errors = floor_cost(floor, backend)
                w(
                    f"- {c.dataset}: database floor (bench/floor_app.py: raw ASGI under "
                    f"AccessLog, one SELECT of a user by primary key per request) "
                    f"{', '.join(f'{v:,.0f}' for v in floor['rps'])} req/s (first, last); "
                    f"**floor = {floor['x_ping']:.2f}× ping**{cost}{errors}. This is the most "
                    "one statement per request can answer on this machine: an endpoint's "
                    "×ping target above it cannot be met by any code (reads' target "
                    f"{reads_target}×, writes' {writes_target}×; not a target itself)."
                )
            write_floor = floor_summary(runs, c.name, "floor-write")
            if write_floor:
                cost, errors = floor_cost(write_floor, backend)
                lock = (
                    "BEGIN, UPDATE, COMMIT on the pool"
                    if backend == "postgres"
                    else "the writers' flock, BEGIN IMMEDIATE, UPDATE, COMMIT"
                )
                w(
                    f"- {c.dataset}: write floor (the same app's POST /write: one write "
                    f"transaction per request, {lock}, of a counter by primary key) "
                    f"{', '.join(f'{v:,.0f}' for v in write_floor['rps'])} req/s (first, last); "
                    f"**write floor = {write_floor['x_ping']:.2f}× ping**{cost}{errors}. This "
                    "is the most one write transaction per request can answer here: a write "
                    "endpoint's target above it cannot be met by any code (writes' target "
                    f"{writes_target}×; not a target itself)."
                )
        w("")
    w("## Targets")
    w("")
    total = sum(1 for k in keys if k in known and known[k].kind in ("read", "write"))
    w(
        f"{len(verdicts)} not met (endpoints × databases, and the ping ÷ bare ratio), of "
        f"{total} endpoints on {len({c.backend for c in configs})} database(s)."
    )
    w("")
    for backend, key, reason in verdicts:
        w(f"- {backend} `{key}`: {reason}")
    w("")
    # Access log
    nolog = [r for r in runs if r.variant != "hojre serve"]
    if nolog:
        w("## The access log's cost")
        w("")
        w(
            "The bench runs `hojre serve` as shipped: uvicorn's access log on, every request "
            "logged through the token-redaction filter (`hojre serve --no-access-log` or "
            "HOJRE_ACCESS_LOG=false turn it off; HOJRE_LOG_LEVEL does not). The same app under "
            "`python -m uvicorn hojre.web_v1.asgi:app --workers 2 --no-access-log`, same "
            "database, same wrk settings:"
        )
        w("")
        w(
            "| config | endpoint | with access log req/s | without req/s | gain | with: CPU "
            "ms/req | without: CPU ms/req | CPU saved |"
        )
        w("|---|---|---|---|---|---|---|---|")
        for r in nolog:
            base = find(runs, r.config, r.endpoint)
            gain = f"{(r.rps / base.rps - 1) * 100:+.0f}%" if base else "–"
            cost_with, cost_without = (cpu_ms(base) if base else None), cpu_ms(r)
            saved = (
                f"{(1 - cost_without / cost_with) * 100:+.0f}%"
                if cost_with and cost_without
                else "–"
            )
            gain += f" | {fmt(cost_with, 3)} | {fmt(cost_without, 3)} | {saved}"
            w(
                f"| {r.config} | {r.endpoint} | {base.rps if base else 0:,.0f} | {r.rps:,.0f} | "
                f"{gain} |"
            )
        w("")
    # SQL per request
    if state.get("sql"):
        w("## SQL per request (in-process, one request at a time)")
        w("")
        w(
            "`bench/sqlcount.py`: the ASGI app in-process (httpx), N sequential requests per "
            "endpoint with the same rotation as the Lua scripts. Statements counted with "
            "SQLAlchemy's cursor events and hojre.core.sql's statement listeners (the hot "
            "paths); *driver ms* is the time spent inside the ORM's cursor execution only (the "
            "hot paths' statements are counted, not timed, so there it is 0); *total ms* is "
            "the whole request in the client. Python ms = total − driver. CPU ms: process CPU "
            "time per request (time.process_time: includes the small share of the in-process "
            "client). A write endpoint on hojre.core.sql pays BEGIN and COMMIT (not counted) "
            "only once it writes."
        )
        w("")
        for name, sql in state["sql"].items():
            w(f"**{name}** ({sql['requests']} requests per endpoint)")
            w("")
            w(
                "| endpoint | statements/request | driver ms | total ms | Python ms | "
                "CPU ms | CPU ms in driver |"
            )
            w("|---|---|---|---|---|---|---|")
            for key, v in sql["endpoints"].items():
                cpu = f" {fmt(v.get('cpu_ms'))} | {fmt(v.get('driver_cpu_ms'))} |"
                w(
                    f"| {key} | {v['statements']:.1f} | {v['driver_ms']:.2f} | {v['total_ms']:.2f} "
                    f"| {v['total_ms'] - v['driver_ms']:.2f} |" + cpu
                )
            w("")
    for name, sql in state.get("sql", {}).items():
        for key, prof in sql.get("profiles", {}).items():
            report_inprocess_profile(w, name, key, prof)
    for ex in state.get("explain", []):
        w(f"## Query plan: the count of `GET /web/chats` on {ex['config']} (user {ex['user']})")
        w("")
        w("```sql")
        w(ex["sql"])
        w("```")
        w("")
        w("```")
        w(ex["plan"])
        w("```")
        w("")
    # Profiles
    for prof in state.get("profiles", []):
        if "error" in prof:
            w(f"Profile failed: {prof['error']}")
            continue
        total = prof["samples"] or 1
        label = by_key().get(prof["endpoint"])
        w(f"## Profile: `{label.label if label else prof['endpoint']}` on {prof['config']}")
        w("")
        w(
            f"py-spy record on one of the two workers (pid {prof['worker']}), "
            f"{prof['seconds']} s at {prof['rate']} Hz, under the same wrk load: {total:,} "
            f"samples of the event loop's thread "
            f"({total / prof['rate'] / prof['seconds'] * 100:.0f}% of the samples it could "
            "have had). py-spy's idle detection does not work on this "
            "VM (uvicorn's pinger thread, blocked in recv(), is sampled as busy; --gil and "
            "--nonblocking did not help), so these are wall-clock samples: the waits inside "
            "asyncpg's awaits count as asyncpg time. The in-process profiles below separate "
            f"waits from work. Raw stacks: `{prof['raw']}` (not committed)."
        )
        w("")
        w("Self time by where the innermost frame is:")
        w("")
        w("| where | share |")
        w("|---|---|")
        for k, v in sorted(prof["self"].items(), key=lambda kv: -kv[1]):
            w(f"| {k} | {v / total * 100:.1f}% |")
        w("")
        w("Inclusive time of selected frames:")
        w("")
        w("| frame | share |")
        w("|---|---|")
        for k, v in sorted(prof["inclusive"].items(), key=lambda kv: -kv[1]):
            w(f"| {k} | {v / total * 100:.1f}% |")
        w("")
        w("<details><summary>Top functions of hojre, SQLAlchemy and asyncpg (inclusive)</summary>")
        w("")
        w("| function | share |")
        w("|---|---|")
        for k, v in prof["top"]:
            w(f"| `{k}` | {v / total * 100:.1f}% |")
        w("")
        w("</details>")
        w("")
    # CPU table
    w("## Machine during each run")
    w("")
    w(
        "CPU in % of one core (the machine has 200%): the server's processes, PostgreSQL's "
        "backends of the bench database, wrk, and everything else (other engineers' tests, the "
        "kernel's network work). *others before*: the whole machine's use in the second before "
        "the run, while the bench was idle (each run waits, within a budget, for it to drop "
        "below --quiet-cpu)."
    )
    w("")
    w(
        "| config | endpoint | variant | start | load before | load after | others before | "
        "server | postgres | wrk | others | KiB/resp |"
    )
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        c = r.cpu
        w(
            f"| {r.config} | {r.endpoint} | {r.variant} | {r.started} | {r.load_before} | "
            f"{r.load_after} | {r.quiet:.0f} | {c.get('server', 0):.0f} | "
            f"{c.get('postgres', 0):.0f} | {c.get('wrk', 0):.0f} | {c.get('others', 0):.0f} | "
            f"{r.kb_per_response:.1f} |"
        )
    w("")
    if state.get("checks"):
        w("## Response check before each session")
        w("")
        w("| config | endpoint | HTTP | envelope | bytes | ms (cold) |")
        w("|---|---|---|---|---|---|")
        for name, checks in state["checks"].items():
            for key, v in checks.items():
                w(
                    f"| {name} | {key} | {v['http']} | {v['envelope']} | {v['bytes']:,} | "
                    f"{v['ms']} |"
                )
        w("")
    return "\n".join(lines) + "\n"


# -- main ------------------------------------------------------------------------------------


def build(config: Config, reuse: bool) -> dict[str, Any]:
    meta_path = config.data / "meta.json"
    if reuse and meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        if meta.get("sizes", {}).get("scale") == config.scale:
            print(f"== {config.name}: reusing the dataset at scale {config.scale}", flush=True)
            meta["reused"] = True
            meta.pop("total_seconds", None)
            meta.pop("seconds", None)
            return meta
    print(f"== {config.name}: building the dataset at scale {config.scale}", flush=True)
    if config.data.exists():
        shutil.rmtree(config.data)
    subprocess.run(
        [str(BIN / "python"), str(BENCH / "dataset.py"), "build", "--url", config.url,
         "--scale", str(config.scale), "--reset", "--out", str(config.data)],
        check=True, cwd=ROOT,
    )  # fmt: skip
    loaded: dict[str, Any] = json.loads(meta_path.read_text())
    return loaded


def bare_env() -> dict[str, str]:
    path = WORK / "requests-bare.txt"
    path.write_text("GET\t/\t\n")
    return {"BENCH_REQUESTS": str(path), "BENCH_ORDER": "random", "BENCH_THREADS": "1"}


def floor_env(config: Config) -> dict[str, str]:
    """``GET /db?id=N`` for every user id of the dataset's users.txt, drawn at random."""
    ids = [line.split()[2] for line in (config.data / "users.txt").read_text().splitlines() if line]
    if not ids:
        raise RuntimeError(f"{config.data / 'users.txt'} is empty")
    path = config.data / "requests-floor.txt"
    path.write_text("".join(f"GET\t/db?id={i}\t\n" for i in ids))
    return {"BENCH_REQUESTS": str(path), "BENCH_ORDER": "random", "BENCH_THREADS": "1"}


def _floor_counts_sql(config: Config, statements: list[tuple[str, tuple[int, ...]]]) -> None:
    """Run ``statements`` (SQL, arguments) on the session's database, outside a transaction."""
    if config.backend == "postgres":
        import asyncio

        import asyncpg
        from sqlalchemy.engine import make_url

        dsn = make_url(config.url).set(drivername="postgresql")

        async def run_all() -> None:
            connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
            try:
                for statement, arguments in statements:
                    await connection.execute(statement, *arguments)
            finally:
                await connection.close()

        asyncio.run(run_all())
        return
    import sqlite3

    db = sqlite3.connect(config.url.split(":///", 1)[1], timeout=15, isolation_level=None)
    try:
        for statement, arguments in statements:
            db.execute(statement.replace("$1", "?"), arguments)
    finally:
        db.close()


@contextlib.contextmanager
def floor_counts(config: Config) -> Iterator[None]:
    """The write floor's table on the session's database: ``bench_floor_counts (id, n)`` with
    rows 1..FLOOR_COUNT_ROWS, made here before the floor's workers start (two workers making it
    at once would race) and dropped after the session. Hojre's server does not look at tables
    it does not know (``hojre serve`` checks no schema; Alembic's upgrade only runs its
    revisions), and the table is gone before anything else (sqlcount, plans) runs."""
    drop = ("DROP TABLE IF EXISTS bench_floor_counts", ())
    create = (
        "CREATE TABLE bench_floor_counts (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)",
        (),
    )
    if config.backend == "postgres":
        fill = "INSERT INTO bench_floor_counts (id) SELECT generate_series(1, $1::int)"
    else:
        fill = (
            "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $1) "
            "INSERT INTO bench_floor_counts (id) SELECT i FROM k"
        )
    statements = [drop, create, (fill, (FLOOR_COUNT_ROWS,))]
    if config.backend == "postgres":
        statements.append(("VACUUM ANALYZE bench_floor_counts", ()))
    _floor_counts_sql(config, statements)
    try:
        yield
    finally:
        _floor_counts_sql(config, [drop])


def floor_write_env(config: Config) -> dict[str, str]:
    """``POST /write?id=N`` (no body) for every id of bench_floor_counts, drawn at random."""
    path = config.data / "requests-floor-write.txt"
    path.write_text("".join(f"POST\t/write?id={i}\t\n" for i in range(1, FLOOR_COUNT_ROWS + 1)))
    return {"BENCH_REQUESTS": str(path), "BENCH_ORDER": "random", "BENCH_THREADS": "1"}


def check_floor_write(base: str, env: dict[str, str]) -> dict[str, Any]:
    """One ``POST /write`` of the floor app: the id it answers (a failure stops the session)."""
    target = first_fields(Path(env["BENCH_REQUESTS"]))[1]
    request = urllib.request.Request(base + target, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        body = r.read()
    if json.loads(body) != {"id": int(target.rsplit("=", 1)[1])}:
        raise RuntimeError(f"floor app answered {body[:200]!r} to POST {target}")
    return {"target": target, "bytes": len(body), "body": body[:160].decode(errors="replace")}


def check_floor(base: str, env: dict[str, str]) -> dict[str, Any]:
    """One ``GET /db`` of the floor app: the row it answers (a failure stops the session)."""
    target = first_fields(Path(env["BENCH_REQUESTS"]))[1]
    with urllib.request.urlopen(base + target, timeout=30) as r:
        body = r.read()
    row = json.loads(body)
    if not isinstance(row, dict) or set(row) != {"id", "cellphone", "name", "family"}:
        raise RuntimeError(f"floor app answered {body[:200]!r} to {target}")
    return {"target": target, "bytes": len(body), "body": body[:160].decode(errors="replace")}


def floor_cost(floor: dict[str, Any], backend: str) -> tuple[str, str]:
    """A floor line's CPU and errors phrases (empty when there is nothing to say)."""
    cost = (
        f"; CPU {fmt(floor['cpu_ms'], 3)} ms/req (floor processes"
        f"{' + PostgreSQL backends' if backend == 'postgres' else ''}) against "
        f"ping's {fmt(floor['ping_cpu_ms'], 3)}, ×ping (CPU) {fmt(floor['x_ping_cpu'])}"
        if floor["cpu_ms"]
        else ""
    )
    return cost, f"; {floor['errors']} errors" if floor["errors"] else ""


def floor_summary(runs: list[Run], config: str, key: str = "floor") -> dict[str, Any] | None:
    """A floor of one session (``floor``: the read floor, ``floor-write``: the write floor):
    req/s of its runs, ×ping, CPU ms/req (server + PostgreSQL)."""
    floors = [r for r in runs if r.config == config and r.endpoint == key]
    ping = ping_rps(runs, config)
    if not floors or not ping:
        return None
    rps = sum(r.rps for r in floors) / len(floors)
    costs = [c for c in (cpu_ms(r) for r in floors) if c]
    cost = sum(costs) / len(costs) if costs else None
    ping_cost = ping_cpu_ms(runs, config)
    return {
        "rps": [round(r.rps, 1) for r in floors],
        "ping_rps": round(ping, 1),
        "x_ping": round(rps / ping, 3),
        "cpu_ms": round(cost, 4) if cost else None,
        "ping_cpu_ms": round(ping_cost, 4) if ping_cost else None,
        "x_ping_cpu": round(ping_cost / cost, 3) if cost and ping_cost else None,
        "server_cpu": [r.cpu.get("server", 0.0) for r in floors],
        "postgres_cpu": [r.cpu.get("postgres", 0.0) for r in floors],
        "errors": sum(r.non2xx + r.app_errors + r.socket_errors + r.timeouts for r in floors),
    }


# bench/sqlcount.py's own endpoint names for the routes it knows.
SQLCOUNT_KEYS = {
    "ping": "ping", "users": "users", "store-user-comments": "store-user-comments",
    "stores/{id}": "stores/<id>", "chats": "chats", "main-chats": "main-chats",
    "user/add-like": "add-like", "user/send-chat-message": "send-chat-message",
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("full", "quick"), default="full")
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--datasets", default=None, help="big,small (quick: small)")
    parser.add_argument(
        "--endpoints",
        default=None,
        help="keys, comma-separated: the path without /web/, e.g. users,stores/{id},"
        "user/add-like (full: every endpoint; quick: a representative subset). ping, the "
        "bare app and the floors always run.",
    )
    parser.add_argument("--list", action="store_true", help="print the endpoint keys and stop")
    parser.add_argument("--duration", type=int, default=None, help="s per endpoint (4; quick 2)")
    parser.add_argument("--warmup", type=int, default=None, help="s (1; quick 1)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--big-scale", type=float, default=1.0)
    parser.add_argument(
        "--sqlite-big-scale",
        type=float,
        default=None,
        help="a smaller big dataset for SQLite (default: --big-scale)",
    )
    parser.add_argument("--small-scale", type=float, default=0.01)
    parser.add_argument(
        "--reuse-data", action="store_true", help="keep a dataset already built at the same scale"
    )
    parser.add_argument("--access-log-check", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--profile", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--profile-seconds", type=int, default=10)
    parser.add_argument(
        "--profile-endpoints",
        default=None,
        help="profile these (default: the slowest read that its target does not exempt)",
    )
    parser.add_argument(
        "--inprocess-profile",
        action="store_true",
        help="pyinstrument profiles in bench/sqlcount.py (off: they cost minutes)",
    )
    parser.add_argument("--sql-requests", type=int, default=None)
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="before each run, wait up to this many s for the other processes "
        "to use less than --quiet-cpu (default 0: the time budget has no room for it)",
    )
    parser.add_argument(
        "--quiet-cpu",
        type=float,
        default=60.0,
        help="%% of one core the rest of the machine may use when we start",
    )
    parser.add_argument(
        "--quiet-budget", type=float, default=120.0, help="total s of waiting for a quiet machine"
    )
    parser.add_argument("--name", default=None, help="results file name (default: the date)")
    parser.add_argument(
        "--work", type=Path, default=None,
        help="datasets, request files and logs (default bench/.work): a second run's own",
    )  # fmt: skip
    parser.add_argument(
        "--db-prefix", default=None,
        help="the databases' names, <prefix>_big and <prefix>_small (default hojre_bench; "
        "must contain 'bench': the build drops them)",
    )  # fmt: skip
    parser.add_argument(
        "--note", action="append", default=[], help="with --report-only: add a note (repeatable)"
    )
    parser.add_argument(
        "--refresh-explain", action="store_true", help="with --report-only: plans again"
    )
    parser.add_argument(
        "--report-only", type=Path, default=None, help="rewrite the .md of a results .json and stop"
    )
    args = parser.parse_args()
    global WORK, DB_PREFIX
    if args.work is not None:
        WORK = args.work.resolve()
    if args.db_prefix is not None:
        if "bench" not in args.db_prefix:
            raise SystemExit(f"--db-prefix {args.db_prefix!r}: the name must contain 'bench'")
        DB_PREFIX = args.db_prefix
    if args.list:
        for e in all_endpoints():
            print(f"{e.key:<40} {e.label:<50} {e.kind}{' pool ' + e.pool if e.pool else ''}")
        return
    if args.report_only:
        saved = json.loads(args.report_only.read_text())
        saved.setdefault("notes", []).extend(args.note)
        if args.refresh_explain:
            configs = {c["backend"] + "-" + c["dataset"]: Config(**c) for c in saved["configs"]}
            saved["explain"] = [
                explain_chats(configs[e["config"]]) for e in saved.get("explain", [])
            ]
        for prof in saved.get("profiles", []):
            if prof.get("raw") and (ROOT / prof["raw"]).exists():
                prof.update(summarise_profile(ROOT / prof["raw"]))
        args.report_only.write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n")
        args.report_only.with_suffix(".md").write_text(report(saved))
        return
    quick = args.mode == "quick"
    args.duration = args.duration or (2 if quick else 4)
    args.warmup = args.warmup if args.warmup is not None else 1
    datasets = (args.datasets or ("small" if quick else "big,small")).split(",")
    backends = args.backends.split(",")
    known = by_key()
    if args.endpoints:
        keys = args.endpoints.split(",")
    elif quick:
        keys = list(QUICK)
    else:
        keys = [e.key for e in all_endpoints() if e.kind in ("read", "write")]
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise SystemExit(f"unknown endpoints {unknown}: see --list")
    endpoints = [known[k] for k in keys if known[k].kind in ("read", "write")]
    access_check = args.access_log_check == "yes" or (args.access_log_check == "auto" and not quick)
    if args.quiet_wait is None:
        args.quiet_wait = 0.0
    args.quiet_left = args.quiet_budget
    do_profile = args.profile == "yes" or (args.profile == "auto" and not quick)
    sql_requests = args.sql_requests or (50 if quick else 300)

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.time()
    today = dt.date.today().isoformat()
    state: dict[str, Any] = {
        "date": today,
        "mode": args.mode,
        "command": "python bench/run.py " + " ".join(sys.argv[1:]),
        "args": {
            "threads": args.threads,
            "connections": args.connections,
            "duration": args.duration,
            "warmup": args.warmup,
        },
        "started": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine_facts(),
        "load_before": loadavg(),
        "configs": [],
        "loads": {},
        "runs": [],
        "checks": {},
        "sql": {},
        "profiles": [],
    }
    configs = []
    for backend in backends:
        for dataset in datasets:
            scale = args.small_scale if dataset == "small" else args.big_scale
            if dataset == "big" and backend == "sqlite" and args.sqlite_big_scale:
                scale = args.sqlite_big_scale
            configs.append(Config(backend, dataset, scale))
    state["configs"] = [asdict(c) for c in configs]

    for config in configs:
        state["loads"][config.name] = build(config, args.reuse_data)
        ensure_upload_body(config)
    name = args.name or (today if not quick else f"{today}-quick")
    if not args.name:  # a committed report of the same day stays as it is
        base_name, n = name, 1
        while (RESULTS / f"{name}.md").exists() or (RESULTS / f"{name}.json").exists():
            n += 1
            name = f"{base_name}-{n}"
    out_md, out_json = RESULTS / f"{name}.md", RESULTS / f"{name}.json"

    def save() -> None:
        state["finished"] = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        state["wall_minutes"] = (time.time() - started) / 60
        state["load_after"] = loadavg()
        out_json.write_text(json.dumps(state, indent=1, ensure_ascii=False) + "\n")
        out_md.write_text(report(state))

    runs: list[Run] = []
    ping, bare, floor = known["ping"], known["bare"], known["floor"]
    floor_write = known["floor-write"]
    for config in configs:
        print(f"== {config.name}: measuring (load {loadavg()})", flush=True)
        state.setdefault("code", {})[config.name] = code_fingerprint()
        with (
            server(config) as (base, pids),
            bare_server() as (bare_base, bare_pids),
            floor_counts(config),
            floor_server(config) as (floor_base, floor_pids),
        ):
            if any(e.key.startswith("img") for e in endpoints):
                seed_images(base, config)
            state["checks"][config.name] = check_endpoints(base, config.data, [ping, *endpoints])
            floor_requests = floor_env(config)
            state.setdefault("floor_checks", {})[config.name] = check_floor(
                floor_base, floor_requests
            )
            floor_writes = floor_write_env(config)
            state.setdefault("floor_write_checks", {})[config.name] = check_floor_write(
                floor_base, floor_writes
            )
            envs: dict[str, dict[str, str]] = {}
            # The ceiling, the database floors and the bare app side by side, first and last.
            order = (ping, floor, floor_write, bare, *endpoints, bare, floor_write, floor, ping)
            for e in order:
                if e.kind == "bare":
                    run = measure(config, bare_base, bare_pids, e, args, env=bare_env())
                elif e.kind == "floor":
                    floor_load = floor_writes if e is floor_write else floor_requests
                    run = measure(config, floor_base, floor_pids, e, args, env=floor_load)
                else:
                    # A consumed pool is re-armed before the endpoint's runs.
                    envs[e.key] = prepare(config, e, args)
                    rearm = partial(prepare, config, e, args) if e.recipe.chain else None
                    run = measure(config, base, pids, e, args, env=envs[e.key], rearm=rearm)
                    if e.exempt:
                        settle(pids)
                runs.append(run)
                state["runs"].append(asdict(run))
                save()
            # Against the mean of both pings, as the report's ×ping.
            state.setdefault("floor", {})[config.name] = floor_summary(runs, config.name)
            state.setdefault("floor_write", {})[config.name] = floor_summary(
                runs, config.name, "floor-write"
            )
            save()
            is_largest = config.dataset == datasets[0]
            if do_profile and is_largest:
                ping_rate = ping_rps(runs, config.name) or 1.0
                reads = [
                    r for r in runs if r.config == config.name and known[r.endpoint].kind == "read"
                    and known[r.endpoint].exempt is None
                ]  # fmt: skip
                chosen_keys = (
                    [min(reads, key=lambda r: r.rps / ping_rate).endpoint] if reads else []
                )
                if args.profile_endpoints:
                    chosen_keys = args.profile_endpoints.split(",")
                for chosen in dict.fromkeys(chosen_keys):
                    print(f"  profiling {chosen}", flush=True)
                    env = envs.get(chosen) or prepare(config, known[chosen], args)
                    state["profiles"].append(profile(config, base, pids, known[chosen], args, env))
                    save()
        if access_check and config.dataset == datasets[0]:
            print(f"== {config.name}: uvicorn without the access log", flush=True)
            with server(config, access_log=False) as (base, pids):
                for key in ("ping", "users"):
                    if key == "ping" or key in keys:
                        e = known[key]
                        run = measure(config, base, pids, e, args,
                                      variant="uvicorn --no-access-log",
                                      env=prepare(config, e, args))  # fmt: skip
                        runs.append(run)
                        state["runs"].append(asdict(run))
                save()
    for config in configs:
        if config.dataset == datasets[0] and not quick:
            print(f"== {config.name}: SQL statements per request", flush=True)
            profile_keys = (
                [SQLCOUNT_KEYS[k] for k in keys if k in SQLCOUNT_KEYS and known[k].kind == "read"]
                if args.inprocess_profile
                else []
            )
            state["sql"][config.name] = sql_counts(config, sql_requests, profile_keys)
            state.setdefault("explain", []).append(explain_chats(config))
    save()
    print(f"wrote {out_md.relative_to(ROOT)} ({(time.time() - started) / 60:.1f} min)")


if __name__ == "__main__":
    main()
