"""The write load and its ledger: what the server acknowledged, and what that implies.

A write is *acknowledged* when the server answered HTTP 200 with ``"status": "success"``.
Only acknowledged writes are asserted on. A request that failed (connection reset by a killed
worker, a 500 while PostgreSQL was down, a timeout) may or may not have committed; it is never
retried, and the ledger keeps both outcomes possible.

Votes are checked by state: every (customer, store) pair has the set of vote states it may be
in ("like", "dislike", "none"). An acknowledged answer narrows the set to one state; a failed
request widens it by the request's effect. Each customer belongs to one client, so a pair's
requests are sequential and the final state in the database must be in the pair's set.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import httpx

VOTE_STATES = frozenset({"like", "dislike", "none"})
VOTE_OPS = ("add-like", "add-dislike", "delete-like", "delete-dislike")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    cellphone: str
    token: str

    def auth(self) -> dict[str, str]:
        return {"username": self.cellphone, "token": self.token}


@dataclass(frozen=True, slots=True)
class SentMessage:
    id: int
    chat_id: int
    sender_id: int
    text: str


@dataclass(frozen=True, slots=True)
class SentComment:
    id: int
    store_id: int
    user_id: int
    text: str
    score: int


class Outcome(Enum):
    ok = "acknowledged"
    error = "refused"  # HTTP 200 with status error: nothing was written (rolled back)
    failed = "failed"  # no answer, or not the contract's answer: unknown


@dataclass(frozen=True, slots=True)
class Reply:
    outcome: Outcome
    message: str
    body: dict[str, Any]


@dataclass
class Ledger:
    registrations: dict[str, int] = field(default_factory=dict)  # cellphone -> user id
    registration_attempts: list[str] = field(default_factory=list)
    messages: dict[int, SentMessage] = field(default_factory=dict)
    comments: dict[int, SentComment] = field(default_factory=dict)
    votes: dict[tuple[int, int], frozenset[str]] = field(default_factory=dict)
    vote_acks: int = 0
    view_acks: int = 0
    tally: Counter[str] = field(default_factory=Counter)
    anomalies: list[str] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return (len(self.registrations) + len(self.messages) + len(self.comments)
                + self.vote_acks + self.view_acks)  # fmt: skip

    def note(self, action: str, reply: Reply) -> None:
        key = f"{action}: {reply.outcome.value}"
        if reply.outcome is not Outcome.ok:
            key += f" ({reply.message})"
        self.tally[key] += 1
        if reply.outcome is not Outcome.failed:
            self.ack_times.append(time.monotonic())


async def post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> Reply:
    try:
        response = await client.post(path, data=data)
    except httpx.HTTPError as exc:
        return Reply(Outcome.failed, type(exc).__name__, {})
    if response.status_code != 200:
        return Reply(Outcome.failed, f"HTTP {response.status_code}", {})
    try:
        body = response.json()
    except ValueError:
        return Reply(Outcome.failed, "not JSON", {})
    if not isinstance(body, dict):
        return Reply(Outcome.failed, "not an envelope", {})
    message = str(body.get("message", "")).strip()
    if body.get("status") == "success":
        return Reply(Outcome.ok, message, body)
    if body.get("status") == "error":
        return Reply(Outcome.error, message, body)
    return Reply(Outcome.failed, "not an envelope", {})


# -- votes -----------------------------------------------------------------------------------


def vote_effect(op: str, state: str) -> str:
    if op == "add-like":
        return "like"
    if op == "add-dislike":
        return "dislike"
    removed = "like" if op == "delete-like" else "dislike"
    return "none" if state == removed else state


OK_MESSAGE = {"add-like": "Liked", "add-dislike": "Disliked",
              "delete-like": "Like Deleted", "delete-dislike": "Dislike Deleted"}  # fmt: skip
MISSING_MESSAGE = {"delete-like": "Not Liked", "delete-dislike": "Not dislike"}


def after_vote(possible: frozenset[str], op: str, reply: Reply) -> tuple[frozenset[str], str]:
    """The pair's possible states after ``reply``, and an anomaly ("" when none)."""
    widened = possible | {vote_effect(op, s) for s in possible}
    if reply.outcome is Outcome.ok and reply.message == OK_MESSAGE[op]:
        if op.startswith("delete-"):
            removed = op.removeprefix("delete-")
            if removed not in possible:
                return VOTE_STATES, f"{op} acknowledged, but the {removed} was known absent"
        return frozenset({"none" if op.startswith("delete-") else op.removeprefix("add-")}), ""
    if reply.outcome is Outcome.error and reply.message == MISSING_MESSAGE.get(op):
        removed = op.removeprefix("delete-")
        left = possible - {removed}
        if not left:
            lost = f"{op} said {reply.message!r} after an acknowledged {removed}"
            return VOTE_STATES - {removed}, lost
        return left, ""
    if reply.outcome is Outcome.error:
        return possible, ""  # refused: rolled back
    return widened, ""


