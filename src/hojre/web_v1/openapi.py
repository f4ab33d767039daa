"""OpenAPI for the v1 endpoints, which read their params themselves (query or body).

The request side comes from each endpoint's params; the response side from its :class:`Reply`
(declared with ``response=`` or derived from the endpoint's shape: POST answers the action
envelope, a paged GET the list envelope). Every reply may also be the error envelope, sent
with HTTP 200 as the contract says; 500 is the error envelope too.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hojre.web_v1.endpoint import Endpoint

_REQUIRED = "x-required"  # set by endpoint.param(required=True)
AUTH_PARAMS: dict[str, dict[str, Any]] = {
    "username": {"type": "string", "description": "The caller's cellphone, e.g. 09121234567."},
    "x": {"type": "string", "description": "Longitude of the device (optional)."},
    "y": {"type": "string", "description": "Latitude of the device (optional)."},
}
PAGING_PARAMS: dict[str, dict[str, Any]] = {
    "page": {"type": "integer", "minimum": 1, "description": "1-based page (default 1)."},
    "per-page": {
        "type": "integer",
        "minimum": 1,
        "maximum": 300,
        "description": "Page size (default and maximum 300). Alias: perPage.",
    },
}
SECURITY_SCHEMES = {
    "token": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "Access token from /web/user/login (with `username`).",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The same token as `Authorization: Bearer` (with `username`).",
    },
}


class Reply(StrEnum):
    """What an endpoint answers with HTTP 200 when it succeeds: a schema in ``components``."""

    action = "ActionEnvelope"
    listing = "ListEnvelope"
    store_side = "StoreSideEnvelope"  # the store-manager lists (``totalCount`` a string)
    register = "RegisterReply"  # id and username at the top level, no ``data``
    bazaar = "BazaarDetail"
    mall = "MallDetail"
    store = "StoreDetail"
    product = "ProductDetail"
    broadcast = "Broadcast"  # bare, no envelope
    image_url = "ImageUrl"  # a bare JSON string: imgupload's URL, or "error"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: dict[str, Any], *, closed: bool = True) -> dict[str, Any]:
    """An object with exactly (``closed``) or at least these keys, each of its schema."""
    schema: dict[str, Any] = {"type": "object", "required": list(required), "properties": required}
    if closed:
        schema["additionalProperties"] = False
    return schema


_INT = {"type": "integer"}
_COUNT = {"type": "integer", "minimum": 0}
_STRING = {"type": "string"}
_OBJECTS = {"type": "array", "items": {"type": "object"}}
_LINK = _object({"href": _STRING})
# A catalogue record as in ``mainData`` (the full field list is in API.md §2).
_RECORD = _object({"id": _INT, "title": _STRING}, closed=False)
# In the original search, the number of rows of that kind the search matched, as a string.
_MATCHED = {"type": "string", "pattern": "^[0-9]+$"}


def _composite(*parts: str, matched: bool = True) -> dict[str, Any]:
    """A catalogue target with its parts, as an element of the original search."""
    keys: dict[str, Any] = {"mainData": _RECORD, **dict.fromkeys(parts, _OBJECTS)}
    if matched:
        keys["totalCount"] = _MATCHED
    return _object(keys, closed=False)


ENVELOPE_SCHEMAS: dict[str, Any] = {
    Reply.action: {
        **_object(
            {
                "status": {"type": "string", "enum": ["success", "error"]},
                "message": _STRING,
                "data": {"description": '`""` when there is nothing to return.'},
            }
        ),
        "description": "The action envelope.",
    },
    "ErrorEnvelope": {
        **_object(
            {
                "status": {"type": "string", "enum": ["error"]},
                "message": _STRING,
                "data": {"description": '`""`, or details such as validation messages.'},
            }
        ),
        "description": "Any v1 failure, sent with HTTP 200 (HTTP 500: Server Error).",
    },
    Reply.listing: {
        **_object(
            {
                "items": _OBJECTS,
                "_links": {
                    "type": "object",
                    "required": ["self"],
                    "properties": dict.fromkeys(("self", "first", "prev", "next", "last"), _LINK),
                    "additionalProperties": False,
                },
                "_meta": _object(
                    dict.fromkeys(("totalCount", "pageCount", "currentPage", "perPage"), _COUNT)
                ),
            }
        ),
        "description": "The list envelope (Yii2 REST style).",
    },
    Reply.store_side: {
        **_object(
            {
                "status": {"type": "string", "enum": ["success"]},
                "message": _STRING,
                "totalCount": _MATCHED,
                "totalPages": _COUNT,
                "page": _COUNT,
                "perPage": _COUNT,
                "data": _OBJECTS,
            }
        ),
        "description": "The store-manager list envelope of the original service.",
    },
    Reply.register: {
        **_object(
            {
                "status": {"type": "string", "enum": ["success"]},
                "message": _STRING,
                "id": _INT,
                "username": _STRING,
            }
        ),
        "description": "A registration: id and username at the top level.",
    },
    Reply.bazaar: _composite(
        "bazzarMedia", "bazzarPoints", "bazzarUserComments", "malls", "stores"
    ),
    Reply.mall: _composite("mallMedia", "mallUserComments", "stores"),
    Reply.store: _composite(
        "storeMedia", "storePoints", "stores", "storeUserComments", "storeSellers"
    ),
    Reply.product: _composite("productMedia", "productUserComments", matched=False),
    Reply.broadcast: _object(
        {
            "id": _INT,
            "title": _STRING,
            "text": _STRING,
            "user": {"type": ["integer", "null"]},
            "role": {"type": ["integer", "null"]},
            # Staff (roles 6, 7): unix seconds; everybody else "YYYY-MM-DD" (API.md §5).
            "date": {"oneOf": [{"type": "string", "format": "date"}, _INT]},
            "show": {"type": "string", "enum": ["yes", "no"]},
        }
    ),
    Reply.image_url: {
        "type": "string",
        "description": "The absolute URL of the stored image, or the string `error`.",
    },
    "HttpError": {
        **_object({"name": _STRING, "message": _STRING, "code": _INT, "status": _INT}),
        "description": "Outside the v1 routes: an unknown path (404) or method (405).",
    },
}


def responses(reply: Reply, *, not_found: bool = False) -> dict[str, Any]:
    """The ``responses`` of an operation whose success is ``reply``."""
    # Each success schema excludes the error envelope (closed objects, or keys it lacks).
    # imgupload answers its failure as the bare string "error": the string schema holds both.
    bare = reply in (Reply.action, Reply.image_url)
    ok = _ref(reply) if bare else {"oneOf": [_ref(reply), _ref("ErrorEnvelope")]}
    described: dict[str, Any] = {
        "200": {
            "description": "The answer; errors too are sent with HTTP 200, as the error envelope.",
            "content": {"application/json": {"schema": ok}},
        },
        "500": {
            "description": "Unexpected failure; nothing was written.",
            "content": {"application/json": {"schema": _ref("ErrorEnvelope")}},
        },
    }
    if not_found:
        described["404"] = {
            "description": "A path segment that is no id at all (such as one with a slash).",
            "content": {"application/json": {"schema": _ref("HttpError")}},
        }
    return described


def reply_of(endpoint: Endpoint) -> Reply:
    """The declared reply, else the shape's: POST → action envelope, paged GET → list."""
    if endpoint.response is not None:
        return endpoint.response
    if endpoint.method == "POST":
        return Reply.action
    if getattr(endpoint.params, "paged", False):
        return Reply.listing
    raise ValueError(f"GET {endpoint.path}: declare its reply with response=Reply...")


