"""``make faults``: writes under kill -9 and PostgreSQL crashes; nothing acknowledged is lost.

Runs on PostgreSQL, then on SQLite (``--database postgres|sqlite|all``, default all):

1. A private PostgreSQL (initdb in a temporary directory, its own port, trust auth), or an
   SQLite file in the temporary directory, migrated and loaded with the demo marketplace; SMS
   go to ``<tmp>/sms.jsonl``.
2. ``hojre serve --workers 2`` on a free port.
3. For ``FAULTS_SECONDS`` (default 70) a few clients register fresh numbers, like, dislike and
   unlike stores, comment, view, and send chat messages (customers and a seller), while at
   random moments a worker is killed with SIGKILL and PostgreSQL is stopped in immediate mode
   (no checkpoint: crash recovery at the restart) and started again 1–2.5 s later. On SQLite
   (one file, nothing to crash but the processes) workers are killed at random moments, in
   the middle of a write transaction and in the middle of a WAL checkpoint (seen in
   /proc/locks holding SQLite's write or checkpoint lock).
4. The server is stopped, every SMS still due is delivered with ``hojre outbox deliver``, and
   the ledger of acknowledged writes is compared with the database and the SMS file.

Exit status 0 only when nothing acknowledged is lost, every counter equals its rows, no SMS
went out twice and every registered user got exactly one (and, on SQLite, the file passes
``PRAGMA integrity_check``). Environment: ``FAULTS_SECONDS``,
``FAULTS_SEED``, ``FAULTS_WORKERS`` (2), ``FAULTS_KEEP=1`` (keep the temporary directory),
``FAULTS_SYNCHRONOUS_COMMIT=off`` (self-test: PostgreSQL then loses acknowledged commits).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import httpx
from cluster import PrivatePostgres, Server, free_port, kill_holding, run
from db import Db
from load import (
    VOTE_STATES,
    Account,
    Ledger,
    Load,
    chat_client,
    login,
    registration_client,
    start_chat,
    vote_client,
    wait_for_write,
)
from verify import Verdict, verify

ROOT = Path(__file__).resolve().parent.parent
HOJRE = Path(sys.executable).parent / "hojre"
DEMO_PASSWORD = os.environ.get("HOJRE_DEMO_PASSWORD", "hojre-demo")
DEMO_SELLER = "09120000003"  # a seller of store 1
CUSTOMERS = 24
STORES = 12
REQUEST_TIMEOUT = 5.0
CATCH_SECONDS = 10.0  # how long a fault waits for a worker in a write or a checkpoint
PG_KINDS = ("worker", "postgres")
SQLITE_KINDS = ("worker", "worker-in-write", "worker-in-checkpoint")


@dataclass
class Target:
    """The database under test: a private PostgreSQL, or an SQLite file."""

    pg: PrivatePostgres | None = None
    sqlite: Path | None = None

    @property
    def name(self) -> str:
        return "PostgreSQL" if self.pg is not None else "SQLite"

    @property
    def url(self) -> str:
        if self.pg is not None:
            return self.pg.url
        return f"sqlite+aiosqlite:///{self.sqlite}"

    def db(self) -> Db:
        if self.pg is not None:
            return Db(dsn=self.pg.dsn)
        return Db(path=str(self.sqlite))

    def wal_bytes(self) -> int:
        try:
            return os.path.getsize(f"{self.sqlite}-wal")
        except OSError:
            return 0


@dataclass
class Fault:
    at: float  # seconds since the load started
    kind: str  # PG_KINDS, "worker+postgres", or SQLITE_KINDS
    detail: str = ""
    ended: float = 0.0  # monotonic time the fault was over (PostgreSQL back, worker killed)


@dataclass
class Run:
    seconds: float
    seed: int
    workers: int
    faults: list[Fault] = field(default_factory=list)
    kills: int = 0
    harness_restarts: int = 0
    recovery: float | None = None
    workers_after: int = 0
    sms_forced_pending: int = 0
    sms_orphaned_claims: int = 0
    sms_orphans_already_sent: int = 0
    delivery_rounds: int = 0
    caught: Counter[str] = field(default_factory=Counter)  # SQLite kills in a write/checkpoint
    wal_max: int = 0  # SQLite: the largest -wal file seen during the load
    wal_samples: int = 0


def hojre_env(database_url: str, sms_file: Path) -> dict[str, str]:
    """The server's and CLI's environment: nothing inherited from HOJRE_* (no shared Redis)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOJRE_")}
    env.update(
        HOJRE_DATABASE_URL=database_url,
        HOJRE_SMS_BACKEND=f"file:{sms_file}",
        HOJRE_OUTBOX_POLL_SECONDS="1",
        HOJRE_DEMO_PASSWORD=DEMO_PASSWORD,
        HOJRE_LOG_LEVEL="warning",
        # A cheap argon2: the run measures durability, not password hashing.
        HOJRE_ARGON2_TIME_COST="1",
        HOJRE_ARGON2_MEMORY_COST_KIB="8192",
        HOJRE_ARGON2_PARALLELISM="1",
    )
    # The load is one client address writing for a few accounts far faster than a person:
    # the throttles count as usual, with limits out of its way.
    for name in ("COMMENTS_PER_HOUR", "CHAT_MESSAGES_PER_HOUR", "SMS_ADDRESS_MAX_REQUESTS",
                 "REGISTER_MAX_SENDS", "LOGIN_MAX_FAILURES", "LOGIN_ADDRESS_MAX_FAILURES",
                 "SMS_DAILY_CEILING"):  # fmt: skip
        env[f"HOJRE_{name}"] = "1000000000"
    return env


