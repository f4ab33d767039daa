#!/usr/bin/env python3
"""SQL statements and time per request of each benchmarked endpoint, in-process.

Statements run through :mod:`hojre.core.sql` (the hot paths) are counted; only the ORM's are
timed (``driver_ms``), so on those endpoints ``driver_ms`` covers the ORM's share alone.

The ASGI app runs in this process (httpx's ASGI transport, no server, no access log, one
request at a time), against a dataset built by ``bench/dataset.py build --out DIR``. SQLAlchemy's
cursor events count the statements and the time spent inside cursor execution (the database
round trips, the wait included); the rest of a request's time is Python. Requests rotate
tokens, chats and stores like the Lua scripts.

    .venv/bin/python bench/sqlcount.py --url postgresql+asyncpg://…/hojre_bench_big \
        --data bench/.work/data-postgres-big --requests 300 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import run  # bench/run.py: the profile buckets
from sqlalchemy import event

from hojre.core import sql
from hojre.core.hub import Hub
from hojre.core.settings import Settings
from hojre.web_v1.app import create_app

Request = tuple[str, str, dict[str, str] | None]  # method, path, form


def rows(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def request_makers(data: Path, rng: random.Random) -> dict[str, Callable[[], Request]]:
    users, chats = rows(data / "users.txt"), rows(data / "chats.txt")
    stores = rows(data / "stores.txt")
    sent = iter(range(10**9))

    def auth(u: list[str]) -> str:
        return f"username={u[0]}&token={u[1]}"

    return {
        "ping": lambda: ("GET", "/web/ping", None),
        "users": lambda: ("GET", f"/web/users?{auth(rng.choice(users))}", None),
        "store-user-comments": lambda: (
            "GET",
            f"/web/store-user-comments?id={rng.choice(stores)[0]}",
            None,
        ),
        "stores/<id>": lambda: ("GET", f"/web/stores/{rng.choice(stores)[0]}", None),
        "chats": lambda: ("GET", f"/web/chats?{auth(rng.choice(users))}", None),
        "main-chats": lambda: (lambda c: ("GET", f"/web/main-chats?{auth(c)}&id={c[2]}", None))(
            rng.choice(chats)
        ),
        "add-like": lambda: (
            lambda u: (
                "POST",
                "/web/user/add-like",
                {"username": u[0], "token": u[1], "target": "store", "id": rng.choice(stores)[0]},
            )
        )(rng.choice(users)),
        "send-chat-message": lambda: (
            lambda c: (
                "POST",
                "/web/user/send-chat-message",
                {"username": c[0], "token": c[1], "id": c[2], "text": f"sqlcount {next(sent)}"},
            )
        )(rng.choice(chats)),
    }


PYINSTRUMENT = Path(__file__).resolve().parent / ".work" / "pyinstrument"


def _frame(ident: str) -> tuple[str, str]:
    """(Class.function, file) of a pyinstrument frame identifier."""
    parts = ident.split("\x01")
    base = parts[0].split("\x00")
    cls = next((p[1:] for p in parts[1:] if p.startswith("c")), "")
    func = base[0]
    return (f"{cls}.{func}" if cls else func), (base[1] if len(base) > 1 else "")


IDLE = ("epoll.poll", "EpollSelector.select", "select")


def summarise_pyinstrument(profiler: Any) -> dict[str, Any]:
    """Wall time of sequential in-process requests on the event loop's thread: the app's
    frames by the innermost frame's package (a C built-in counts for its caller's package),
    the loop's idle waits apart (the database's answers; on SQLite, aiosqlite's thread doing
    the query), and the in-process client (httpx) left out."""
    session = profiler.last_session
    self_time: dict[str, float] = {}
    inclusive: dict[str, float] = {}
    functions: dict[str, float] = {}
    app_total = idle = client = 0.0
    for stack, seconds in session.frame_records:
        frames = [_frame(ident) for ident in stack]
        func, path = frames[-1]
        if func in IDLE and (path == "<built-in>" or path.endswith("selectors.py")):
            idle += seconds
            continue
        if not any(run.in_file(p, "fastapi/applications.py") for _, p in frames):
            client += seconds
            continue
        app_total += seconds
        if path.startswith("<"):  # a C built-in: its caller's package
            path = next((p for _, p in reversed(frames) if not p.startswith("<")), path)
        bucket = "other (interpreter, C extensions)"
        for name, prefixes in run.BUCKETS:
            if any(run.in_file(path, p) for p in prefixes):
                bucket = name
                break
        self_time[bucket] = self_time.get(bucket, 0.0) + seconds
        for label, mfunc, prefix in run.MARKERS:
            exact = not mfunc.endswith(".")
            if any(
                (f == mfunc if exact else f.startswith(mfunc)) and run.in_file(p, prefix)
                for f, p in frames
            ):
                inclusive[label] = inclusive.get(label, 0.0) + seconds
        for f, p in set(frames):
            if "hojre/" in p or "sqlalchemy/" in p or "asyncpg/" in p:
                short = p.split("site-packages/")[-1].split("src/")[-1]
                functions[f"{f} ({short})"] = functions.get(f"{f} ({short})", 0.0) + seconds
    top = sorted(functions.items(), key=lambda kv: -kv[1])[:30]
    return {
        "app_seconds": app_total,
        "idle_seconds": idle,
        "client_seconds": client,
        "self": self_time,
        "inclusive": inclusive,
        "top": top,
    }


async def measure(
    url: str, data: Path, requests: int, profile_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    settings = Settings(database_url=url, run_background_tasks=False, log_level="warning")
    hub = Hub.from_settings(settings)
    app = create_app(settings, hub=hub)
    counters = {"statements": 0, "driver": 0.0, "driver_cpu": 0.0}
    starts: list[tuple[float, float]] = []

    @event.listens_for(hub.db.engine.sync_engine, "before_cursor_execute")
    def _before(*_: Any) -> None:
        starts.append((time.perf_counter(), time.process_time()))

    @event.listens_for(hub.db.engine.sync_engine, "after_cursor_execute")
    def _after(*_: Any) -> None:
        wall, cpu = starts.pop()
        counters["statements"] += 1
        counters["driver"] += time.perf_counter() - wall
        counters["driver_cpu"] += time.process_time() - cpu

    def _raw(_text: str) -> None:  # hojre.core.sql's statements (counted, not timed)
        counters["statements"] += 1

    sql.statement_listeners.append(_raw)
    result: dict[str, Any] = {"url": url, "requests": requests, "endpoints": {}}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for key, make in request_makers(data, random.Random(7)).items():

                async def one(make: Callable[[], Request] = make, key: str = key) -> None:
                    method, path, form = make()
                    response = await client.request(method, path, data=form)
                    body = response.content
                    if response.status_code != 200 or body.startswith(b'{"status":"error"'):
                        raise RuntimeError(f"{key}: {response.status_code} {body[:200]!r}")

                for _ in range(min(20, requests)):  # warm: connections, statement caches
                    await one()
                counters.update(statements=0, driver=0.0, driver_cpu=0.0)
                started, cpu_started = time.perf_counter(), time.process_time()
                for _ in range(requests):
                    await one()
                total = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
                result["endpoints"][key] = {
                    "statements": counters["statements"] / requests,
                    "driver_ms": counters["driver"] / requests * 1000,
                    "total_ms": total / requests * 1000,
                    # CPU of this process (the client's share included: httpx, small).
                    "cpu_ms": cpu / requests * 1000,
                    "driver_cpu_ms": counters["driver_cpu"] / requests * 1000,
                }
                print(f"  {key:<20} {result['endpoints'][key]}", flush=True)
                if key in profile_keys:
                    sys.path.insert(0, str(PYINSTRUMENT))
                    from pyinstrument import Profiler

                    profiler = Profiler(interval=0.0002, async_mode="disabled")
                    profiler.start()
                    for _ in range(requests):
                        await one()
                    profiler.stop()
                    summary = summarise_pyinstrument(profiler)
                    summary["requests"] = requests
                    result.setdefault("profiles", {})[key] = summary
    finally:
        await hub.aclose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile", default="", help="endpoints to profile (pyinstrument)")
    args = parser.parse_args()
    keys = tuple(k for k in args.profile.split(",") if k)
    result = asyncio.run(measure(args.url, args.data, args.requests, keys))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
