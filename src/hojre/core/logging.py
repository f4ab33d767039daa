"""Logging that never shows a secret: tokens, passwords and codes are redacted on every handler."""

from __future__ import annotations

import asyncio
import copy
import functools
import http
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import quote, unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hojre.core.text import PLAIN_QUERY

REDACTED = "[redacted]"

# Normalised parameter names (see ``_normalise_key``) whose values never reach a log.
SECRET_KEYS = frozenset(
    {
        "token",
        "accesstoken",
        "password",
        "oldpassword",
        "newpassword",
        "code",
        "activationcode",
        "apikey",
    }
)

_BEARER = re.compile(r"(?i)(bearer(?:\s|%20|\+)+)[A-Za-z0-9\-_.~+/]+=*")

# A key is made of ``[A-Za-z0-9_.%[]+~-]``: raw or percent-encoded, brackets for
# ``Model[field]``. ASCII on purpose: uvicorn logs the query raw, and Unicode ``\w`` doubles
# the scan time; a non-ASCII character next to a key only acts as a boundary, missing nothing.
_PAIR = re.compile(
    # The boundary before a key is consumed, not looked behind: a pattern opening with a
    # character class lets the engine skip the inside of words in C, which halves the cost.
    # Any non-key character is a boundary (so ``zipcode`` never yields ``code``), and so is
    # an encoded ``&`` after an encoded value. The text gets a leading space for its start.
    r"(?P<pre>[^A-Za-z0-9_.%\[\]+~-]|%(?:25)*26)"
    # Possessive: a key stops at a non-key character or an encoded ``=``/``&``, so backtracking
    # could never match. Were ``%26`` allowed inside, a run of them would be rescanned from
    # each of its starts (quadratic on a hostile URL).
    r"(?P<key>(?:[A-Za-z0-9_.\[\]+~-]|%(?!(?:25)*(?:3[dD]|26)))++)"
    r"(?:"
    # A closing quote is left unconsumed: it is the boundary of whatever key follows.
    r"(?P<sep>=)(?P<val>\"[^\"]*(?=\")|'[^']*(?=')|[^&;\s\"']*)"
    # An encoded ``=`` means an encoded query: its value ends at an ``&`` encoded as many
    # times as the ``=`` was (``%3D``/``%26``, ``%253D``/``%2526``, ...).
    r"|(?P<esep>%(?P<level>(?:25)*)3[dD])(?P<eval>(?:[^&;\s\"'%]|%(?!(?P=level)26))*+)"
    # No re.IGNORECASE: it makes every character class case-fold, which is the slow part.
    r")"
)
_SPLIT = re.compile(r"[&?/;\s]")
_MAX_DEPTH = 3
_DECODE_ROUNDS = 3
_CACHED_KEY_LEN = 64


def _is_secret_key(key: str) -> bool:
    """Whether ``key`` (as written in the log) names a secret once normalised."""
    # Real keys are short; caching long ones would only pin a hostile URL's text in memory.
    if len(key) <= _CACHED_KEY_LEN:
        return _is_secret_key_cached(key)
    return _normalise_key(key) in SECRET_KEYS


@functools.lru_cache(maxsize=1024)
def _is_secret_key_cached(key: str) -> bool:
    return _normalise_key(key) in SECRET_KEYS


def _normalise_key(key: str) -> str:
    """``User%5Bnew_Password%5D`` -> ``newpassword``: decoded, field of ``Model[field]``, folded."""
    name = key
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote_plus(name)
        if decoded == name:
            break
        name = decoded
    # A key found inside an encoded value may carry the encoded ``?``/``&``/``/`` before it.
    name = _SPLIT.split(name)[-1]
    name = name.removesuffix("[]")
    if name.endswith("]") and "[" in name:
        name = name[name.rindex("[") + 1 : -1]
    return name.lower().replace("-", "").replace("_", "")


def _may_hold_pair(text: str) -> bool:
    if "=" in text:
        return True
    lowered = text.lower()
    # ``253d`` covers ``%253D`` and every deeper encoding of ``=``.
    return "%3d" in lowered or "253d" in lowered


def _redact_pairs(text: str, depth: int) -> str:
    def replace(match: re.Match[str]) -> str:
        value = match["val"] if match["sep"] is not None else match["eval"]
        if not value:
            return match[0]
        head = match[0][: -len(value)]
        if _is_secret_key(match["key"]):
            # A quoted value keeps its opening quote; the closing one was never consumed.
            return head + (value[0] + REDACTED if value[0] in "\"'" else REDACTED)
        if depth < _MAX_DEPTH and _may_hold_pair(value):
            # A ``next=``/``href=`` value may be a whole (encoded) query of its own.
            return head + _redact_pairs(value, depth + 1)
        return match[0]

    return _PAIR.sub(replace, " " + text)[1:]


def redact(text: str) -> str:
    """``text`` with secret query values and bearer tokens replaced by ``REDACTED``."""
    lowered = text.lower()
    has_bearer = "bearer" in lowered
    # Most access-log arguments (address, method, version, a plain path) end here.
    if not has_bearer and "=" not in text and "%3d" not in lowered and "253d" not in lowered:
        return text
    if has_bearer:
        # Before the pairs: ``token=Bearer abc`` would otherwise keep ``abc``.
        text = _BEARER.sub(r"\1" + REDACTED, text)
    return _redact_pairs(text, 0)


def _may_hold_secret(text: str) -> bool:
    return _may_hold_pair(text) or "bearer" in text.lower()


