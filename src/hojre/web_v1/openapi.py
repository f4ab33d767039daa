"""OpenAPI for the v1 endpoints, which read their params themselves (query or body)."""

from __future__ import annotations

import re
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
ENVELOPE_SCHEMAS: dict[str, Any] = {
    "ActionEnvelope": {
        "type": "object",
        "required": ["status", "message"],
        "properties": {
            "status": {"type": "string", "enum": ["success", "error"]},
            "message": {"type": "string"},
            "data": {},
        },
    },
    "ListEnvelope": {
        "type": "object",
        "required": ["items", "_links", "_meta"],
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "_links": {"type": "object"},
            "_meta": {
                "type": "object",
                "required": ["totalCount", "pageCount", "currentPage", "perPage"],
                "properties": {
                    k: {"type": "integer"}
                    for k in ("totalCount", "pageCount", "currentPage", "perPage")
                },
            },
        },
    },
}


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


def describe(endpoint: Endpoint) -> dict[str, Any]:
    in_path = re.findall(r"{([A-Za-z_]+)}", endpoint.path)
    schemas = {k: v for k, v in _param_schemas(endpoint).items() if k not in in_path}
    required = [name for name in _required(endpoint) if name not in in_path]
    extra: dict[str, Any] = {
        "responses": {
            "200": {
                "description": "The v1 envelope (errors too are sent with HTTP 200).",
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/ActionEnvelope"},
                                {"$ref": "#/components/schemas/ListEnvelope"},
                                {"type": "object"},
                            ]
                        }
                    }
                },
            },
            "500": {
                "description": "Unexpected failure; nothing was written.",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ActionEnvelope"}}
                },
            },
        }
    }
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