def schedule(rng: random.Random, seconds: float, *, sqlite: bool) -> list[Fault]:
    """Fault times 6–11 s apart; kinds shuffled, each kind at least once when there is room."""
    times: list[float] = []
    t = rng.uniform(4, 7)
    while t < seconds - 6:
        times.append(t)
        t += rng.uniform(6, 11)
    kinds = list(itertools.islice(itertools.cycle(SQLITE_KINDS if sqlite else PG_KINDS),
                                  len(times)))  # fmt: skip
    if len(kinds) >= 5 and not sqlite:
        kinds[-1] = "worker+postgres"
    rng.shuffle(kinds)
    return [Fault(at, kind) for at, kind in zip(times, kinds, strict=True)]


async def inject(fault: Fault, target: Target, server: Server, state: Run,
                 rng: random.Random) -> None:  # fmt: skip
    notes = []
    down = rng.uniform(1.0, 2.5)
    pg = target.pg
    if "postgres" in fault.kind:
        assert pg is not None
        await asyncio.to_thread(pg.stop_immediately)
        notes.append(f"PostgreSQL stopped (immediate) for {down:.1f} s")
        await asyncio.sleep(down / 2)
    victim = None
    if fault.kind in ("worker-in-write", "worker-in-checkpoint"):
        lock = fault.kind.removeprefix("worker-in-")
        shm = Path(f"{target.sqlite}-shm")
        victim = await asyncio.to_thread(kill_holding, shm, lock, server.workers(),
                                         CATCH_SECONDS)  # fmt: skip
        if victim is not None:
            state.kills += 1
            state.caught[lock] += 1
            notes.append(f"kill -9 worker {victim} holding SQLite's {lock} lock")
        else:
            notes.append(f"no worker seen holding the {lock} lock in {CATCH_SECONDS:.0f} s; "
                         "killing one at a random moment")  # fmt: skip
    if fault.kind == "worker" or (victim is None and fault.kind.startswith("worker")):
        workers = server.workers()
        if workers:
            victim = rng.choice(workers)
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
                state.kills += 1
                notes.append(f"kill -9 worker {victim}")
        else:
            notes.append("no worker to kill")
    if "postgres" in fault.kind:
        assert pg is not None
        await asyncio.sleep(down / 2)
        await asyncio.to_thread(pg.start)
    fault.ended = time.monotonic()
    if victim is not None:
        # uvicorn's master notices a dead worker within its 0.5 s check and spawns another.
        started = time.monotonic()
        while time.monotonic() - started < 20:
            current = server.workers()
            if victim not in current and len(current) >= server.workers_wanted:
                notes.append(f"respawned by uvicorn in {time.monotonic() - started:.1f} s")
                break
            await asyncio.sleep(0.1)
        else:
            notes.append("NOT respawned within 20 s")
    fault.detail = "; ".join(notes)
    print(f"  [{fault.at:5.1f} s] {fault.detail}", flush=True)


