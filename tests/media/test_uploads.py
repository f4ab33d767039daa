"""The upload endpoints, image fields that take files, and GET /img (API.md §6)."""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from PIL import Image
from sqlalchemy import select, update

from hojre.accounts.models import User
from hojre.core.clock import utcnow
from hojre.core.hub import Hub
from hojre.media.models import Upload
from tests.conftest import Api, app_client, build_hub, make_settings
from tests.factories import PASSWORD, make_user

SAJAD = "/web/upload/imguploadSajad"
IMGUPLOAD = "/web/upload/imgupload"
pytestmark = pytest.mark.anyio

KEY = r"img/up/[0-9a-f]{2}/[0-9a-f]{32}\.(jpg|png|webp)"


def jpeg(size: tuple[int, int] = (64, 48), *, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 40, 40))
    image.save(out, "JPEG", exif=exif if exif is not None else Image.Exif())
    return out.getvalue()


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 200, 128)).save(out, "PNG")
    return out.getvalue()


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (35.0, 41.0, 21.0)  # Tehran
    gps[3] = "E"
    gps[4] = (51.0, 23.0, 24.0)
    return exif


async def post_file(
    client: httpx.AsyncClient, path: str, data: bytes, *, name: str = "a.jpg",
    field: str = "submit", content_type: str = "image/jpeg", **params: str,
) -> httpx.Response:  # fmt: skip
    return await client.post(path, data=params, files={field: (name, data, content_type)})


async def upload_key(client: httpx.AsyncClient, data: bytes, **params: str) -> str:
    body = (await post_file(client, SAJAD, data, **params)).json()
    assert body["status"] == "success", body
    key: str = body["data"]["name"]
    return key


async def test_imguploadsajad_answers_upload_done_with_the_relative_path(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    response = await post_file(client, SAJAD, jpeg())
    body = response.json()
    assert (response.status_code, body["status"], body["message"]) == (200, "success",
                                                                        "upload done")  # fmt: skip
    assert list(body["data"]) == ["name"]
    assert re.fullmatch(KEY, body["data"]["name"])
    assert body["data"]["name"].endswith(".jpg")
    stored = await hub.media.store.get(body["data"]["name"])
    assert stored is not None and Image.open(io.BytesIO(stored)).size == (64, 48)


async def test_imgupload_answers_a_bare_string_the_absolute_url(
    client: httpx.AsyncClient,
) -> None:
    response = await post_file(client, IMGUPLOAD, png(), name="x.png", content_type="image/png")
    url = response.json()
    assert isinstance(url, str)
    assert url.startswith("http://testserver/img/up/") and url.endswith(".png")
    served = await client.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).mode == "RGBA"  # alpha kept


@asynccontextmanager
async def client_with(
    tmp_path: Path, **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Hub]]:
    """A client of an app with these settings, on a fresh SQLite database of its own."""
    from hojre.core.migrate import upgrade_async

    url = f"sqlite+aiosqlite:///{tmp_path}/own.db"
    await upgrade_async(url)
    async for hub in build_hub(make_settings(url, tmp_path / "sms", **settings)):
        async with app_client(hub) as client:
            yield client, hub


async def test_public_url_sets_the_host_of_absolute_urls(tmp_path: Path) -> None:
    async with client_with(tmp_path, public_url="https://cdn.hojre.ir/") as (client, _):
        url = (await post_file(client, IMGUPLOAD, jpeg())).json()
    assert url.startswith("https://cdn.hojre.ir/img/up/")


