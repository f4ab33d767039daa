"""Redaction by the parameter's normalised name, on plain text, on uvicorn's access log and on
the app's own access log (hojre.core.logging.AccessLog)."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send
from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from hojre.core.logging import REDACTED, AccessLog, RedactFilter, access_line, redact
from tests.factories import asgi_exchange

R = REDACTED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("User[password]=x", f"User[password]={R}"),
        ("User%5Bpassword%5D=x", f"User%5Bpassword%5D={R}"),
        ("user%5bPASSWORD%5d=x", f"user%5bPASSWORD%5d={R}"),
        ("Code[code]=12345", f"Code[code]={R}"),
        ("User[profile][password]=x", f"User[profile][password]={R}"),
        ("token[]=abc", f"token[]={R}"),
        ("tok%65n=abc", f"tok%65n={R}"),
        ("TOKEN=abc", f"TOKEN={R}"),
        ("%74oken=abc", f"%74oken={R}"),
        ("tok%2565n=abc", f"tok%2565n={R}"),
        ("new_password=x", f"new_password={R}"),
        ("access-token=x", f"access-token={R}"),
        ("oldPassword=x", f"oldPassword={R}"),
        ("activation_code=77", f"activation_code={R}"),
        ("api_key=k", f"api_key={R}"),
        ("x=1&token=abc&y=2", f"x=1&token={R}&y=2"),
        ("a=1;code=5 b", f"a=1;code={R} b"),
        ("token=abc%26def&y=2", f"token={R}&y=2"),
        ("next=token%3Dabc%26a%3D1", f"next=token%3D{R}%26a%3D1"),
        ("next=%2Fweb%3Ftoken%3Dabc%26a%3D1", f"next=%2Fweb%3Ftoken%3D{R}%26a%3D1"),
        ("next=/web?Token%3dabc", f"next=/web?Token%3d{R}"),
        (
            "next=%2Fa%3Fnext%3D%252Fb%253Fcode%253D12%2526c%253D1%26d%3D2",
            f"next=%2Fa%3Fnext%3D%252Fb%253Fcode%253D{R}%2526c%253D1%26d%3D2",
        ),
        ("/reset?x%3D1%26token%3Dabc", f"/reset?x%3D1%26token%3D{R}"),
        ('<a href="/web?token=abc">', f'<a href="/web?token={R}">'),
        ("password='hunter2' user=1", f"password='{R}' user=1"),
        ("Authorization: Bearer abc.def", f"Authorization: Bearer {R}"),
        ("auth=Bearer%20abc.def", f"auth=Bearer%20{R}"),
        ("token=Bearer abc", f"token={R} {R}"),
    ],
)
def test_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "username=0912",
        "tokens_count=3",
        "page=2",
        "zipcode=1",
        "postcode=1&codes=2&password_hint=x",
        "next=%2Fweb%3Fpage%3D2%26q%3Dshoe",
        "token=",
        "GET /web/products/12/comments",
    ],
)
def test_kept(text: str) -> None:
    assert redact(text) == text


def test_fast_path_returns_the_text_itself() -> None:
    text = '127.0.0.1:5000 - "GET /web/products/%D8%B3%D9%84%D8%A7%D9%85 HTTP/1.1" 200'
    assert redact(text) is text


def _access_record(path: str) -> logging.LogRecord:
    return logging.LogRecord(
        name="uvicorn.access",
        level=logging.INFO,
        pathname=__file__,
        lineno=1,
        msg='%s - "%s %s HTTP/%s" %d',
        args=("127.0.0.1:5000", "GET", path, "1.1", 200),
        exc_info=None,
    )


def test_filter_on_uvicorn_access_record() -> None:
    record = _access_record("/web/users?username=0912&User%5Bpassword%5D=x&tok%65n=abc")
    assert RedactFilter().filter(record) is True
    expected = (
        f'127.0.0.1:5000 - "GET /web/users?username=0912&User%5Bpassword%5D={R}&tok%65n={R}'
        f' HTTP/1.1" 200'
    )
    assert record.getMessage() == expected
    # uvicorn's AccessFormatter unpacks exactly these five arguments.
    assert isinstance(record.args, tuple)
    assert len(record.args) == 5
    formatter = AccessFormatter(
        '%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False
    )
    assert formatter.format(record) == expected + " OK"


def test_filter_formats_a_template_holding_the_key() -> None:
    record = logging.LogRecord("hojre", logging.INFO, __file__, 1, "login password=%s user=%s",
                               ("hunter2", "0912"), None)  # fmt: skip
    RedactFilter().filter(record)
    assert record.getMessage() == f"login password={R} user=0912"
    assert record.args == ()
    # A second handler's filter sees the already redacted record.
    RedactFilter().filter(record)
    assert record.getMessage() == f"login password={R} user=0912"


def test_filter_redacts_mapping_args() -> None:
    record = logging.LogRecord("hojre", logging.INFO, __file__, 1, "sent %(url)s",
                               ({"url": "/sms?apiKey=k&to=0912"},), None)  # fmt: skip
    RedactFilter().filter(record)
    assert record.getMessage() == f"sent /sms?apiKey={R}&to=0912"


# -- the app's own access log -----------------------------------------------------------------


def _scope(
    path: str = "/web/ping", query: bytes = b"", *, method: str = "GET", version: str = "1.1",
    client: tuple[str, int] | None = ("127.0.0.1", 5000),
) -> Scope:  # fmt: skip
    return {"type": "http", "method": method, "path": path, "query_string": query,
            "http_version": version, "client": client, "headers": []}  # fmt: skip


def _uvicorn_line(scope: Scope, status: int) -> str:
    """What ``hojre serve`` printed before: uvicorn's record through the filter and formatter."""
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        (get_client_addr(scope), scope["method"], get_path_with_query_string(scope),  # type: ignore[arg-type]
         scope["http_version"], status), None,
    )  # fmt: skip
    RedactFilter().filter(record)
    fmt = LOGGING_CONFIG["formatters"]["access"]["fmt"]
    return AccessFormatter(fmt, use_colors=False).format(record) + "\n"


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        (_scope(), 200),
        (_scope("/web/users", b"username=0912&token=abc&User%5Bpassword%5D=x"), 200),
        (_scope("/web/stores/12", b"next=%2Fweb%3Ftoken%3Dabc"), 404),
        (_scope("/web/\u0633\u0644\u0627\u0645 x"), 404),  # quoted as uvicorn quotes it
        (_scope("/web/user/login", method="POST", version="1.0"), 413),
        (_scope(client=None), 599),  # no client, a code without a phrase
    ],
)
def test_access_line_is_uvicorn_s_line(scope: Scope, status: int) -> None:
    assert access_line(scope, status) == _uvicorn_line(scope, status)


