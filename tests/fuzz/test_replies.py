"""The documented HTTP 200 answers (``Reply``) that the schemathesis run holds the app to."""

from __future__ import annotations

from typing import Any

import pytest

from hojre.web_v1.app import ROUTERS, create_app
from hojre.web_v1.endpoint import Endpoint, NoParams
from hojre.web_v1.openapi import ENVELOPE_SCHEMAS, Reply, reply_of
from tests.conftest import make_settings

DECLARED = {
    ("POST", "/user/register"): Reply.register,
    ("POST", "/user/store-register"): Reply.register,
    ("GET", "/bazzars/{id}"): Reply.bazaar,
    ("GET", "/malls/{id}"): Reply.mall,
    ("GET", "/stores/{id}"): Reply.store,
    ("GET", "/products/{id}"): Reply.product,
    ("GET", "/broadcasts/{id}"): Reply.broadcast,
    ("POST", "/store-manager/store-messages"): Reply.store_side,
    ("POST", "/store-manager/offers"): Reply.store_side,
    ("POST", "/store-manager/unique-store-message"): Reply.store_side,
    ("POST", "/store-manager/products"): Reply.store_side,
    ("POST", "/seller/products"): Reply.store_side,
    ("POST", "/store-manager/list-gallery"): Reply.store_side,
    ("POST", "/store-manager/unique-product"): Reply.store_side,
    ("POST", "/upload/imgupload"): Reply.image_url,
    **{
        ("POST", f"/{side}/{kind}-customers"): Reply.store_side
        for side in ("store-manager", "seller")
        for kind in ("physical", "virtual")
    },
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("replies")
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp}/unused.db", tmp / "sms"))
    return app.openapi()


def test_each_endpoint_has_its_reply() -> None:
    for router in ROUTERS:
        for endpoint in router.endpoints:
            key = (endpoint.method, endpoint.path)
            shape = Reply.action if endpoint.method == "POST" else Reply.listing
            assert reply_of(endpoint) is DECLARED.get(key, shape), key


def test_an_unpaged_get_must_declare_its_reply() -> None:
    async def handler(call: Any) -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="declare its reply"):
        reply_of(Endpoint("GET", "/things/{id}", NoParams, handler))


def test_the_200_answer_is_the_reply_or_the_error_envelope(schema: dict[str, Any]) -> None:
    assert set(Reply) <= set(schema["components"]["schemas"])
    for (method, path), reply in DECLARED.items():
        answer = schema["paths"]["/web" + path][method.lower()]["responses"]["200"]
        if reply is Reply.image_url:  # its failure is the bare string "error", no envelope
            assert answer["content"]["application/json"]["schema"] == {
                "$ref": f"#/components/schemas/{reply}"
            }
            continue
        assert answer["content"]["application/json"]["schema"] == {
            "oneOf": [
                {"$ref": f"#/components/schemas/{reply}"},
                {"$ref": "#/components/schemas/ErrorEnvelope"},
            ]
        }
    # The action envelope already is the error envelope's superset.
    login = schema["paths"]["/web/user/login"]["post"]["responses"]
    assert login["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ActionEnvelope"
    }
    assert login["500"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    ping = schema["paths"]["/web/ping"]["get"]["responses"]["200"]
    assert ping["content"]["application/json"]["schema"]["$ref"].endswith("/ActionEnvelope")


def test_only_paths_with_an_id_answer_404(schema: dict[str, Any]) -> None:
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            assert ("404" in operation["responses"]) == ("{id}" in path), path


def test_success_schemas_exclude_the_error_envelope() -> None:
    """``oneOf`` needs it: a body may match exactly one of reply and error envelope."""
    error = ENVELOPE_SCHEMAS["ErrorEnvelope"]
    assert error["additionalProperties"] is False
    # imgupload's reply is a string either way: no object to tell from the envelope.
    for reply in set(Reply) - {Reply.action, Reply.image_url}:
        success = ENVELOPE_SCHEMAS[reply]
        status = success["properties"].get("status", {}).get("enum")
        extra_required = set(success["required"]) - set(error["properties"])
        assert status == ["success"] or extra_required, reply


def test_the_broadcast_reply_is_exactly_the_record() -> None:
    broadcast = ENVELOPE_SCHEMAS[Reply.broadcast]
    assert broadcast["required"] == ["id", "title", "text", "user", "role", "date", "show"]
    assert broadcast["additionalProperties"] is False
