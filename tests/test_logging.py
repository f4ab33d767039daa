"""Redaction by the parameter's normalised name, on plain text and on uvicorn's access log."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from hojre.core.logging import REDACTED, RedactFilter, redact

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