def _param_schemas(endpoint: Endpoint) -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    if endpoint.auth:
        schemas.update(AUTH_PARAMS)
    for name, info in endpoint.params.model_fields.items():
        schema: dict[str, Any] = {"type": "string"}
        extra = info.json_schema_extra
        if isinstance(extra, dict):
            # "x-required" is our marker for the operation's required list, not a schema keyword.
            schema.update({k: v for k, v in extra.items() if k != _REQUIRED})
        if info.description:
            schema["description"] = info.description
        schemas[info.alias or name] = schema
    if getattr(endpoint.params, "paged", False):
        schemas.update(PAGING_PARAMS)
    return schemas


def _required(endpoint: Endpoint) -> list[str]:
    # An authenticated call cannot succeed without ``username`` (the token may come as a
    # bearer header instead of a param, so that one is left to the security schemes).
    names = ["username"] if endpoint.auth else []
    for name, info in endpoint.params.model_fields.items():
        extra = info.json_schema_extra
        wire = info.alias or name
        if isinstance(extra, dict) and extra.get(_REQUIRED) and wire not in names:
            names.append(wire)
    return names


_ETAG = {
    "description": "A digest of the page's items and total (the same from every process).",
    "schema": {"type": "string"},
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags of pages the client holds (a list, weak comparison, or `*`): 304 "
    "when one is current.",
    "schema": {"type": "string"},
}


def describe(endpoint: Endpoint) -> dict[str, Any]:
    in_path = re.findall(r"{([A-Za-z_]+)}", endpoint.path)
    schemas = {k: v for k, v in _param_schemas(endpoint).items() if k not in in_path}
    required = [name for name in _required(endpoint) if name not in in_path]
    extra: dict[str, Any] = {"responses": responses(reply_of(endpoint), not_found=bool(in_path))}
    if endpoint.auth:
        extra["security"] = [{"token": []}, {"bearer": []}]
    path_params = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1}}
        for name in in_path
    ]  # fmt: skip
    if endpoint.method == "GET":
        extra["parameters"] = path_params + [
            {"name": name, "in": "query", "required": name in required, "schema": schema}
            for name, schema in schemas.items()
        ]
        if endpoint.early is not None:  # a cached public list (hojre.web_v1.cache)
            extra["parameters"].append(_IF_NONE_MATCH)
            extra["responses"]["200"]["headers"] = {"ETag": _ETAG}
            extra["responses"]["304"] = {
                "description": "`If-None-Match` named the page's current ETag: no body.",
                "headers": {"ETag": _ETAG},
            }
    else:
        if path_params:
            extra["parameters"] = path_params
        body_schema: dict[str, Any] = {"type": "object", "properties": schemas}
        if required:
            body_schema["required"] = required
        extra["requestBody"] = {
            "description": "Also accepted in the query string; `Model[field]` names too.",
            "content": {
                media: {"schema": body_schema}
                for media in (
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                    "application/json",
                )
            },
        }
    return extra