async def run_faults(faults: list[Fault], started: float, target: Target, server: Server,
                     state: Run, rng: random.Random) -> None:  # fmt: skip
    for fault in faults:
        await asyncio.sleep(max(0.0, started + fault.at - time.monotonic()))
        await inject(fault, target, server, state, rng)


async def watch_wal(target: Target, state: Run, deadline: float) -> None:
    """SQLite: the -wal file's size four times a second (the checkpointer keeps it bounded)."""
    while target.sqlite is not None and time.monotonic() < deadline:
        state.wal_max = max(state.wal_max, target.wal_bytes())
        state.wal_samples += 1
        await asyncio.sleep(0.25)


def _client(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_url, timeout=REQUEST_TIMEOUT)


async def exercise(target: Target, server: Server, state: Run) -> Ledger:
    rng = random.Random(state.seed)
    async with target.db() as connection:
        people = await connection.fetch(
            "SELECT id, cellphone FROM users WHERE role = 8 AND is_active ORDER BY id LIMIT $1",
            CUSTOMERS,
        )
        active = await connection.fetch(
            "SELECT id FROM stores WHERE status = 'active' ORDER BY id LIMIT $1", STORES
        )
        stores = [r["id"] for r in active]
        votes = await connection.fetch(
            "SELECT user_id, target_id, kind FROM marks WHERE slot = 'vote' AND target = 'store'"
        )
    if 1 not in stores:
        raise RuntimeError("the demo's store 1 is missing or inactive")

    async with _client(server) as client:
        customers = list(await asyncio.gather(
            *(login(client, r["cellphone"], DEMO_PASSWORD) for r in people)))  # fmt: skip
        seller = await login(client, DEMO_SELLER, DEMO_PASSWORD, staff=True)
        # Each customer chats with store 1 (whose seller answers) and with one other store.
        chats: list[tuple[Account, int]] = []
        store_one_chats: list[int] = []
        for i, customer in enumerate(customers):
            for store in (1, stores[1 + i % (len(stores) - 1)]):
                chat = await start_chat(client, customer, store)
                chats.append((customer, chat))
                if store == 1:
                    store_one_chats.append(chat)

    ledger = Ledger()
    current = {(r["user_id"], r["target_id"]): str(r["kind"]) for r in votes}
    for customer in customers:
        for store in stores:
            ledger.votes[customer.id, store] = frozenset({current.get((customer.id, store),
                                                                      "none")})  # fmt: skip
    assert all(possible <= VOTE_STATES for possible in ledger.votes.values())

    first_phone = rng.randrange(10**6, 9 * 10**6)
    load = Load(
        ledger=ledger,
        deadline=time.monotonic() + state.seconds,
        rng=rng,
        run_id=f"{state.seed}",
        stores=stores,
        phones=(f"0935{n:07d}" for n in itertools.count(first_phone)),
        counter=itertools.count(1),
    )
    state.faults = schedule(rng, state.seconds, sqlite=target.sqlite is not None)
    thirds = [customers[i::3] for i in range(3)]
    clients = [_client(server) for _ in range(8)]
    print(f"load: {state.seconds:.0f} s, 8 clients, {len(customers)} customers × "
          f"{len(stores)} stores, {len(chats)} chats; faults:", flush=True)  # fmt: skip
    started = time.monotonic()
    try:
        await asyncio.gather(
            registration_client(load, clients[0]),
            registration_client(load, clients[1]),
            *(vote_client(load, clients[2 + i], thirds[i]) for i in range(3)),
            chat_client(load, clients[5], chats[0::2]),
            chat_client(load, clients[6], chats[1::2]),
            chat_client(load, clients[7], [(seller, chat) for chat in store_one_chats]),
            run_faults(state.faults, started, target, server, state, rng),
            watch_wal(target, state, started + state.seconds),
        )
    finally:
        for client in clients:
            await client.aclose()

    # After the last fault the server must take writes again without help.
    async with _client(server) as client:
        state.recovery = await wait_for_write(client, customers[0], stores[0], within=30)
        if state.recovery is None:
            print("the server takes no writes 30 s after the faults: restarting it", flush=True)
            await asyncio.to_thread(server.restart)
            state.harness_restarts += 1
            state.recovery = await wait_for_write(client, customers[0], stores[0], within=30)
            if state.recovery is None:
                raise RuntimeError("the server takes no writes even after a restart")
    state.workers_after = len(server.workers())
    return ledger


