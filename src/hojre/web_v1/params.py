"""Reading v1 parameters: query string and body merged (body wins), ``Model[field]`` aliased."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request

from hojre.core.errors import HojreError
from hojre.core.text import parse_int

_MODEL_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\[([A-Za-z_][A-Za-z0-9_-]*)\]")


class BadRequestBody(HojreError):
    message = "Cant Validate Data"


# Ids are 32-bit INTEGER columns: PostgreSQL refuses a bigger bound parameter (a 500), so an id
# that is not a number, or does not fit, is answered as what it is: an id that cannot exist.
NO_ID = -1
_ID_MAX = 2**31 - 1


def wire_id(raw: str | None) -> int:
    """An id from the wire (Persian digits allowed), or :data:`NO_ID`."""
    value = parse_int(raw)
    return value if value is not None and 0 < value <= _ID_MAX else NO_ID


def wire_filter(raw: str | None) -> int | None:
    """A list filter: ``None`` when absent, else :func:`wire_id` (a bad one matches nothing)."""
    return None if raw is None or raw == "" else wire_id(raw)


def plain_name(key: str) -> str:
    """``User[name]`` → ``name``; anything else unchanged."""
    match = _MODEL_FIELD.fullmatch(key)
    return match.group(1) if match else key


def utf8(text: str) -> str:
    """Undo Latin-1 decoding of raw (not percent-encoded) UTF-8 in a query or urlencoded body.

    Starlette decodes such bytes as Latin-1 (the query string and form fields alike); some
    clients send Persian text unescaped. Text that is not Latin-1-encodable, or whose bytes are
    not UTF-8, was decoded correctly and is returned unchanged.
    """
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _add_json(target: dict[str, str], obj: Mapping[str, Any]) -> None:
    for key, value in obj.items():
        if isinstance(value, dict):  # {"User": {"name": ...}} is User[name]
            _add_json(target, value)
            continue
        text = _scalar(value)
        if text is not None:
            target[plain_name(str(key))] = text


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _escape_invalid_query(request: Request) -> None:
    """Percent-encode the non-ASCII bytes of a query string that is not valid UTF-8.

    ``request.url`` (used for list hrefs) decodes the raw query strictly as UTF-8, so a stray
    byte such as 0xFF would turn a list request into a 500. Escaped, it is just an odd
    value. Valid raw UTF-8 is left alone (``utf8`` reads it as the text it is).
    """
    query: bytes = request.scope.get("query_string", b"")
    try:
        query.decode("utf-8")
    except UnicodeDecodeError:
        request.scope["query_string"] = _NON_ASCII.sub(lambda m: b"%%%02X" % m[0][0], query)


async def collect_params(request: Request) -> dict[str, str]:
    _escape_invalid_query(request)
    merged: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        merged[plain_name(utf8(key))] = utf8(value)
    if request.method in ("POST", "PUT", "PATCH"):
        # Media types are case-insensitive (RFC 9110); some clients send "Application/JSON".
        content_type = request.headers.get("content-type", "").lower()
        if content_type.startswith("application/json"):
            body = await request.body()
            if body.strip():
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    raise BadRequestBody from exc
                if not isinstance(parsed, dict):
                    raise BadRequestBody
                _add_json(merged, parsed)
        elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except Exception as exc:  # malformed multipart or too many fields
                raise BadRequestBody from exc
            for key, item in form.multi_items():
                if isinstance(item, str):  # uploads are not parameters
                    merged[plain_name(utf8(key))] = utf8(item)
    for key, value in request.path_params.items():  # /web/broadcasts/{id}
        merged[key] = str(value)
    return merged