# -- the clients -----------------------------------------------------------------------------


@dataclass
class Load:
    """Shared by the clients: the deadline, the ledger and the data the load works on."""

    ledger: Ledger
    deadline: float
    rng: random.Random
    run_id: str
    stores: list[int]
    phones: Iterator[str]
    counter: Iterator[int]

    def running(self) -> bool:
        return time.monotonic() < self.deadline


async def registration_client(load: Load, client: httpx.AsyncClient) -> None:
    ledger = load.ledger
    while load.running():
        phone = next(load.phones)
        ledger.registration_attempts.append(phone)
        reply = await post(client, "/web/user/register",
                           {"username": phone, "password": "faults-pass"})  # fmt: skip
        ledger.note("register", reply)
        if reply.outcome is Outcome.ok:
            if reply.body.get("username") != phone or not isinstance(reply.body.get("id"), int):
                ledger.anomalies.append(f"register {phone}: odd success {reply.body}")
                continue
            ledger.registrations[phone] = int(reply.body["id"])


async def vote_client(load: Load, client: httpx.AsyncClient, customers: list[Account]) -> None:
    ledger, rng = load.ledger, load.rng
    while load.running():
        customer = rng.choice(customers)
        store = rng.choice(load.stores)
        roll = rng.random()
        data = {**customer.auth(), "target": "store", "id": str(store)}
        if roll < 0.06:
            n = next(load.counter)
            text = f"نظر {n} faults {load.run_id}"
            score = rng.randint(1, 5)
            reply = await post(client, "/web/user/add-comment",
                               {**data, "text": text, "score": str(score)})  # fmt: skip
            ledger.note("add-comment", reply)
            if reply.outcome is Outcome.ok:
                comment_id = int(reply.body["data"]["id"])
                ledger.comments[comment_id] = SentComment(comment_id, store, customer.id, text,
                                                          score)  # fmt: skip
            continue
        if roll < 0.12:
            reply = await post(client, "/web/user/add-view", data)
            ledger.note("add-view", reply)
            ledger.view_acks += reply.outcome is Outcome.ok
            continue
        op = rng.choices(VOTE_OPS, weights=(40, 30, 20, 10))[0]
        reply = await post(client, f"/web/user/{op}", data)
        ledger.note(op, reply)
        key = (customer.id, store)
        ledger.votes[key], anomaly = after_vote(ledger.votes[key], op, reply)
        if reply.outcome is Outcome.ok:
            ledger.vote_acks += 1
        if anomaly:
            ledger.anomalies.append(f"user {customer.id} store {store}: {anomaly}")


async def chat_client(
    load: Load, client: httpx.AsyncClient, chats: list[tuple[Account, int]]
) -> None:
    """Messages in the given chats, each sent by its (sender, chat) pair's sender."""
    ledger, rng = load.ledger, load.rng
    while load.running():
        sender, chat = rng.choice(chats)
        text = f"پیام {next(load.counter)} faults {load.run_id}"
        reply = await post(client, "/web/user/send-chat-message",
                           {**sender.auth(), "id": str(chat), "text": text})  # fmt: skip
        ledger.note("send-chat-message", reply)
        if reply.outcome is Outcome.ok:
            message_id = int(reply.body["data"]["id"])
            ledger.messages[message_id] = SentMessage(message_id, chat, sender.id, text)


async def login(client: httpx.AsyncClient, cellphone: str, password: str,
                *, staff: bool = False) -> Account:  # fmt: skip
    path = "/web/user/store-login" if staff else "/web/user/login"
    reply = await post(client, path, {"username": cellphone, "password": password})
    if reply.outcome is not Outcome.ok:
        raise RuntimeError(f"login {cellphone}: {reply.outcome.value} {reply.message}")
    data = reply.body["data"]
    return Account(int(data["id"]), cellphone, str(data["token"]))


async def start_chat(client: httpx.AsyncClient, customer: Account, store: int) -> int:
    reply = await post(client, "/web/user/start-chat", {**customer.auth(), "store": str(store)})
    if reply.outcome is not Outcome.ok:
        raise RuntimeError(f"start-chat {customer.cellphone}: {reply.message}")
    return int(reply.body["data"]["id"])


async def wait_for_write(
    client: httpx.AsyncClient, account: Account, store: int, within: float
) -> float | None:
    """Seconds until an authenticated write (a view) is acknowledged; None if not ``within``."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        reply = await post(client, "/web/user/add-view",
                           {**account.auth(), "target": "store", "id": str(store)})  # fmt: skip
        if reply.outcome is Outcome.ok:
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    return None