@pytest.mark.parametrize(
    ("data", "name", "content_type", "reason"),
    [
        (b"<?php system($_GET['c']); ?>", "shell.jpg", "image/jpeg", "Submit is not an image."),
        (png()[: len(png()) // 2], "cut.png", "image/png", "Submit is not an image."),
        (b"GIF89a" + b"\x00" * 20, "a.gif", "image/gif", "Submit is not an image."),
        (b"", "empty.jpg", "image/jpeg", "Submit is not an image."),
    ],
    ids=["php-named-jpg", "truncated-png", "gif", "empty"],
)
async def test_what_is_not_an_image_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, hub: Hub, data: bytes, name: str, content_type: str, reason: str
) -> None:
    sajad = await post_file(client, SAJAD, data, name=name, content_type=content_type)
    assert sajad.json() == {"status": "error", "message": "cant upload", "data": [reason]}
    bare = await post_file(client, IMGUPLOAD, data, name=name, content_type=content_type)
    assert bare.json() == "error"
    assert [key async for key in hub.media.store.keys("img/")] == []
    async with hub.db.unit_of_work(write=False) as session:
        assert (await session.scalars(select(Upload))).all() == []


def bomb() -> bytes:
    """40 megapixels of one colour: a few kilobytes as a PNG."""
    out = io.BytesIO()
    Image.new("L", (8000, 5000), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


async def test_a_decompression_bomb_is_refused_by_its_pixel_count(
    client: httpx.AsyncClient,
) -> None:
    data = bomb()
    assert len(data) < 200_000
    body = (await post_file(client, SAJAD, data, name="b.png", content_type="image/png")).json()
    pixels = "Submit is too large. It cannot have more than 30000000 pixels."
    assert body == {"status": "error", "message": "cant upload", "data": [pixels]}


async def test_no_file_is_cant_upload(client: httpx.AsyncClient) -> None:
    body = (await client.post(SAJAD, data={"x": "1"})).json()
    assert body == {
        "status": "error",
        "message": "cant upload",
        "data": ["Submit cannot be blank."],
    }
    assert (await client.post(IMGUPLOAD)).json() == "error"


async def test_exif_gps_is_stripped_from_the_stored_bytes(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    original = jpeg(exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the fixture has GPS
    key = await upload_key(client, original)
    stored = await hub.media.store.get(key)
    assert stored is not None
    assert b"Exif" not in stored and b"PhoneMaker" not in stored
    assert dict(Image.open(io.BytesIO(stored)).getexif()) == {}


async def test_a_body_over_the_limit_is_refused_before_it_is_all_read(tmp_path: Path) -> None:
    """25 MB streamed without a Content-Length: cut off at the limit, memory flat."""
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/b.db", tmp_path / "sms")
    hub = Hub.from_settings(settings)
    sent = 0
    chunk = b"\xff" * 65536

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="submit"; filename="a.jpg"\r\n\r\n'
        for _ in range(25 * 1024 * 1024 // len(chunk)):
            sent += len(chunk)
            yield chunk
        yield b"\r\n--b--\r\n"

    try:
        async with app_client(hub) as client:
            tracemalloc.start()
            response = await client.post(
                SAJAD, content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
            )
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            declared = await client.post(
                SAJAD, content=b"x" * 10,
                headers={"content-type": "multipart/form-data; boundary=b",
                         "content-length": str(25 * 1024 * 1024)},
            )  # fmt: skip
    finally:
        await hub.aclose()
    limit = settings.upload_max_bytes + 64 * 1024
    assert response.status_code == 413
    assert response.json()["message"] == f"The request body is larger than {limit} bytes."
    assert sent <= limit + 2 * len(chunk)  # stopped reading at the limit
    assert peak < 8 * 1024 * 1024  # the part went to a spooled file, not to memory
    assert declared.status_code == 413  # a declared length over it: refused unread


async def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    big = jpeg((400, 400))
    async with client_with(tmp_path, upload_max_bytes=4096) as (client, _):
        body = (await post_file(client, SAJAD, big + b"\x00" * 60_000)).json()
    assert body == {"status": "error", "message": "cant upload",
                    "data": ["Submit is too big. Its size cannot exceed 4096 bytes."]}  # fmt: skip


async def test_anonymous_uploads_are_throttled_per_address(tmp_path: Path) -> None:
    async with client_with(tmp_path, anonymous_uploads_per_address_per_hour=2) as (client, hub):
        answers = [(await post_file(client, IMGUPLOAD, jpeg())).json() for _ in range(3)]
        refused = (await post_file(client, SAJAD, jpeg())).json()
        async with app_client(hub, client="10.0.0.9") as other:
            elsewhere = (await post_file(other, IMGUPLOAD, jpeg())).json()
    assert [a.startswith("http") for a in answers] == [True, True, False]
    assert answers[2] == "error"
    assert refused == {"status": "error", "message": "cant upload", "data": ["Too Many Attempts"]}
    assert elsewhere.startswith("http://testserver/img/up/")


async def login(api: Api, hub: Hub, **profile: Any) -> dict[str, str]:
    async with hub.db.unit_of_work(write=True) as session:
        user = await make_user(session, **profile)
    body = await api.post("/user/login", username=user.cellphone, password=PASSWORD)
    return {"username": user.cellphone, "token": body["data"]["token"]}


async def avatar_of(hub: Hub, cellphone: str) -> str | None:
    async with hub.db.unit_of_work(write=False) as session:
        found: str | None = await session.scalar(
            select(User.avatar).where(User.cellphone == cellphone)
        )
    return found


async def test_an_upload_with_a_login_is_the_accounts(
    client: httpx.AsyncClient, api: Api, hub: Hub
) -> None:
    auth = await login(api, hub)
    mine = await upload_key(client, jpeg(), **auth)
    stale = await upload_key(client, jpeg(), username=auth["username"], token="nope")
    async with hub.db.unit_of_work(write=False) as session:
        owners = dict((await session.execute(select(Upload.key, Upload.owner_id))).all())
    assert owners[mine] is not None
    assert owners[stale] is None  # a stale token uploads anonymously


async def edit_avatar(
    client: httpx.AsyncClient, auth: dict[str, str], field: str, data: bytes
) -> Any:
    """``user/edit`` with the avatar's file itself in ``field`` (``avatar`` or ``User[avatar]``)."""
    names = {"name": "مریم", "family": "احمدی"}
    response = await client.post("/web/user/edit", data={**auth, **names},
                                 files={field: ("me.jpg", data, "image/jpeg")})  # fmt: skip
    return response.json()


async def test_user_edit_takes_the_avatar_file_itself(
    client: httpx.AsyncClient, api: Api, hub: Hub
) -> None:
    auth = await login(api, hub)
    body = await edit_avatar(client, auth, "User[avatar]", jpeg(exif=gps_exif()))
    assert body["message"] == "updated successfully", body
    avatar = await avatar_of(hub, auth["username"])
    assert avatar is not None and re.fullmatch(KEY, avatar)
    served = await client.get("/" + avatar)
    assert served.status_code == 200 and b"Exif" not in served.content


async def test_a_file_that_is_not_an_image_in_a_field_is_a_validation_error(
    client: httpx.AsyncClient, api: Api, hub: Hub
) -> None:
    auth = await login(api, hub)
    refused = {"status": "error", "message": "Server Error", "data": ["Avatar is not an image."]}
    assert await edit_avatar(client, auth, "avatar", b"<?php ?>") == refused


async def test_a_file_field_needs_a_login_before_anything_is_decoded(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    response = await client.post(
        "/web/user/edit", data={"username": "09120000001", "token": "x"},
        files={"avatar": ("me.jpg", jpeg(), "image/jpeg")},
    )  # fmt: skip
    assert response.json() == {"status": "error", "message": "not login", "data": ""}
    assert [key async for key in hub.media.store.keys("img/")] == []


async def test_a_path_no_upload_made_is_refused(
    client: httpx.AsyncClient, api: Api, hub: Hub
) -> None:
    auth = await login(api, hub)
    base = {**auth, "name": "مریم", "family": "احمدی"}
    made_up = await api.post("/user/edit", **base, avatar="img/up/00/" + "0" * 32 + ".jpg")
    assert made_up["data"] == ["Avatar must be an uploaded image."]
    elsewhere = await api.post("/user/edit", **base, avatar="https://evil.example/a.jpg")
    assert elsewhere["data"] == ["Avatar must be an uploaded image."]
    script = await api.post("/user/edit", **base, avatar="javascript:alert(1)")
    assert script["data"] == ["Avatar is not a valid URL."]
    key = await upload_key(client, jpeg())
    # The absolute URL imgupload returns is accepted too, and kept as the path.
    absolute = await api.post("/user/edit", **base, avatar=f"https://hojrenama.ir/{key}")
    assert absolute["message"] == "updated successfully"
    assert await avatar_of(hub, auth["username"]) == key
    default = await api.post("/user/edit", **base, avatar="img/defaults/avatars/51.png")
    assert default["message"] == "updated successfully"


async def test_submit_store_message_takes_the_attachment_file(
    client: httpx.AsyncClient, api: Api, hub: Hub
) -> None:
    from tests.factories import make_store

    async with hub.db.unit_of_work(write=True) as session:
        store = await make_store(session)
    auth = await login(api, hub)
    response = await client.post(
        "/web/user/submit-store-message",
        data={**auth, "store": str(store.id), "title": "سلام", "text": "قیمت؟"},
        files={"attachment": ("pic.jpg", jpeg(), "image/jpeg")},
    )  # fmt: skip
    assert response.json()["message"] == "Message Sent", response.json()
    mine = await api.get("/store-messages", **auth)
    assert re.fullmatch(KEY, mine["items"][0]["attachment"])


# -- GET /img ---------------------------------------------------------------------------------


async def test_an_upload_is_served_with_its_type_long_cache_and_etag(
    client: httpx.AsyncClient,
) -> None:
    key = await upload_key(client, jpeg())
    served = await client.get("/" + key)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["x-content-type-options"] == "nosniff"
    etag = served.headers["etag"]
    again = await client.get("/" + key, headers={"if-none-match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    head = await client.head("/" + key)
    assert (head.status_code, head.content, head.headers["content-length"]) == (
        200, b"", str(len(served.content)))  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        "img/defaults/avatars/51.png",
        "img/defaults/product.png",
        "img/defaults/storeLogo.png",
        "img/categories/digital.jpg",
    ],
)
async def test_the_defaults_are_images_the_project_makes(
    client: httpx.AsyncClient, path: str
) -> None:
    served = await client.get("/" + path)
    assert served.status_code == 200
    image = Image.open(io.BytesIO(served.content))
    assert image.format == ("PNG" if path.endswith(".png") else "JPEG")
    assert served.headers["cache-control"] == "public, max-age=86400"


@pytest.mark.parametrize(
    "path",
    [
        "/img/../pyproject.toml",
        "/img/%2e%2e/%2e%2e/etc/passwd",
        "/img/..%2f..%2fetc%2fpasswd",
        "/img/%2E%2E%2Fsecret.jpg",
        "/img/up/..%252f..%252fsecret.jpg",
        "/img//etc/passwd.jpg",
        "/img/./secret.jpg",
        "/img/up/x/..\\..\\secret.jpg",
        "/img/Secret.JPG",
        "/img/secret.jpg%00.png",
        "/img/secret.svg",
        "/img/secret",
    ],
)
async def test_traversal_paths_are_404(client: httpx.AsyncClient, hub: Hub, path: str) -> None:
    root = Path(hub.settings.media_root)
    await hub.media.store.put("img/placeholder.jpg", jpeg(), "image/jpeg")  # the root exists
    await anyio.Path(root.parent / "secret.jpg").write_bytes(jpeg())  # beside the root
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json() == {"name": "Not Found", "message": "Page not found.", "code": 0,
                               "status": 404}  # fmt: skip


async def test_a_missing_image_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/img/up/00/" + "0" * 32 + ".jpg")).status_code == 404


async def test_thumbnails_of_the_fixed_widths_are_made_once_and_kept(
    client: httpx.AsyncClient, hub: Hub
) -> None:
    key = await upload_key(client, jpeg((1000, 500)))
    thumb = await client.get(f"/{key}?w=256")
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(thumb.content)).size == (256, 128)
    assert await hub.media.store.get(f"thumbs/256/{key}") == thumb.content
    assert (await client.get(f"/{key}?w=300")).status_code == 404
    assert (await client.get(f"/{key}?w=abc")).status_code == 404
    small = await client.get("/img/defaults/avatars/51.png?w=128")
    assert Image.open(io.BytesIO(small.content)).size[0] == 128


# -- garbage collection -----------------------------------------------------------------------


async def _age(hub: Hub, key: str, hours: float) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        await session.execute(
            update(Upload).where(Upload.key == key)
            .values(created_at=utcnow() - timedelta(hours=hours))
        )  # fmt: skip


async def test_gc_removes_an_unreferenced_anonymous_upload_after_a_day(
    client: httpx.AsyncClient, api: Api, hub: Hub
) -> None:
    auth = await login(api, hub)
    lost = await upload_key(client, jpeg())
    young = await upload_key(client, jpeg())
    used = await upload_key(client, jpeg())
    owned = await upload_key(client, jpeg(), **auth)
    edited = await api.post("/user/edit", **auth, name="مریم", family="احمدی", avatar=used)
    assert edited["message"] == "updated successfully"
    await client.get(f"/{lost}?w=128")  # its thumbnail goes with it
    for key in (lost, used, owned):
        await _age(hub, key, 25)
    assert await hub.media.collect() == 1
    assert await hub.media.store.get(lost) is None
    assert await hub.media.store.get(f"thumbs/128/{lost}") is None
    assert (await client.get("/" + lost)).status_code == 404
    for key in (young, used, owned):
        assert (await client.get("/" + key)).status_code == 200
    await _age(hub, owned, 31 * 24)
    assert await hub.media.collect() == 1  # an account's unused upload, after 30 days
    # Gone, the path is refused where it is sent.
    again = await api.post("/user/edit", **auth, name="مریم", family="احمدی", avatar=lost)
    assert again["data"] == ["Avatar must be an uploaded image."]


def test_media_gc_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from typer.testing import CliRunner

    from hojre.cli import app
    from hojre.core.migrate import upgrade_async
    from hojre.core.settings import get_settings

    url = f"sqlite+aiosqlite:///{tmp_path}/gc.db"
    settings = make_settings(url, tmp_path / "sms", media_root=str(tmp_path / "m"))

    async def setup() -> str:
        await upgrade_async(url)
        hub = Hub.from_settings(settings)
        try:
            async with app_client(hub) as client:
                key = await upload_key(client, jpeg())
            await _age(hub, key, 30)
        finally:
            await hub.aclose()
        return key

    key = asyncio.run(setup())
    assert (tmp_path / "m" / key).exists()
    monkeypatch.setenv("HOJRE_DATABASE_URL", url)
    monkeypatch.setenv("HOJRE_MEDIA_ROOT", str(tmp_path / "m"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["media", "gc"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "removed 1 unused uploads" in result.output
    assert not (tmp_path / "m" / key).exists()


async def test_images_served_last_are_kept_in_memory(client: httpx.AsyncClient, hub: Hub) -> None:
    key = await upload_key(client, jpeg())
    first = await client.get("/" + key)
    await hub.media.store.delete(key)  # behind the process's back: memory still has it
    again = await client.get("/" + key)
    assert (again.status_code, again.content, again.headers["etag"]) == (
        200, first.content, first.headers["etag"])  # fmt: skip
    hub.media.forget(key)
    assert (await client.get("/" + key)).status_code == 404


def test_the_image_cache_keeps_the_last_served_within_its_bytes() -> None:
    from hojre.media.service import Image, ImageCache

    cache = ImageCache(800)
    for name in ("a", "b", "c"):
        cache.put(name, None, Image.of(b"x" * 100, "image/png"))
    cache.put("a", 128, Image.of(b"y" * 100, "image/png"))
    assert cache.get("a", None) is not None  # now the most recent
    for name in ("d", "e", "f", "g", "h"):  # one past 800 bytes: the oldest ("b") goes
        cache.put(name, None, Image.of(b"z" * 100, "image/png"))
    assert cache.size == 800
    assert cache.get("b", None) is None and cache.get("a", None) is not None
    cache.put("big", None, Image.of(b"w" * 101, "image/png"))  # over an eighth: not kept
    assert cache.get("big", None) is None and cache.size == 800


async def test_only_an_uploads_first_use_writes_its_row(
    client: httpx.AsyncClient, api: Api, hub: Hub
) -> None:
    """Later uses only read it: a popular picture's row is no lock every writer queues on."""
    from tests.factories import count_statements

    auth = await login(api, hub)
    key = await upload_key(client, jpeg())
    runs = []
    for _ in range(2):
        with count_statements(hub) as sql:
            body = await api.post("/user/edit", **auth, name="مریم", family="احمدی", avatar=key)
        assert body["message"] == "updated successfully"
        runs.append([s.split()[0] for s in sql if "uploads" in s])
    assert runs == [["SELECT", "UPDATE"], ["SELECT"]]
