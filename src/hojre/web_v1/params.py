"""Reading v1 parameters: query string and body merged (body wins), ``Model[field]`` aliased."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request

from hojre.core.errors import HojreError

_MODEL_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\[([A-Za-z_][A-Za-z0-9_-]*)\]")


class BadRequestBody(HojreError):
    message = "Cant Validate Data"


def plain_name(key: str) -> str:
    """``User[name]`` → ``name``; anything else unchanged."""
    match = _MODEL_FIELD.fullmatch(key)
    return match.group(1) if match else key


def _utf8(text: str) -> str:
    """Undo Latin-1 decoding of raw (not percent-encoded) UTF-8 in a urlencoded body.

    Starlette decodes such bytes as Latin-1; some clients send Persian text unescaped.
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


async def collect_params(request: Request) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        merged[plain_name(key)] = value
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.headers.get("content-type", "")
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
                    merged[plain_name(_utf8(key))] = _utf8(item)
    return merged
