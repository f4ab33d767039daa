"""After the faults: compare the ledger with the database (either) and the SMS file."""

# ruff: noqa: S608 (table and column names in the SQL are constants; values are parameters)

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db import Db
from load import Ledger

# (table, the ``target`` value its interactions carry). Constant names, never input.
COUNTED_TARGETS = (("bazaars", "bazaar"), ("malls", "mall"), ("stores", "store"),
                   ("products", "product"))  # fmt: skip
COUNTERS = ("liked", "disliked", "favorite_count", "notification_count", "viewed",
            "comments_count", "score_total", "score_count")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Check:
    """One kind of acknowledged write: how many were acknowledged, checked and found."""

    name: str
    acknowledged: int
    checked: int
    found: int

    @property
    def lost(self) -> int:
        return self.checked - self.found


@dataclass
class Verdict:
    checks: list[Check] = field(default_factory=list)
    targets_checked: int = 0
    counter_mismatches: list[str] = field(default_factory=list)
    double_votes: int = 0
    sms_lines: int = 0
    sms_torn_lines: int = 0  # not a message: its row was resent and appears whole
    sms_duplicates: dict[str, int] = field(default_factory=dict)
    outbox: Counter[str] = field(default_factory=Counter)
    registered_users: int = 0
    registered_with_one_sms: int = 0
    problems: list[str] = field(default_factory=list)
    integrity: str = "-"  # SQLite's PRAGMA integrity_check

    @property
    def lost(self) -> int:
        return sum(check.lost for check in self.checks)

    @property
    def passed(self) -> bool:
        return not (self.lost or self.counter_mismatches or self.double_votes
                    or self.sms_duplicates or self.problems)  # fmt: skip


async def verify(db: Db, ledger: Ledger, sms_file: Path) -> Verdict:
    verdict = Verdict()
    async with db as connection:
        if connection.sqlite:
            # kill -9 in a write transaction or a checkpoint must leave a sound file.
            rows = await connection.fetch("PRAGMA integrity_check")
            verdict.integrity = "; ".join(str(row[0]) for row in rows)
            if verdict.integrity != "ok":
                verdict.problems.append(f"SQLite integrity_check: {verdict.integrity}")
        await _registrations(connection, ledger, verdict)
        await _messages(connection, ledger, verdict)
        await _comments(connection, ledger, verdict)
        await _votes(connection, ledger, verdict)
        await _counters(connection, verdict)
        await _sms(connection, ledger, sms_file, verdict)
    return verdict


async def _registrations(connection: Db, ledger: Ledger, verdict: Verdict) -> None:
    rows = await connection.fetch(
        "SELECT cellphone, id FROM users WHERE " + connection.any("cellphone", 1, "text"),
        connection.array(list(ledger.registrations)),
    )
    present = {row["cellphone"]: row["id"] for row in rows}
    found = 0
    for phone, user_id in ledger.registrations.items():
        if present.get(phone) == user_id:
            found += 1
        else:
            verdict.problems.append(f"registration {phone} (user {user_id}) acknowledged, "
                                    f"found {present.get(phone)}")  # fmt: skip
    n = len(ledger.registrations)
    verdict.checks.append(Check("registrations (user row)", n, n, found))


async def _messages(connection: Db, ledger: Ledger, verdict: Verdict) -> None:
    rows = await connection.fetch(
        "SELECT id, chat_id, sender_id, text FROM chat_messages WHERE "
        + connection.any("id", 1, "int"),
        connection.array(list(ledger.messages)),
    )
    stored = {row["id"]: (row["chat_id"], row["sender_id"], row["text"]) for row in rows}
    found = 0
    for message in ledger.messages.values():
        if stored.get(message.id) == (message.chat_id, message.sender_id, message.text):
            found += 1
        else:
            verdict.problems.append(f"chat message {message.id} acknowledged, found "
                                    f"{stored.get(message.id)}")  # fmt: skip
    n = len(ledger.messages)
    verdict.checks.append(Check("chat messages (id, chat, sender, text)", n, n, found))


async def _comments(connection: Db, ledger: Ledger, verdict: Verdict) -> None:
    rows = await connection.fetch(
        "SELECT id, target, target_id, user_id, text, score, visible FROM comments WHERE "
        + connection.any("id", 1, "int"),
        connection.array(list(ledger.comments)),
    )
    stored = {row["id"]: tuple(row)[1:] for row in rows}
    found = 0
    for comment in ledger.comments.values():
        expected = ("store", comment.store_id, comment.user_id, comment.text, comment.score, True)
        if stored.get(comment.id) == expected:  # SQLite's 1 for true equals True
            found += 1
        else:
            verdict.problems.append(f"comment {comment.id} acknowledged, found "
                                    f"{stored.get(comment.id)}")  # fmt: skip
    n = len(ledger.comments)
    verdict.checks.append(Check("store comments (visible, same text)", n, n, found))


