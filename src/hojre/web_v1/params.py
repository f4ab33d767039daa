"""Reading v1 parameters: query string and body merged (body wins), ``Model[field]`` aliased."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from hojre.core.errors import HojreError
from hojre.core.text import PLAIN_QUERY, parse_int

# Only the models the v1 documents show. Aliasing any ``X[field]`` let a made-up group (or a JSON
# object under any key) shadow top-level names such as ``username``.
MODELS = frozenset({"User", "Seller", "Store", "Product"})
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_MODEL_FIELD = re.compile(rf"(?:{'|'.join(sorted(MODELS))})\[({_FIELD.pattern})\]")

DEFAULT_MAX_PARAMS = 1000
# Starlette's own defaults, spelled out so that a Starlette upgrade cannot loosen them silently.
_MAX_FILES = 1000
_MAX_PART_SIZE = 1024 * 1024


class BadRequestBody(HojreError):
    """A body that could not be read (worded in hojre.web_v1.messages)."""


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


def _model_field(key: str) -> str | None:
    """``field`` for a documented ``Model[field]`` name, else ``None``."""
    if key[-1:] != "]":  # most names: no regex at all
        return None
    match = _MODEL_FIELD.fullmatch(key)
    return match.group(1) if match else None


def plain_name(key: str) -> str:
    """``User[name]`` → ``name`` for the documented models (:data:`MODELS`); else unchanged."""
    field = _model_field(key)
    return key if field is None else field


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


def _with_aliases(plain: dict[str, str], aliased: dict[str, str]) -> dict[str, str]:
    """One source's params: a plain name beats its ``Model[field]`` alias, whatever the order."""
    for field, value in aliased.items():
        plain.setdefault(field, value)
    return plain


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _json_params(obj: dict[str, Any], max_params: int) -> dict[str, str]:
    """The params of a JSON body (an object), checked for shape without recursion.

    Depth 1 is the body, depth 2 its values: a scalar is a param, a list (of scalars) is not read
    yet, an object is a model group (``{"User": {"name": …}}``) or else ignored. A container at
    depth 3 or below is refused, so the walk is two flat loops whatever orjson accepted.
    Every scalar counts towards ``max_params``, read or not.
    """
    plain: dict[str, str] = {}
    aliased: dict[str, str] = {}
    count = 0
    for key, value in obj.items():
        if isinstance(value, dict | list):
            members = value.values() if isinstance(value, dict) else value
            count += len(members)
            if count > max_params:
                raise BadRequestBody
            for member in members:
                if isinstance(member, dict | list):
                    raise BadRequestBody
            if isinstance(value, dict) and key in MODELS:
                for name, member in value.items():
                    text = _scalar(member)
                    if text is None:
                        continue
                    if _FIELD.fullmatch(name):
                        aliased[name] = text
                    else:  # as the form's ``User[1]``: kept as written, read by no endpoint
                        plain[f"{key}[{name}]"] = text
            continue
        count += 1
        if count > max_params:
            raise BadRequestBody
        text = _scalar(value)
        if text is None:
            continue
        field = _model_field(key)
        if field is None:
            plain[key] = text
        else:
            aliased[field] = text
    return _with_aliases(plain, aliased)


async def _form_params(
    request: Request, max_params: int, files: dict[str, UploadFile] | None = None
) -> dict[str, str]:
    try:
        form = await request.form(
            max_files=_MAX_FILES, max_fields=max_params, max_part_size=_MAX_PART_SIZE
        )
    except Exception as exc:  # malformed multipart, too many fields or files, a part too big
        raise BadRequestBody from exc
    if files is not None:  # by the param's plain name (``User[avatar]`` → ``avatar``)
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.setdefault(plain_name(utf8(key)), value)
    # Files are not text parameters: the endpoint takes those its image params name.
    return _text_params((k, v) for k, v in form.multi_items() if isinstance(v, str))


def _text_params(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The params of a query string or a form: raw UTF-8 read as such, ``Model[field]`` as
    ``field`` unless the plain name was sent too."""
    plain: dict[str, str] = {}
    aliased: dict[str, str] = {}
    for key, value in pairs:
        name = utf8(key)
        field = _model_field(name)
        if field is None:
            plain[name] = utf8(value)
        else:
            aliased[field] = utf8(value)
    return _with_aliases(plain, aliased) if aliased else plain


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _plain_pairs(raw: bytes) -> list[str]:
    """The ``key=value`` pairs of a query or urlencoded body that :data:`PLAIN_QUERY` matched:
    what a parser returns for them (nothing to unescape, no ``Model[field]``)."""
    return raw.decode("ascii").split("&")


def _query_params(request: Request) -> dict[str, str]:
    query: bytes = request.scope.get("query_string", b"")
    if not query:
        return {}
    if PLAIN_QUERY.fullmatch(query):  # the last of a name wins, as in _text_params
        return dict(pair.split("=", 1) for pair in _plain_pairs(query))
    _escape_invalid_query(request)
    return _text_params(request.query_params.multi_items())


async def _urlencoded_params(request: Request, max_params: int) -> dict[str, str]:
    body = await request.body()  # kept: the form parser reads it again from there
    # Most bodies: split, not run through python-multipart. One short enough that no field can
    # pass the parser's size limit (name and value together, "=" aside).
    if len(body) <= _MAX_PART_SIZE + 1 and PLAIN_QUERY.fullmatch(body):
        pairs = _plain_pairs(body)
        if len(pairs) > max_params:
            raise BadRequestBody
        return dict(pair.split("=", 1) for pair in pairs)
    return await _form_params(request, max_params)


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


async def collect_params(
    request: Request,
    *,
    max_params: int = DEFAULT_MAX_PARAMS,
    files: dict[str, UploadFile] | None = None,
) -> dict[str, str]:
    """Query and body params in one dict: the body beats the query, in each a plain name beats
    its ``Model[field]`` alias. ``max_params`` bounds the fields of one body (form or JSON).
    A multipart body's files go to ``files`` when given (the first of each name)."""
    merged = _query_params(request)
    if request.method in ("POST", "PUT", "PATCH"):
        # Media types are case-insensitive (RFC 9110); some clients send "Application/JSON".
        content_type = request.headers.get("content-type", "").lower()
        if content_type.startswith("application/json"):
            body = await request.body()
            if body.strip():
                try:
                    parsed = orjson.loads(body)  # refuses nesting beyond 1024 levels itself
                except orjson.JSONDecodeError as exc:
                    raise BadRequestBody from exc
                if not isinstance(parsed, dict):
                    raise BadRequestBody
                merged.update(_json_params(parsed, max_params))
        elif content_type.startswith("application/x-www-form-urlencoded"):
            merged.update(await _urlencoded_params(request, max_params))
        elif content_type.startswith("multipart/form-data"):
            merged.update(await _form_params(request, max_params, files))
    for key, value in request.path_params.items():  # /web/broadcasts/{id}
        merged[key] = str(value)
    return merged
