"""The OpenAPI description (``/openapi.json``) and the docs page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hojre.web_v1.app import ROUTERS, create_app
from tests.conftest import make_settings

pytestmark = pytest.mark.anyio

MEDIA = {"application/x-www-form-urlencoded", "multipart/form-data", "application/json"}
AUTHENTICATED = {
    ("get", "/web/users"),
    ("post", "/web/user/edit"),
    ("post", "/web/user/change-password"),
}


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    # No request here reaches the database: the file is never created.
    return create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path}/unused.db", tmp_path / "s"))


@pytest.fixture
async def schema(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        body: dict[str, Any] = response.json()
        yield body


def operation(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op: dict[str, Any] = schema["paths"][path][method]
    return op


def query_params(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    # Headers: only If-None-Match of the cached lists (test_cached_lists_describe_etag_and_304).
    assert {p["in"] for p in op.get("parameters", [])} <= {"path", "query", "header"}
    return {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}


def body_schema(op: dict[str, Any]) -> dict[str, Any]:
    content = op["requestBody"]["content"]
    assert set(content) == MEDIA
    schemas = [content[media]["schema"] for media in sorted(MEDIA)]
    assert schemas[0] == schemas[1] == schemas[2]  # one description for every media type
    first: dict[str, Any] = schemas[0]
    return first


def declared_operations() -> set[tuple[str, str]]:
    """Every v1 endpoint the routers declare, plus the health check."""
    declared = {
        (endpoint.method.lower(), "/web" + endpoint.path)
        for router in ROUTERS
        for endpoint in router.endpoints
    }
    return declared | {("get", "/web/ping")}


def described_operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, ops in schema["paths"].items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    }


async def test_every_web_route_is_described(app: FastAPI, schema: dict[str, Any]) -> None:
    described = described_operations(schema)
    assert described == declared_operations()
    assert all(path.startswith("/web/") for _, path in described)
    assert schema["openapi"].startswith("3.")
    for method, path in described:
        op = operation(schema, method, path)
        assert op["summary"], (method, path)
        assert "200" in op["responses"], (method, path)

    # Ask the app itself which methods each path serves: a method no route uses (PUT) is
    # refused with 405 and an Allow header, before any handler (or database) runs.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for path in {path for _, path in described}:
            response = await client.put(path)
            assert response.status_code == 405, path
            served = {m.strip().lower() for m in response.headers["allow"].split(",")}
            assert served == {m for m, p in described if p == path}, path


async def test_security_schemes(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert {k: v for k, v in schemes["token"].items() if k != "description"} == {
        "type": "apiKey",
        "in": "query",
        "name": "token",
    }
    assert schemes["bearer"]["type"] == "http"
    assert schemes["bearer"]["scheme"] == "bearer"


async def test_only_authenticated_operations_declare_security(schema: dict[str, Any]) -> None:
    authenticated = {
        (endpoint.method.lower(), "/web" + endpoint.path)
        for router in ROUTERS
        for endpoint in router.endpoints
        if endpoint.auth
    }
    assert authenticated >= AUTHENTICATED
    assert not authenticated & {("get", "/web/cities"), ("post", "/web/user/login")}
    for method, path in described_operations(schema):
        op = operation(schema, method, path)
        if (method, path) in authenticated:
            assert op["security"] == [{"token": []}, {"bearer": []}], path
            assert "username" in op_param_names(op), path
        else:
            assert "security" not in op, path


def op_param_names(op: dict[str, Any]) -> set[str]:
    if "requestBody" in op:
        return set(body_schema(op)["properties"])
    return set(query_params(op))


async def test_authenticated_get_lists_username_as_required(schema: dict[str, Any]) -> None:
    params = query_params(operation(schema, "get", "/web/users"))
    assert set(params) == {"username", "x", "y", "page", "per-page"}
    assert params["username"]["required"] is True
    assert params["x"]["required"] is False
    # token is described by the security schemes, not as a plain parameter
    assert "token" not in params


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/web/cities", ["state", "page", "per-page"]),
        ("/web/states", ["country", "page", "per-page"]),
        ("/web/hoods", ["city", "page", "per-page"]),
        ("/web/countries", ["page", "per-page"]),
        ("/web/ping", []),
    ],
)
async def test_get_query_params(schema: dict[str, Any], path: str, names: list[str]) -> None:
    op = operation(schema, "get", path)
    params = query_params(op)
    assert list(params) == names
    assert "requestBody" not in op
    for param in params.values():
        assert param["required"] is False
        assert param["schema"]["type"] == "integer"
        assert param["schema"]["description"]
    if "per-page" in params:
        assert params["per-page"]["schema"]["maximum"] == 300
        assert params["page"]["schema"]["minimum"] == 1


@pytest.mark.parametrize(
    ("path", "properties", "required"),
    [
        ("/web/user/register", {"username", "password", "x", "y"}, ["username", "password"]),
        ("/web/user/login", {"username", "password", "x", "y"}, ["username", "password"]),
        ("/web/user/checkactivationcode", {"username", "code", "x", "y"}, ["username", "code"]),
        ("/web/user/newtoken", {"username", "token", "x", "y"}, ["username"]),
        ("/web/user/forget", {"username", "x", "y"}, ["username"]),
        (
            "/web/user/change-password",
            {"username", "x", "y", "oldPassword", "newPassword"},
            ["username", "oldPassword", "newPassword"],
        ),
    ],
)
async def test_post_request_bodies(
    schema: dict[str, Any], path: str, properties: set[str], required: list[str]
) -> None:
    op = operation(schema, "post", path)
    body = body_schema(op)
    assert body["type"] == "object"
    assert set(body["properties"]) == properties
    assert body["required"] == required
    for prop in body["properties"].values():
        assert prop["type"] == "string"
        assert prop["description"]
        assert not any(key.startswith("x-") for key in prop)
    if "password" in properties:
        assert body["properties"]["password"]["format"] == "password"
    assert "parameters" not in op


async def test_profile_edit_body(schema: dict[str, Any]) -> None:
    body = body_schema(operation(schema, "post", "/web/user/edit"))
    props = body["properties"]
    assert body["required"] == ["username", "name", "family"]
    assert {"name", "family", "email", "state", "city", "hood", "age", "gender"} <= set(props)
    assert "telegramChannell" in props  # the contract's spelling
    assert props["gender"]["enum"] == ["male", "female"]
    assert props["email"]["format"] == "email"


async def test_envelope_schemas(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    assert schemas["ActionEnvelope"]["properties"]["status"]["enum"] == ["success", "error"]
    assert schemas["ListEnvelope"]["required"] == ["items", "_links", "_meta"]
    refs = operation(schema, "get", "/web/cities")["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["oneOf"]
    assert {"$ref": "#/components/schemas/ListEnvelope"} in refs


async def test_docs_page(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/docs")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "/openapi.json" in response.text
        assert "swagger" in response.text.lower()
        # ReDoc is switched off.
        assert (await client.get("/redoc")).status_code == 404


async def test_path_ids_are_declared_as_path_parameters(schema: dict[str, Any]) -> None:
    for path in ("/web/stores/{id}", "/web/broadcasts/{id}"):
        params = operation(schema, "get", path)["parameters"]
        assert params[0] == {
            "name": "id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }  # fmt: skip
        assert [p["name"] for p in params].count("id") == 1


async def test_cached_lists_describe_etag_and_304(schema: dict[str, Any]) -> None:
    cached = {
        "/web/countries",
        "/web/states",
        "/web/cities",
        "/web/hoods",
        "/web/bazzar-categories",
    }
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        if path in cached:
            assert headers == ["If-None-Match"], path
            assert set(operation["responses"]["200"]["headers"]) == {"ETag"}
            assert set(operation["responses"]["304"]["headers"]) == {"ETag"}
            assert "content" not in operation["responses"]["304"]
        else:
            assert headers == [], path
            assert "304" not in operation["responses"], path