# A moment long past, as each database's driver takes it (SQLite: SQLAlchemy's UTC text).
PAST = {False: datetime(2000, 1, 1, tzinfo=UTC), True: "2000-01-01 00:00:00.000000"}


async def force_due(db: Db) -> tuple[int, list[int], int]:
    """Make every undelivered SMS due now: (pending forced, orphaned claims, still due).

    Only with the server stopped: a ``sending`` row then belongs to a sender that died, and
    expiring its lease is what the passing of ``HOJRE_SMS_CLAIM_LEASE_SECONDS`` would do.
    """
    async with db as connection:
        past = PAST[connection.sqlite]
        pending = await connection.execute(
            "UPDATE sms_outbox SET next_attempt_at = $1 WHERE status = 'pending'", past
        )
        orphaned = await connection.fetch(
            "UPDATE sms_outbox SET claimed_until = $1 WHERE status = 'sending' RETURNING id", past
        )
        due = await connection.fetchval(
            "SELECT count(*) FROM sms_outbox WHERE status IN ('pending', 'sending')"
        )
    return pending, [int(r["id"]) for r in orphaned], int(due)


def delivered_keys(sms_file: Path) -> set[str]:
    if not sms_file.exists():
        return set()
    keys = set()
    for line in sms_file.read_text().splitlines():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            keys.add(str(json.loads(line)["key"]))
    return keys


def deliver_outbox(target: Target, env: dict[str, str], sms_file: Path, state: Run) -> None:
    """``hojre outbox deliver`` until nothing is due (at most 10 rounds)."""
    for rounds in range(1, 11):
        pending, orphaned, due = asyncio.run(force_due(target.db()))
        if rounds == 1:
            state.sms_forced_pending, state.sms_orphaned_claims = pending, len(orphaned)
            # Sent before the fault, but never recorded as sent: only the key stops a repeat.
            sent = delivered_keys(sms_file)
            state.sms_orphans_already_sent = sum(f"hojre-sms-{i}" in sent for i in orphaned)
        if not due:
            break
        state.delivery_rounds = rounds
        run([str(HOJRE), "outbox", "deliver"], env=env, timeout=120)


def recovery_after(fault: Fault, ack_times: list[float]) -> str:
    index = bisect.bisect_right(ack_times, fault.ended)
    if index == len(ack_times):
        return "no answer after it"
    return f"next answer {ack_times[index] - fault.ended:.1f} s later"