def test_access_line_exact() -> None:
    scope = _scope("/web/users", b"username=0912&token=abc")
    assert access_line(scope, 200) == (
        f'INFO:     127.0.0.1:5000 - "GET /web/users?username=0912&token={R} HTTP/1.1" 200 OK\n'
    )
    # uvicorn failed the response on a non-ASCII query byte; here it is shown escaped.
    assert access_line(_scope(query=b"q=\xd8\xb3"), 200) == (
        'INFO:     127.0.0.1:5000 - "GET /web/ping?q=\\xd8\\xb3 HTTP/1.1" 200 OK\n'
    )


_PLAIN = "abcxyzABCXYZ0123456789._~-"
_KEYS = st.sampled_from(
    ["token", "Token", "access-token", "access_token", "password", "code", "page", "id",
     "username", "zipcode", "x.token", "bearer", "tokens"]
) | st.text(_PLAIN, min_size=1, max_size=8)  # fmt: skip


@settings(max_examples=300)
@given(
    path=st.sampled_from(["/web/users", "/web/ping", "/web/bearer", "/web/stores/12", "/"]),
    pairs=st.lists(st.tuples(_KEYS, st.text(_PLAIN, max_size=12)), max_size=6),
    client=st.sampled_from([("127.0.0.1", 5000), ("::1", 1), ("bearer=token", 0), None]),
)
def test_access_line_plain_query_as_redact_would_write_it(
    path: str, pairs: list[tuple[str, str]], client: tuple[str, int] | None
) -> None:
    """The usual line (a plain query) is redacted pair by pair: exactly what the full scan
    writes, for every key and value made of the characters that make it plain."""
    query = "&".join(f"{key}={value}" for key, value in pairs).encode()
    scope = _scope(path, query, client=client)
    whole = f"{path}?{query.decode()}" if query else path
    address = f"{client[0]}:{client[1]}" if client else ""
    line = f'INFO:     {address} - "GET {whole} HTTP/1.1" 200 OK\n'
    assert access_line(scope, 200) == redact(line)