class RedactFilter(logging.Filter):
    """Rewrites the message and its arguments (uvicorn's access log passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in args.items()}
        if isinstance(record.msg, str):
            if record.args and _may_hold_secret(record.msg):
                # ``"password=%s"`` holds the key and the secret in different places, and
                # redacting the template alone would break ``%`` formatting: format first.
                # uvicorn's access template has no ``=``, so its args keep their shape.
                try:
                    formatted = record.msg % record.args
                except (TypeError, ValueError, KeyError):
                    record.msg = redact(record.msg)
                else:
                    record.msg = redact(formatted)
                    record.args = ()
            else:
                record.msg = redact(record.msg)
        return True


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own logging config with the redaction filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "hojre.core.logging.RedactFilter"}}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact")
    config["loggers"]["hojre"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    # httpx logs request URLs at INFO; the Kavenegar URL holds the API key.
    config["loggers"]["httpx"] = {"handlers": ["default"], "level": "WARNING", "propagate": False}
    return config


def install_redaction() -> None:
    """For processes not started by ``hojre serve`` (tests, other ASGI servers)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())
    logging.getLogger("httpx").setLevel(logging.WARNING)


# What uvicorn's access formatter prints after the code ("200 OK"; "599 " for unknown codes).
_STATUS = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}
# Paths that urllib's quote() would return unchanged (the usual ones): the call is skipped.
_QUOTE_SAFE = re.compile(r"[A-Za-z0-9_.\-~/]*")
# In a plain query (hojre.core.text.PLAIN_QUERY: no escapes, quotes, ";" or spaces) what redact()
# would find is each pair: its secret values are replaced pair by pair, without the scan.
_PLAIN_ADDRESS = re.compile(r"[0-9A-Za-z.:\[\]_-]*")


def _redact_plain_query(query: str) -> str:
    pairs = query.split("&")
    for index, pair in enumerate(pairs):
        key, _, value = pair.partition("=")
        if value and _is_secret_key(key):
            pairs[index] = f"{key}={REDACTED}"
    return "&".join(pairs)


def access_line(scope: Scope, status: int) -> str:
    """uvicorn's access log line (without colours), tokens redacted: ``INFO:     1.2.3.4:5 -
    "GET /web/users?token=[redacted] HTTP/1.1" 200 OK``."""
    client = scope.get("client")
    path: str = scope["path"]
    plain_path = _QUOTE_SAFE.fullmatch(path) is not None
    if not plain_path:
        path = quote(path)
    query: bytes = scope["query_string"]
    address = f"{client[0]}:{client[1]}" if client else ""
    phrase = _STATUS.get(status) or f"{status} "
    method, version = scope["method"], scope["http_version"]
    # The usual line: a plain path and address (no "=", "%" or "bearer" for redact() to find:
    # an address may come from a trusted proxy's X-Forwarded-For) and a plain query.
    if (
        plain_path
        and (not query or PLAIN_QUERY.fullmatch(query))
        and _PLAIN_ADDRESS.fullmatch(address)
        and "bearer" not in path.lower()
    ):
        if query:
            path = f"{path}?{_redact_plain_query(query.decode('ascii'))}"
        return f'INFO:     {address} - "{method} {path} HTTP/{version}" {phrase}\n'
    if query:
        # uvicorn decodes as ASCII and fails on anything else; here such a byte shows escaped.
        path = f"{path}?{query.decode('ascii', 'backslashreplace')}"
    return redact(f'INFO:     {address} - "{method} {path} HTTP/{version}" {phrase}\n')


class AccessLog:
    """ASGI middleware: the access log, one line per HTTP response as uvicorn writes it.

    uvicorn's own (a LogRecord, a copy of it for its formatter, the filter's redaction of each
    argument, a lock and a flush per line) cost more CPU than the whole of ``/web/ping``. Here
    the line is formatted and redacted once and the lines of one event-loop iteration go out in
    one write, right after it: under load that is many lines per ``write()``, when idle one.
    A line is written when the response starts, as uvicorn does, or, when the app fails or
    returns before it starts one, with the 500 that the server then sends. A process killed
    with SIGKILL loses at most the lines of its last iteration.

    ``hojre serve`` runs the app under this and turns uvicorn's access log off.
    """

    def __init__(self, app: ASGIApp, *, stream: TextIO | None = None) -> None:
        self.app = app
        # None: sys.stdout as it is at each write (where uvicorn's access handler writes).
        self.stream = stream
        self.pending: list[str] = []
        # The loop a flush is scheduled on. A loop closed before running it (tests that start
        # a loop per test) leaves this set to it, and the next line schedules on its own loop.
        self._flush_on: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            if scope["type"] == "lifespan":  # shutting down: nothing waits on the loop now
                self.flush()
            return

        started = False

        async def logged_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self.write(access_line(scope, message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        finally:
            if not started:  # the app failed or answered nothing: the server answers 500
                self.write(access_line(scope, 500))

    def write(self, line: str) -> None:
        self.pending.append(line)
        loop = asyncio.get_running_loop()
        if self._flush_on is not loop:
            self._flush_on = loop
            loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_on = None
        if not self.pending:
            return
        text = "".join(self.pending)
        self.pending.clear()
        stream = self.stream or sys.stdout
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            # A closed or broken stdout (the reader went away): the lines are lost, as they
            # would be with logging's handler, and the request is not failed for it.
            pass