def report(state: Run, ledger: Ledger, verdict: Verdict, target: Target) -> None:
    answered = sum(n for key, n in ledger.tally.items() if ": failed" not in key)
    failed = sum(n for key, n in ledger.tally.items() if ": failed" in key)
    refused = sum(n for key, n in ledger.tally.items() if ": refused" in key)
    ack_times = sorted(ledger.ack_times)
    print("\nfaults:")
    for fault in state.faults:
        print(f"  [{fault.at:5.1f} s] {fault.kind:16} {fault.detail}; "
              f"{recovery_after(fault, ack_times)}")  # fmt: skip
    print(
        f"\nrequests: {answered + failed} sent, {answered - refused} acknowledged, "
        f"{refused} refused (status error), {failed} failed (outcome unknown, not retried)"
    )
    for key, n in sorted(ledger.tally.items()):
        print(f"  {n:6}  {key}")

    header = f"  {'acknowledged write':42} {'acked':>7} {'checked':>8} {'found':>7} {'lost':>5}"
    print("\n" + header + "\n  " + "-" * (len(header) - 2))
    for check in verdict.checks:
        print(f"  {check.name:42} {check.acknowledged:7} {check.checked:8} {check.found:7} "
              f"{check.lost:5}")  # fmt: skip
    print(f"  {'views (checked through the counters)':42} {ledger.view_acks:7} {'-':>8} "
          f"{'-':>7} {'-':>5}")  # fmt: skip
    checked = sum(c.checked for c in verdict.checks)
    found = sum(c.found for c in verdict.checks)
    print(f"  {'total':42} {ledger.acknowledged:7} {checked:8} {found:7} {verdict.lost:5}")
    known = sum(len(possible) == 1 for possible in ledger.votes.values())
    print(
        f"  votes: {known} of {len(ledger.votes)} pairs ended on an acknowledged answer and "
        f"must match it exactly; the others must be one of their possible states"
    )

    pg_stops = sum("postgres" in f.kind for f in state.faults)
    duplicates = sum(n - 1 for n in verdict.sms_duplicates.values())
    database: list[tuple[str, object]]
    if target.pg is not None:
        database = [("PostgreSQL immediate stops", pg_stops)]
    else:
        database = [
            ("  of them in a write transaction", state.caught["write"]),
            ("  of them in a WAL checkpoint", state.caught["checkpoint"]),
            ("largest -wal file during the load", f"{state.wal_max / 2**20:.1f} MiB "
             f"({state.wal_samples} samples)"),
            ("integrity_check", verdict.integrity),
        ]  # fmt: skip
    lines = [
        ("writes acknowledged", ledger.acknowledged),
        ("checked (see the table)", checked),
        ("found", found),
        ("lost (must be 0)", verdict.lost),
        ("kill -9 of a worker", state.kills),
        *database,
        ("server restarts by the harness", state.harness_restarts),
        ("targets whose counters were checked", verdict.targets_checked),
        ("counters not equal to their rows (must be 0)", len(verdict.counter_mismatches)),
        ("double votes (must be 0)", verdict.double_votes),
        ("users registered (acknowledged or not)", verdict.registered_users),
        ("  of them with exactly one SMS delivered", verdict.registered_with_one_sms),
        ("SMS sent (lines in sms.jsonl)", verdict.sms_lines),
        ("SMS duplicates (must be 0)", duplicates),
        ("torn lines in sms.jsonl", verdict.sms_torn_lines),
        ("SMS left pending by the faults (retried)", state.sms_forced_pending),
        ("SMS claims orphaned by the faults (retried)", state.sms_orphaned_claims),
        ("  of them sent already (the key stops a repeat)", state.sms_orphans_already_sent),
        ("outbox: sent / pending / failed", "{} / {} / {}".format(
            verdict.outbox["sent"], verdict.outbox["pending"], verdict.outbox["failed"])),
    ]  # fmt: skip
    print()
    for label, value in lines:
        print(f"  {label:50} {value}")
    recovery = "-" if state.recovery is None else f"{state.recovery:.1f} s"
    print(f"  {'first write after the load':50} {recovery}")
    print(f"  {'uvicorn workers at the end':50} {state.workers_after}/{state.workers}")
    problems = [*verdict.problems, *verdict.counter_mismatches, *ledger.anomalies]
    problems += [f"SMS {key} delivered {n} times" for key, n in verdict.sms_duplicates.items()]
    if problems:
        print(f"\nproblems ({len(problems)}):")
        for problem in problems[:40]:
            print(f"  {problem}")


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgres", "sqlite", "all"), default="all")
    databases = parser.parse_args().database
    # Ctrl-C and SIGTERM unwind through the cleanup below (even when started with SIGINT
    # ignored, as background jobs of a script are).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)
    results = {}
    for database in ("postgres", "sqlite") if databases == "all" else (databases,):
        results[database] = run_one(sqlite=database == "sqlite")
    if len(results) > 1:
        print("\n" + ", ".join(f"{db}: {'PASS' if ok else 'FAIL'}" for db, ok in results.items()))
    return 0 if all(results.values()) else 1


