"""SMS gateways. Each ``send`` is given an idempotency key; retrying with it never sends twice."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
    """Development and tests: one JSON line per message (``to``, ``text``, ``code``, ...)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    async def send(self, sms: OutgoingSms) -> str | None:
        line = orjson.dumps(
            {"key": sms.key, "to": sms.to, "text": sms.text, "kind": sms.kind, "code": sms.code}
        )
        await asyncio.to_thread(self._append, line + b"\n")
        return sms.key

    def _append(self, line: bytes) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                handle.write(line)

    async def aclose(self) -> None:
        return None


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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._path = f"/v1/{api_key}/sms/send.json"
        self._sender = sender
        self._retries = retries
        self._client = httpx.AsyncClient(
            base_url=base_url, timeout=httpx.Timeout(timeout), transport=transport
        )

    async def send(self, sms: OutgoingSms) -> str | None:
        form = {"receptor": sms.to, "message": sms.text, "localid": sms.key}
        if self._sender:
            form["sender"] = self._sender
        last: SmsError | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(0.2 * 2**attempt)
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
        entries = body.get("entries") or [{}]
        message_id = entries[0].get("messageid")
        return None if message_id is None else str(message_id)

    async def aclose(self) -> None:
        await self._client.aclose()


def backend_from_settings(settings: Settings) -> SmsBackend:
    name = settings.sms_backend
    if name == "console":
        return ConsoleBackend()
    if name.startswith("file:"):
        return FileBackend(Path(name.removeprefix("file:")))
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