class Stream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _answering(status: int) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def _request(app: Any, scope: Scope) -> list[Message]:
    return await asgi_exchange(app, scope)


@pytest.mark.anyio
async def test_access_log_one_write_per_loop_iteration() -> None:
    stream = Stream()
    app = AccessLog(_answering(200), stream=stream)
    for query in (b"a=1", b"token=abc", b"b=2"):
        sent = await _request(app, _scope("/web/users", query))
        assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    # Nothing suspended the task: the three lines wait for the end of this iteration...
    assert (stream.getvalue(), stream.writes) == ("", 0)
    await asyncio.sleep(0)
    # ...and go out in one write.
    assert stream.writes == 1
    assert stream.getvalue() == "".join(
        f'INFO:     127.0.0.1:5000 - "GET /web/users?{q} HTTP/1.1" 200 OK\n'
        for q in ("a=1", f"token={R}", "b=2")
    )
    await _request(app, _scope())
    await asyncio.sleep(0)
    assert stream.writes == 2
    assert stream.getvalue().endswith('"GET /web/ping HTTP/1.1" 200 OK\n')


@pytest.mark.anyio
async def test_access_log_line_of_a_failing_app() -> None:
    stream = Stream()

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": []})
        raise RuntimeError("after the start")

    with pytest.raises(RuntimeError):
        await _request(AccessLog(failing, stream=stream), _scope())

    async def nothing_sent(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("before the start")

    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    with pytest.raises(RuntimeError):
        await _request(AccessLog(nothing_sent, stream=stream), _scope("/raised"))
    await _request(AccessLog(silent, stream=stream), _scope("/returned"))
    await asyncio.sleep(0)
    # The last two: the 500 that the server sends for an app that started no response.
    assert stream.getvalue() == "".join(
        f'INFO:     127.0.0.1:5000 - "GET {path} HTTP/1.1" 500 Internal Server Error\n'
        for path in ("/web/ping", "/raised", "/returned")
    )


@pytest.mark.anyio
async def test_access_log_other_scopes_and_shutdown() -> None:
    stream = Stream()
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])
        if scope["type"] == "lifespan":
            # A request answered during the shutdown: nothing waits for the loop after it.
            await _request(logged, _scope())
        elif scope["type"] == "http":
            await _answering(200)(scope, receive, send)

    logged = AccessLog(app, stream=stream)
    await _request(logged, {"type": "websocket", "path": "/web/live"})
    await asyncio.sleep(0)
    assert stream.getvalue() == ""
    await logged({"type": "lifespan"}, _never, _never)
    assert seen == ["websocket", "lifespan", "http"]
    assert stream.getvalue() == 'INFO:     127.0.0.1:5000 - "GET /web/ping HTTP/1.1" 200 OK\n'


async def _never(*args: Any) -> Any:
    raise AssertionError(args)


@pytest.mark.anyio
async def test_access_log_on_a_closed_stream_loses_the_lines_not_the_request() -> None:
    stream = Stream()
    stream.close()
    app = AccessLog(_answering(200), stream=stream)
    sent = await _request(app, _scope())
    assert sent[0]["status"] == 200
    await asyncio.sleep(0)
    assert app.pending == []


def test_access_log_flush_scheduled_again_on_a_new_loop() -> None:
    stream = Stream()
    app = AccessLog(_answering(200), stream=stream)

    async def interrupted() -> None:
        await _request(app, _scope("/a"))
        raise KeyboardInterrupt  # out of the loop at once, its flush never run

    loop = asyncio.new_event_loop()
    with pytest.raises(KeyboardInterrupt):
        loop.run_until_complete(interrupted())
    loop.close()
    assert stream.writes == 0
    asyncio.run(_request(app, _scope("/b")))  # asyncio.run runs the callbacks before closing
    assert stream.getvalue() == "".join(
        f'INFO:     127.0.0.1:5000 - "GET {p} HTTP/1.1" 200 OK\n' for p in ("/a", "/b")
    )
