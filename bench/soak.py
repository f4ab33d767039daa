#!/usr/bin/env python3
"""The soak behind ``make soak``: a mixed load held at about 70% of the measured maximum for
10 minutes; zero errors and server heap growth under 10% expected.

One backend and dataset (default: PostgreSQL, the small dataset; built with
``bench/dataset.py build`` unless it exists), ``hojre serve --workers 2`` as shipped. First
wrk drives ``bench/lua/mix.lua`` (reads and writes of the benchmarked endpoints) flat out for
20 s: the maximum. Then one-minute wrk runs follow each other, each connection waiting
``SOAK_DELAY_MS`` before each request; after every minute the delay is corrected towards the
target rate, every response is checked (non-2xx, v1 error envelopes, socket errors, timeouts)
and the resident memory of the server's processes is read from /proc. Growth is measured from
the end of the first minute (the caches are warm by then) to the end, on the anonymous part of
the resident memory (the heap, where a leak shows). The rest is the database's memory map on
SQLite: pages of the file that the kernel maps in and drops as it likes (72 to 144 MiB from one
minute to the next in a 30-minute run), which say nothing of the server's own memory. Writes
``bench/results/<date>-soak.md`` and ``.json``.

    .venv/bin/python bench/soak.py [--minutes 10] [--fraction 0.7] [--backend sqlite]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import run  # bench/run.py: datasets, the server, wrk, /proc readings

MIX = run.Endpoint("mix", "mixed reads and writes (bench/lua/mix.lua)", "mix.lua", "mix")


_FIELDS = {"VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file", "RssShmem:": "shmem"}


def memory_mib(pids: list[int]) -> dict[str, float]:
    """RSS of the processes, and its parts: anonymous (the heap: where a leak shows), file
    (SQLite's memory-mapped database counts here, and grows with the file) and shared memory
    (SQLite's -shm index)."""
    total_kib = dict.fromkeys(_FIELDS.values(), 0)
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key = _FIELDS.get(line.split(maxsplit=1)[0] if line else "")
                if key is not None:
                    total_kib[key] += int(line.split()[1])
        except FileNotFoundError:
            continue
    return {key: kib / 1024 for key, kib in total_kib.items()}


def rss_mib(pids: list[int]) -> float:
    return memory_mib(pids)["rss"]


def errors(values: dict[str, Any]) -> int:
    keys = ("non2xx", "app_errors", "socket_errors", "timeouts")
    return int(sum(values.get(key, 0) for key in keys))


def drive(base: str, data: Path, *, seconds: int, connections: int, delay_ms: float) -> Any:
    os.environ["SOAK_DELAY_MS"] = f"{delay_ms:.3f}"
    values, _ = run.wrk(base, MIX, data, seconds=seconds, threads=2, connections=connections)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--dataset", choices=("big", "small"), default="small")
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--fraction", type=float, default=0.7)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--name", default=None, help="results file name (default: <date>-soak)")
    args = parser.parse_args()

    scale = 1.0 if args.dataset == "big" else 0.01
    config = run.Config(args.backend, args.dataset, scale)
    started = dt.datetime.now()
    run.build(config, reuse=True)
    minutes: list[dict[str, Any]] = []
    with run.server(config) as (base, pids):
        run.check_endpoints(base, config.data)
        print(f"== {config.name}: the maximum (20 s, unpaced)", flush=True)
        drive(base, config.data, seconds=5, connections=args.connections, delay_ms=0)  # warm
        peak = drive(base, config.data, seconds=20, connections=args.connections, delay_ms=0)
        max_rps = peak["requests"] / (peak["duration_us"] / 1e6)
        target = args.fraction * max_rps
        print(f"   {max_rps:,.0f} req/s, p50 {peak['p50'] / 1000:.1f} ms; target {target:,.0f}")
        # Each connection does one request per (latency + delay); start from the unloaded
        # latency and correct after every minute.
        latency_ms = peak["p50"] / 1000 * 0.3
        delay = max(args.connections / target * 1000 - latency_ms, 0.0)
        rss_start = rss_mib(pids)
        for minute in range(1, args.minutes + 1):
            load_before = run.loadavg()
            values = drive(
                base, config.data, seconds=60, connections=args.connections, delay_ms=delay
            )
            rps = values["requests"] / (values["duration_us"] / 1e6)
            entry = {
                "minute": minute,
                "delay_ms": round(delay, 3),
                "rps": rps,
                "fraction": rps / max_rps,
                "p50_ms": values["p50"] / 1000,
                "p99_ms": values["p99"] / 1000,
                "errors": errors(values),
                **{f"{key}_mib": mib for key, mib in memory_mib(pids).items()},
                "load": f"{load_before} → {run.loadavg()}",
            }
            minutes.append(entry)
            print(
                f"   minute {minute:2}: {rps:8,.0f} req/s ({entry['fraction']:.0%} of max)  "
                f"p50 {entry['p50_ms']:.1f} ms  p99 {entry['p99_ms']:.1f} ms  "
                f"errors {entry['errors']}  rss {entry['rss_mib']:.1f} MiB "
                f"(anonymous {entry['anon_mib']:.1f}, file {entry['file_mib']:.1f})",
                flush=True,
            )
            # Correct the pace: requests per connection per second = 1000 / (latency + delay);
            # half the error each minute, so a noisy minute does not swing the next one.
            cycle = args.connections / rps * 1000
            delay = max(delay + 0.5 * (args.connections / target * 1000 - cycle), 0.0)
    warm = minutes[0]["rss_mib"]
    end = minutes[-1]["rss_mib"]
    result = {
        "started": started.isoformat(timespec="seconds"),
        "config": config.name,
        "machine": run.machine_facts(),
        "python": platform.python_version(),
        "max_rps": max_rps,
        "max_p50_ms": peak["p50"] / 1000,
        "max_p99_ms": peak["p99"] / 1000,
        "max_errors": errors(peak),
        "target_rps": target,
        "rss_start_mib": rss_start,
        "rss_warm_mib": warm,
        "rss_end_mib": end,
        "rss_growth": (end - warm) / warm if warm else None,
        "anon_warm_mib": minutes[0]["anon_mib"],
        "anon_end_mib": minutes[-1]["anon_mib"],
        # The verdict: the heap's growth (see the module's docstring).
        "growth": (minutes[-1]["anon_mib"] - minutes[0]["anon_mib"]) / minutes[0]["anon_mib"]
        if minutes[0]["anon_mib"]
        else None,
        "errors": sum(m["errors"] for m in minutes),
        "requests": sum(m["rps"] * 60 for m in minutes),
        "minutes": minutes,
        "code": run.code_fingerprint(),
    }
    name = args.name or f"{started.date().isoformat()}-soak"
    run.RESULTS.mkdir(parents=True, exist_ok=True)
    (run.RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (run.RESULTS / f"{name}.md").write_text(report(result, args))
    growth = result["growth"]
    print(
        f"== soak: {result['requests']:,.0f} requests, {result['errors']} errors, heap "
        f"{result['anon_warm_mib']:.1f} → {result['anon_end_mib']:.1f} MiB ({growth:+.1%}; RSS "
        f"{warm:.1f} → {end:.1f} MiB); wrote bench/results/{name}.md"
    )
    sys.exit(0 if result["errors"] == 0 and growth is not None and growth < 0.10 else 1)


def report(r: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"# Hojre soak, {r['started'][:10]}",
        "",
        f"`python bench/soak.py --backend {args.backend} --dataset {args.dataset} "
        f"--minutes {args.minutes} --fraction {args.fraction}`, started {r['started']}.",
        "",
        f"- Machine: {r['machine'].get('cpu', '')}; Python {r['python']}.",
        f"- Server: `hojre serve --workers 2` on {r['config']}, as shipped (access log on). "
        f"Client: wrk, {args.connections} connections, `bench/lua/mix.lua` (users, "
        "store-user-comments, stores/<id>, chats, main-chats, add-like, send-chat-message).",
        f"- Maximum (20 s unpaced): **{r['max_rps']:,.0f} req/s** (p50 {r['max_p50_ms']:.1f} "
        f"ms, p99 {r['max_p99_ms']:.1f} ms, {r['max_errors']} errors); target "
        f"{args.fraction:.0%}: {r['target_rps']:,.0f} req/s.",
        f"- Result: **{r['errors']} errors** in {r['requests']:,.0f} requests; the server's "
        f"heap (the anonymous part of the resident memory of all its processes) "
        f"{r['anon_warm_mib']:.1f} MiB after the first minute, {r['anon_end_mib']:.1f} MiB at "
        f"the end: **{r['growth']:+.1%}** (target: under +10%). The whole RSS: "
        f"{r['rss_start_mib']:.1f} MiB before, {r['rss_warm_mib']:.1f} after the first minute, "
        f"{r['rss_end_mib']:.1f} at the end ({r['rss_growth']:+.1%}); the rest of it is "
        "memory-mapped files, on SQLite the database's pages that the kernel maps in and "
        "drops as it likes (the file column), not the server's memory.",
        "",
        "| minute | delay ms | req/s | of max | p50 ms | p99 ms | errors | RSS MiB | "
        "anonymous MiB | file MiB | shared MiB | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in r["minutes"]:
        lines.append(
            f"| {m['minute']} | {m['delay_ms']:.2f} | {m['rps']:,.0f} | {m['fraction']:.0%} | "
            f"{m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {m['errors']} | {m['rss_mib']:.1f} | "
            f"{m['anon_mib']:.1f} | {m['file_mib']:.1f} | {m['shmem_mib']:.1f} | {m['load']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
