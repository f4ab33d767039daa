"""SMS gateways. Each ``send`` is given an idempotency key; retrying with it never sends twice."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import httpx
import orjson

from hojre.core.settings import Settings

log = logging.getLogger("hojre.sms")


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    key: str  # idempotency key, stable across retries of one outbox row
    to: str
    text: str
    kind: str
    code: str | None = None
    # The same identity as a number: Kavenegar's ``localid`` is a long and would not dedupe
    # (or would be refused) with the textual key.
    local_id: int | None = None


class SmsError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmsBackend(Protocol):
    async def send(self, sms: OutgoingSms) -> str | None:
        """Deliver ``sms``; return the gateway's message id. Raise :class:`SmsError`."""
        ...

    async def aclose(self) -> None: ...


class ConsoleBackend:
    """Development: the message goes to the log."""

    async def send(self, sms: OutgoingSms) -> str | None:
        log.info("SMS to %s: %s", sms.to, sms.text)
        return None

    async def aclose(self) -> None:
        return None


class FileBackend:
    """Development and tests: one JSON line per message (``to``, ``text``, ``code``, ...).

    Like a real gateway it honours the idempotency key: a message whose key is in the file
    already is not written again. The outbox resends a row whose sender died (or lost the
    database) after the send but before recording it, and counts on exactly that. The file is
    locked while it is checked and appended, so every server process and ``hojre outbox
    deliver`` can share it; each remembers the keys it has read and reads only what is new.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        self._scanned = 0  # bytes of the file whose keys are in ``_keys``
        self._file_id: tuple[int, int] | None = None  # (device, inode) they were read from

    async def send(self, sms: OutgoingSms) -> str | None:
        line = orjson.dumps(
            {"key": sms.key, "to": sms.to, "text": sms.text, "kind": sms.kind, "code": sms.code}
        )
        await asyncio.to_thread(self._append, sms.key, line + b"\n")
        return sms.key

    def _append(self, key: str, line: bytes) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a+b") as handle:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the file closes
                torn = self._catch_up(handle)
                if key in self._keys:
                    return
                # A writer that died mid-line left no newline: end its line before ours.
                handle.write(b"\n" + line if torn else line)
                handle.flush()
                self._keys.add(key)
                self._scanned = handle.tell()

    def _catch_up(self, handle: BinaryIO) -> bool:
        """Read the keys appended since the last look; True if the file ends mid-line."""
        stat = os.fstat(handle.fileno())
        if (stat.st_dev, stat.st_ino) != self._file_id or stat.st_size < self._scanned:
            # Another file, or this one truncated: start over.
            self._file_id, self._keys, self._scanned = (stat.st_dev, stat.st_ino), set(), 0
        handle.seek(self._scanned)
        chunk = handle.read(stat.st_size - self._scanned)
        complete = chunk.rfind(b"\n") + 1
        for raw in chunk[:complete].splitlines():
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # a torn line: its message was never recorded as sent
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                self._keys.add(record["key"])
        self._scanned += complete
        return complete < len(chunk)

    async def aclose(self) -> None:
        return None


class _SecretFilter(logging.Filter):
    """Blanks registered secrets in records of the logger it sits on.

    httpx logs every request URL at INFO, and Kavenegar's URL holds the API key. Muting httpx
    is the logging config's job, but a process that never installed it (a CLI, another ASGI
    server, a test) must not leak the key either.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        found = [secret for secret in tuple(self.secrets) if secret in message]
        if found:
            for secret in found:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


_HTTPX_SECRETS = _SecretFilter()
logging.getLogger("httpx").addFilter(_HTTPX_SECRETS)


def _numeric_local_id(sms: OutgoingSms) -> int:
    if sms.local_id is not None:
        return sms.local_id
    # No number given: a stable 63-bit one from the key, so retries still dedupe.
    digest = hashlib.blake2b(sms.key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class KavenegarBackend:
    """Kavenegar's ``sms/send`` API. ``localid`` makes the gateway drop a repeated send."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        sender: str | None,
        timeout: float,
        retries: int = 2,
        backoff: float = 0.2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        self._path = f"/v1/{api_key}/sms/send.json"
        self._sender = sender
        self._retries = retries
        self._backoff = backoff
        self._client = httpx.AsyncClient(
            base_url=base_url, timeout=httpx.Timeout(timeout), transport=transport
        )
        # An empty "secret" would match everywhere; backend_from_settings refuses it anyway.
        self._registered = bool(api_key)
        if self._registered:
            _HTTPX_SECRETS.secrets[api_key] += 1

    async def send(self, sms: OutgoingSms) -> str | None:
        form = {"receptor": sms.to, "message": sms.text, "localid": str(_numeric_local_id(sms))}
        if self._sender:
            form["sender"] = self._sender
        last: SmsError | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff * 2**attempt)
            try:
                response = await self._client.post(self._path, data=form)
            except httpx.HTTPError as exc:
                # Never log the URL: it holds the API key.
                last = SmsError(f"transport error: {type(exc).__name__}")
                continue
            if response.status_code >= 500:
                last = SmsError(f"gateway status {response.status_code}")
                continue
            return self._parse(response)
        assert last is not None
        raise last

    @staticmethod
    def _parse(response: httpx.Response) -> str | None:
        try:
            body = response.json()
            status = int(body["return"]["status"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsError(f"unreadable gateway answer (HTTP {response.status_code})") from exc
        if status != 200:
            # 4xx answers (bad number, no credit, bad key) will not improve by retrying soon,
            # but credit and keys can be fixed: only a rejected receptor is permanent.
            raise SmsError(f"gateway refused: {status}", permanent=status in (411, 412, 414))
        # Status 200 means the gateway took the message: an odd ``entries`` must not turn
        # into a retry.
        entries = body.get("entries")
        first = entries[0] if isinstance(entries, list) and entries else None
        message_id = first.get("messageid") if isinstance(first, dict) else None
        return None if message_id is None else str(message_id)

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._registered:
            self._registered = False
            _HTTPX_SECRETS.secrets[self._api_key] -= 1
            if _HTTPX_SECRETS.secrets[self._api_key] <= 0:
                del _HTTPX_SECRETS.secrets[self._api_key]


def backend_from_settings(settings: Settings) -> SmsBackend:
    name = settings.sms_backend
    if name == "console":
        return ConsoleBackend()
    if name.startswith("file:"):
        path = name.removeprefix("file:")
        if not path:
            # Path("") is the working directory: every send would fail, and only then.
            raise ValueError("HOJRE_SMS_BACKEND=file: needs a path, e.g. file:var/sms.jsonl")
        return FileBackend(Path(path))
    if name == "kavenegar":
        if not settings.kavenegar_api_key:
            raise ValueError("HOJRE_KAVENEGAR_API_KEY is required for the kavenegar backend")
        return KavenegarBackend(
            api_key=settings.kavenegar_api_key,
            base_url=settings.kavenegar_base_url,
            sender=settings.kavenegar_sender,
            timeout=settings.sms_timeout_seconds,
        )
    raise ValueError(f"unknown HOJRE_SMS_BACKEND: {name!r}")
