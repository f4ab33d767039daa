"""The two upload endpoints (API.md §6): an image file in, the path of its re-encoded copy out.

``imgupload`` (the customer app) answers a bare JSON string, the image's absolute URL, or
``"error"``; ``imguploadSajad`` (the store side) the action envelope "upload done" with the
relative path, or "cant upload" (designed here: with the reason's sentences in ``data``).
Neither needs a login (the documents show no login params, and a store's licence is uploaded
before its owner has an account): an upload with a valid ``username``/``token`` is the
account's, any other is anonymous, throttled harder and removed within a day unless a record
refers to it (hojre.media.service).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from hojre.core.errors import FieldProblem, HojreError, Rule, ValidationFailed
from hojre.media.service import Stored
from hojre.web_v1.endpoint import Call, V1Params, V1Router, json_response, param
from hojre.web_v1.envelopes import error, ok
from hojre.web_v1.messages import render, sentence
from hojre.web_v1.openapi import Reply

router = V1Router("uploads")

FIELD = "submit"


class UploadParams(V1Params):
    submit: str | None = param(
        "The image file (multipart): JPEG, PNG or WebP, at most HOJRE_UPLOAD_MAX_BYTES. "
        "Re-encoded, metadata removed; stored under a random name.",
        required=True,
        image=True,
        format="binary",
    )
    username: str | None = param("Optional: the uploader's cellphone (with `token`).")
    token: str | None = param("Optional: the uploader's access token.")


def _stored(call: Call[UploadParams]) -> Stored:
    """The ``submit`` file, stored as the caller's upload by the endpoint runner (an image
    param: hojre.web_v1.endpoint._take_files); a text ``submit`` is no upload."""
    stored = call.uploaded.get(FIELD)
    if stored is None:
        raise ValidationFailed([FieldProblem(FIELD, Rule.required)])
    return stored


def public_base(call: Call[Any]) -> str:
    """Where our images are seen from: HOJRE_PUBLIC_URL, else the request's own origin."""
    configured = call.hub.settings.public_url
    if configured:
        return configured.rstrip("/")
    return str(call.request.base_url).rstrip("/")


def _bare_error(exc: HojreError) -> Response:
    return json_response("error", headers={"Cache-Control": "no-store"})


@router.post("/upload/imgupload", UploadParams, own_transactions=True, refusal=_bare_error,
             response=Reply.image_url,
             summary="Upload an image (customer app): its absolute URL, or 'error'")  # fmt: skip
async def imgupload(call: Call[UploadParams]) -> Response:
    stored = _stored(call)
    return json_response(f"{public_base(call)}/{stored.key}", headers=call.headers)


def _cant_upload(exc: HojreError) -> Response:
    if isinstance(exc, ValidationFailed):
        reasons = [sentence(problem) for problem in exc.problems]
    else:
        reasons = [render(exc).message.strip()]
    return json_response(error("cant upload", reasons), headers={"Cache-Control": "no-store"})


@router.post("/upload/imguploadSajad", UploadParams, own_transactions=True,
             refusal=_cant_upload,
             summary="Upload an image (store side): its path, as 'upload done'")  # fmt: skip
async def imgupload_sajad(call: Call[UploadParams]) -> dict[str, Any]:
    stored = _stored(call)
    return ok("upload done", {"name": stored.key})