def run_one(*, sqlite: bool) -> bool:
    seconds = float(os.environ.get("FAULTS_SECONDS", "70"))
    seed = int(os.environ.get("FAULTS_SEED", str(random.SystemRandom().randrange(10**6))))
    workers = int(os.environ.get("FAULTS_WORKERS", "2"))
    keep = os.environ.get("FAULTS_KEEP") == "1"
    synchronous_commit = os.environ.get("FAULTS_SYNCHRONOUS_COMMIT", "on")
    state = Run(seconds=seconds, seed=seed, workers=workers)

    workdir = Path(tempfile.mkdtemp(prefix="hojre-faults-"))
    workdir.chmod(0o755)  # PostgreSQL's own user must reach its data directory inside
    with contextlib.ExitStack() as cleanup:
        if keep:
            cleanup.callback(print, f"kept {workdir} (FAULTS_KEEP=1)")
        else:
            cleanup.callback(shutil.rmtree, workdir, True)
        if sqlite:
            target = Target(sqlite=workdir / "hojre.db")
            print(f"hojre faults: seed {seed}, {workers} workers, SQLite "
                  f"{sqlite3.sqlite_version} file {target.sqlite}", flush=True)  # fmt: skip
        else:
            pg = PrivatePostgres(workdir, free_port(55432), synchronous_commit=synchronous_commit)
            cleanup.callback(pg.destroy)
            target = Target(pg=pg)
            print(f"hojre faults: seed {seed}, {workers} workers, private PostgreSQL "
                  f"{pg.bin.parent.name} on 127.0.0.1:{pg.port} in {workdir}",
                  flush=True)  # fmt: skip
            if synchronous_commit != "on":
                print(f"  self-test: synchronous_commit = {synchronous_commit}", flush=True)
            pg.create()
        sms_file = workdir / "sms.jsonl"
        env = hojre_env(target.url, sms_file)
        run([str(HOJRE), "db", "upgrade"], env=env, cwd=ROOT)
        run([str(HOJRE), "demo", "--json"], env=env, cwd=ROOT)
        server = Server(HOJRE, env, free_port(0), workdir / "server.log", workers)
        cleanup.callback(server.stop)
        server.start()
        server.wait_ready()
        ledger = asyncio.run(exercise(target, server, state))
        server.stop()  # graceful: in-flight after-commit deliveries finish
        deliver_outbox(target, env, sms_file, state)
        verdict = asyncio.run(verify(target.db(), ledger, sms_file))
        report(state, ledger, verdict, target)
        if sqlite:  # a worker killed inside a write transaction and inside a checkpoint
            faulted = state.caught["write"] > 0 and state.caught["checkpoint"] > 0
        else:
            faulted = any("postgres" in f.kind for f in state.faults)
        ok = (verdict.passed and not ledger.anomalies and ledger.acknowledged > 0
              and state.kills > 0 and faulted)  # fmt: skip
        print(f"\nRESULT ({target.name}): {'PASS' if ok else 'FAIL'}", flush=True)
        return ok
    return False


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; everything the run started was stopped", file=sys.stderr)
        sys.exit(130)
