#!/usr/bin/env python3
"""Writes under a burst of logins, on SQLite: does password hashing hold up other requests?

Starts ``hojre serve`` (one process, the shipped argon2 cost) on a fresh SQLite database with
the demo data, then measures ``POST /web/user/add-view`` one request at a time: alone, and
while ``--logins`` clients log in without pause (right passwords: every one is hashed).
``--src`` runs another checkout's code with this venv (``git worktree add /tmp/old <commit>``),
so two versions are measured side by side in one run.

    .venv/bin/python bench/login_burst.py [--src /tmp/old/src] [--src .] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CUSTOMER, OTHER, PASSWORD = "09120000001", "09120000002", "hojre-demo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(src: Path, db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(src.resolve()),
        HOJRE_DATABASE_URL=f"sqlite+aiosqlite:///{db}",
        HOJRE_SMS_BACKEND="console",
        HOJRE_ACCESS_LOG="false",
        HOJRE_LOG_LEVEL="warning",
        # The benchmark's own client is one address: let its logins through.
        HOJRE_LOGIN_MAX_FAILURES="1000000",
        HOJRE_LOGIN_ADDRESS_MAX_FAILURES="1000000",
    )
    for name in ("HOJRE_ARGON2_TIME_COST", "HOJRE_ARGON2_MEMORY_COST_KIB"):
        env.pop(name, None)  # the shipped cost
    return env


def hojre(env: dict[str, str], *args: str) -> None:
    code = "import sys; from hojre.cli import app; sys.argv = ['hojre', *sys.argv[1:]]; app()"
    subprocess.run([str(BIN / "python"), "-c", code, *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


async def views(
    client: httpx.AsyncClient, token: str, n: int, *, seconds: float = 0, pause: float = 0
) -> list[float]:
    """At least ``n`` add-views, one at a time, and for at least ``seconds``."""
    out: list[float] = []
    until = time.perf_counter() + seconds
    i = 0
    while i < n or time.perf_counter() < until:
        i += 1
        started = time.perf_counter()
        response = await client.post(
            "/web/user/add-view",
            data={"username": CUSTOMER, "token": token, "target": "store", "id": str(1 + i % 90)},
        )
        out.append((time.perf_counter() - started) * 1000)
        assert response.json()["message"] == "Viewed", response.text
        if pause:
            await asyncio.sleep(pause)
    return out


async def login_loop(client: httpx.AsyncClient, stop: asyncio.Event, done: list[int]) -> None:
    while not stop.is_set():
        response = await client.post(
            "/web/user/login", data={"username": OTHER, "password": PASSWORD}
        )
        assert response.json()["message"] == "Login Success", response.text
        done[0] += 1


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms"


async def measure(base: str, logins: int, n: int, during: int) -> dict[str, str]:
    limits = httpx.Limits(max_connections=logins + 4)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        body = (
            await client.post("/web/user/login", data={"username": CUSTOMER, "password": PASSWORD})
        ).json()
        token = body["data"]["token"]
        await views(client, token, 20)  # warm up
        alone = await views(client, token, n)
        stop, done = asyncio.Event(), [0]
        tasks = [asyncio.create_task(login_loop(client, stop, done)) for _ in range(logins)]
        await asyncio.sleep(2)  # the burst is on
        started, before = time.perf_counter(), done[0]
        burst = await views(client, token, during, seconds=10, pause=0.01)
        seconds, logged = time.perf_counter() - started, done[0] - before
        stop.set()
        await asyncio.gather(*tasks)
    return {
        "alone": summary(alone),
        "burst": summary(burst),
        "ratio": f"{statistics.median(burst) / statistics.median(alone):.1f}",
        "logins": f"{logged / seconds:.1f}/s",
        "views": str(len(burst)),
    }  # fmt: skip


def run(src: Path, logins: int, n: int, during: int) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(src, Path(tmp) / "bench.db")
        hojre(env, "db", "upgrade")
        hojre(env, "demo")
        port = free_port()
        code = "import sys; from hojre.cli import app; sys.argv = ['hojre', *sys.argv[1:]]; app()"
        server = subprocess.Popen(
            [str(BIN / "python"), "-c", code, "serve", "--port", str(port)], env=env
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    httpx.get(base + "/web/ping", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            return asyncio.run(measure(base, logins, n, during))
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, action="append", help="a checkout's src/ (repeat)")
    parser.add_argument("--logins", type=int, default=40, help="clients logging in at once")
    parser.add_argument("--views", type=int, default=300, help="add-views alone")
    parser.add_argument(
        "--during", type=int, default=50, help="add-views during the burst (each may wait long)"
    )
    parser.add_argument("--out", type=Path, help="append the table to this Markdown file")
    args = parser.parse_args()
    sources = args.src or [ROOT / "src"]
    lines = [
        f"| code | add-view alone | add-view during {args.logins} logins at once (n) | "
        "burst ÷ alone (p50) | logins done |",
        "|---|---|---|---|---|",
    ]
    for src in sources:
        result = run(src, args.logins, args.views, args.during)
        lines.append(f"| `{src}` | {result['alone']} | {result['burst']} ({result['views']}) | "
                     f"{result['ratio']} | {result['logins']} |")  # fmt: skip
        print(lines[-1], flush=True)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        with args.out.open("a") as f:
            f.write(table)


if __name__ == "__main__":
    main()