async def _votes(connection: Db, ledger: Ledger, verdict: Verdict) -> None:
    users = sorted({user for user, _ in ledger.votes})
    rows = await connection.fetch(
        "SELECT user_id, target_id, kind FROM marks"
        " WHERE slot = 'vote' AND target = 'store' AND " + connection.any("user_id", 1, "int"),
        connection.array(users),
    )
    state = {(row["user_id"], row["target_id"]): row["kind"] for row in rows}
    found = 0
    for pair, possible in ledger.votes.items():
        actual = state.get(pair, "none")
        if actual in possible:
            found += 1
        else:
            verdict.problems.append(f"vote of user {pair[0]} on store {pair[1]}: {actual}, "
                                    f"expected one of {sorted(possible)}")  # fmt: skip
    verdict.checks.append(Check("votes (final state per customer × store)", ledger.vote_acks,
                                len(ledger.votes), found))  # fmt: skip
    verdict.double_votes = int(await connection.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM marks WHERE kind IN ('like', 'dislike')"
        " GROUP BY user_id, target, target_id HAVING count(*) > 1) AS doubled"
    ))  # fmt: skip


def _counter_query(table: str) -> str:
    actual = ", ".join(f"t.{c}" for c in COUNTERS)
    expected = ", ".join(f"coalesce(x.{c}, 0) AS expected_{c}" for c in COUNTERS)
    differs = " OR ".join(f"t.{c} <> coalesce(x.{c}, 0)" for c in COUNTERS)
    return f"""
        WITH m AS (
            SELECT target_id,
                   count(*) FILTER (WHERE kind = 'like') AS liked,
                   count(*) FILTER (WHERE kind = 'dislike') AS disliked,
                   count(*) FILTER (WHERE kind = 'favorite') AS favorite_count,
                   count(*) FILTER (WHERE kind = 'notification') AS notification_count
            FROM marks WHERE target = $1 GROUP BY target_id
        ), v AS (
            SELECT target_id, sum(count) AS viewed FROM views WHERE target = $1
            GROUP BY target_id
        ), c AS (
            SELECT target_id, count(*) AS comments_count, sum(score) AS score_total,
                   count(score) AS score_count
            FROM comments WHERE target = $1 AND visible GROUP BY target_id
        ), x AS (
            SELECT t.id, m.liked, m.disliked, m.favorite_count, m.notification_count,
                   v.viewed, c.comments_count, c.score_total, c.score_count
            FROM {table} AS t
            LEFT JOIN m ON m.target_id = t.id
            LEFT JOIN v ON v.target_id = t.id
            LEFT JOIN c ON c.target_id = t.id
        )
        SELECT t.id, {actual}, {expected}
        FROM {table} AS t JOIN x ON x.id = t.id
        WHERE {differs}
    """


async def _counters(connection: Db, verdict: Verdict) -> None:
    for table, target in COUNTED_TARGETS:
        verdict.targets_checked += int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
        for row in await connection.fetch(_counter_query(table), target):
            wrong = [f"{c} {row[c]} ≠ {row['expected_' + c]}" for c in COUNTERS
                     if row[c] != row["expected_" + c]]  # fmt: skip
            verdict.counter_mismatches.append(f"{target} {row['id']}: " + ", ".join(wrong))


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The file's records, and how many lines are torn (a writer killed mid-line)."""
    if not path.exists():
        return [], 0
    records, torn = [], 0
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            torn += 1
    return records, torn


async def _sms(connection: Db, ledger: Ledger, sms_file: Path, verdict: Verdict) -> None:
    lines, verdict.sms_torn_lines = await asyncio.to_thread(_read_jsonl, sms_file)
    verdict.sms_lines = len(lines)
    keys = Counter(str(line["key"]) for line in lines)
    verdict.sms_duplicates = {key: n for key, n in keys.items() if n > 1}
    rows = await connection.fetch('SELECT id, "to", kind, status FROM sms_outbox ORDER BY id')
    verdict.outbox = Counter(row["status"] for row in rows)
    by_key = {f"hojre-sms-{row['id']}": row for row in rows}
    for key, row in by_key.items():
        if row["status"] == "sent" and key not in keys:
            verdict.problems.append(f"SMS {key} marked sent but never delivered")
    for line in lines:
        row = by_key.get(str(line["key"]))
        if row is None:
            # Delivered for a transaction that never committed.
            verdict.problems.append(f"SMS {line['key']} delivered without an outbox row")
        elif row["to"] != line["to"]:
            verdict.problems.append(f"SMS {line['key']} went to {line['to']}, not {row['to']}")
    for status in ("pending", "sending", "failed"):
        if verdict.outbox[status]:
            verdict.problems.append(f"{verdict.outbox[status]} SMS still {status}")
    # Every user the load registered (acknowledged or not: a registration that committed
    # without an answer still owes its SMS) has exactly one activation SMS, delivered once.
    registered = await connection.fetch(
        "SELECT cellphone FROM users WHERE " + connection.any("cellphone", 1, "text"),
        connection.array(ledger.registration_attempts),
    )
    activation: dict[str, list[str]] = {}
    for key, row in by_key.items():
        if row["kind"] == "activation":
            activation.setdefault(row["to"], []).append(key)
    verdict.registered_users = len(registered)
    for row in registered:
        phone = row["cellphone"]
        sms = activation.get(phone, [])
        if len(sms) == 1 and keys[sms[0]] == 1:
            verdict.registered_with_one_sms += 1
        else:
            delivered = [keys[key] for key in sms]
            verdict.problems.append(f"user {phone}: {len(sms)} activation SMS rows, "
                                    f"delivered {delivered} times")  # fmt: skip
