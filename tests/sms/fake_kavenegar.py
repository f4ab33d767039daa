"""A fake Kavenegar ``sms/send`` endpoint on loopback, scriptable per request.

Like the real service it de-duplicates by ``localid``: a repeated one gets the first
message's entry back and is not delivered again. Kavenegar documents ``localid`` as a number;
the fake answers a non-numeric one with status 400 so a client that sends text notices.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl

_OK = "تایید شد"
_REASONS = {
    400: "پارامترها ناقص هستند",
    401: "حساب کاربری غیرفعال شده است",
    403: "کد شناسائی API-Key معتبر نمی‌باشد",
    411: "دریافت کننده نامعتبر است",
    418: "اعتبار حساب شما کافی نیست",
}


@dataclass(frozen=True)
class _Step:
    kind: str  # "http" (bare HTTP error), "status" (JSON refusal), "delay" or "raw"
    value: float
    body: Any = None


@dataclass
class FakeKavenegar:
    api_key: str
    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)  # every form received
    delivered: list[dict[str, Any]] = field(default_factory=list)  # each message sent once
    paths: list[str] = field(default_factory=list)
    _script: deque[_Step] = field(default_factory=deque)
    _by_localid: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _next_id: int = 70_000_001

    # -- script -------------------------------------------------------------------------
    def fail_next(self, count: int = 1, *, http_status: int = 502) -> None:
        """The next ``count`` requests get a bare HTTP error; nothing is sent."""
        for _ in range(count):
            self._script.append(_Step("http", http_status))

    def refuse_next(self, status: int) -> None:
        """The next request gets ``{"return": {"status": status}}``; nothing is sent."""
        self._script.append(_Step("status", status))

    def answer_next(self, body: Any) -> None:
        """The next request gets HTTP 200 with ``body`` (bytes as they are, else JSON)."""
        self._script.append(_Step("raw", 200, body))

    def delay_next(self, seconds: float) -> None:
        """The next request is sent, but its answer comes ``seconds`` later (or at stop)."""
        self._script.append(_Step("delay", seconds))

    # -- server side --------------------------------------------------------------------
    def handle(self, path: str, form: dict[str, str]) -> tuple[int, Any, float]:
        """Returns the HTTP status, the JSON body and how long to hold the answer."""
        with self._lock:
            self.paths.append(path)
            self.requests.append(form)
            step = self._script.popleft() if self._script else None
            if path != f"/v1/{self.api_key}/sms/send.json":
                return 403, _refusal(403), 0.0
            if step is not None and step.kind == "http":
                return int(step.value), {"error": "bad gateway"}, 0.0
            if step is not None and step.kind == "raw":
                return 200, step.body, 0.0
            if step is not None and step.kind == "status":
                return int(step.value), _refusal(int(step.value)), 0.0
            localid = form.get("localid")
            if not form.get("receptor") or not form.get("message"):
                return 400, _refusal(400), 0.0
            if localid is not None and not localid.isdigit():
                return 400, _refusal(400), 0.0
            entry = self._by_localid.get(localid) if localid else None
            if entry is None:
                entry = {
                    "messageid": self._next_id,
                    "message": form["message"],
                    "status": 1,
                    "statustext": "در صف ارسال قرار دارد",
                    "sender": form.get("sender", "10004346"),
                    "receptor": form["receptor"],
                    "date": int(time.time()),
                    "cost": 120,
                }
                self._next_id += 1
                self.delivered.append({**entry, "localid": localid})
                if localid:
                    self._by_localid[localid] = entry
            delay = step.value if step is not None and step.kind == "delay" else 0.0
            return 200, {"return": {"status": 200, "message": _OK}, "entries": [entry]}, delay

    def hold(self, seconds: float) -> None:
        self._release.wait(seconds)

    def release(self) -> None:
        self._release.set()


def _refusal(status: int) -> dict[str, Any]:
    return {"return": {"status": status, "message": _REASONS.get(status, "خطا")}, "entries": None}


class _Server(ThreadingHTTPServer):
    fake: FakeKavenegar


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        fake = cast(_Server, self.server).fake
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        status, body, delay = fake.handle(self.path, form)
        if delay:
            fake.hold(delay)
        payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up waiting (the timeout case)
            pass

    def log_message(self, format: str, *args: Any) -> None:
        return None  # the request line holds the API key; keep stderr quiet


class RunningFake:
    """Owns the server thread; :meth:`stop` is bounded even with a held answer."""

    def __init__(self, api_key: str) -> None:
        self.fake = FakeKavenegar(api_key)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self.fake
        host, port = self._server.server_address[:2]
        self.fake.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.fake.release()
        self._server.shutdown()
        self._server.server_close()  # joins handler threads, none of which waits any more
        self._thread.join(timeout=5)
