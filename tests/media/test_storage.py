"""The media store's two backends, one suite: a local directory and an S3-compatible bucket."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from hojre.media.storage import BadKey, LocalStore, MediaStore, S3Store, store_from_settings
from tests.conftest import make_settings
from tests.media.conftest import BUCKET, KEYS

pytestmark = pytest.mark.anyio

KEY = "img/up/3f/3f9a00000000000000000000000000e1.jpg"


def s3_store(url: str, prefix: str) -> S3Store:
    return S3Store(bucket=BUCKET, endpoint_url=url, region="us-east-1",
                   access_key_id=KEYS["aws_access_key_id"],
                   secret_access_key=KEYS["aws_secret_access_key"], prefix=prefix)  # fmt: skip


@pytest.fixture(params=["local", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, s3_url: str
) -> AsyncIterator[MediaStore]:
    made: MediaStore
    if request.param == "local":
        made = LocalStore(tmp_path / "media")
    else:  # a prefix of its own per test: one bucket serves them all
        made = s3_store(s3_url, f"t-{os.urandom(4).hex()}")
    try:
        yield made
    finally:
        await made.aclose()


async def test_round_trip(store: MediaStore) -> None:
    assert await store.get(KEY) is None
    assert not await store.exists(KEY)
    await store.put(KEY, b"first", "image/jpeg")
    await store.put("img/other.png", b"x", "image/png")
    assert await store.get(KEY) == b"first"
    assert await store.exists(KEY)
    await store.put(KEY, b"second", "image/jpeg")  # overwritten whole
    assert await store.get(KEY) == b"second"
    assert sorted([k async for k in store.keys("img/")]) == ["img/other.png", KEY]
    assert [k async for k in store.keys("img/up/")] == [KEY]
    await store.delete(KEY)
    await store.delete(KEY)  # gone already: no error
    assert await store.get(KEY) is None
    assert [k async for k in store.keys("img/up/")] == []


BAD = [
    "../../etc/passwd", "img/../../x.jpg", "/etc/passwd", "img\\..\\x.jpg", "img/%2e%2e/x.jpg",
    "img/a\x00.jpg", "img/\u2025/x.jpg", "img//a.jpg", "img/a.jpg/", "", "Img/A.jpg",
    "img/" + "a" * 200 + ".jpg", ".hidden/x.jpg", "img/./x.jpg",
]  # fmt: skip


@pytest.mark.parametrize("key", BAD)
async def test_a_bad_key_is_refused_by_every_method(store: MediaStore, key: str) -> None:
    calls: list[Any] = [
        store.put(key, b"x", "image/jpeg"), store.get(key), store.delete(key), store.exists(key),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(BadKey):
            await call


async def test_local_files_land_under_the_root_atomically(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "media")
    await store.put(KEY, b"data", "image/jpeg")
    assert _files(tmp_path) == [(f"media/{KEY}", b"data", 0o644)]  # no temporary file left


def _files(root: Path) -> list[tuple[str, bytes, int]]:
    return [(p.relative_to(root).as_posix(), p.read_bytes(), p.stat().st_mode & 0o777)
            for p in sorted(root.rglob("*")) if p.is_file()]  # fmt: skip


async def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.jpg").write_bytes(b"secret")
    (tmp_path / "media" / "img").mkdir(parents=True)
    (tmp_path / "media" / "img" / "out").symlink_to(tmp_path / "outside")
    store = LocalStore(tmp_path / "media")
    with pytest.raises(BadKey):
        await store.get("img/out/x.jpg")


async def test_s3_keeps_the_prefix_type_and_cache_headers(s3_url: str) -> None:
    store = s3_store(s3_url, "/site-a/")
    try:
        await store.put(KEY, b"jpeg", "image/jpeg")
        raw = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", **KEYS)
        head = raw.head_object(Bucket=BUCKET, Key=f"site-a/{KEY}")
        assert head["ContentType"] == "image/jpeg"
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        assert [k async for k in store.keys("img/")] == [KEY]  # the prefix stripped
    finally:
        await store.aclose()


def test_the_settings_pick_the_backend(tmp_path: Path, s3_url: str) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    local = store_from_settings(make_settings(db, tmp_path / "sms"))
    assert isinstance(local, LocalStore) and local.root == (tmp_path / "media").resolve()
    s3 = store_from_settings(make_settings(
        db, tmp_path / "sms", media_backend="s3", s3_bucket=BUCKET, s3_endpoint_url=s3_url,
    ))  # fmt: skip
    assert isinstance(s3, S3Store) and s3.bucket == BUCKET
    with pytest.raises(ValueError, match="HOJRE_S3_BUCKET"):
        store_from_settings(make_settings(db, tmp_path / "sms", media_backend="s3"))


async def test_an_upload_round_trip_through_the_api_on_s3(tmp_path: Path, s3_url: str) -> None:
    """The whole path on the S3 backend: upload, serve, thumbnail, garbage collection."""
    import io

    from PIL import Image

    from tests.media.test_uploads import SAJAD, _age, client_with, jpeg, post_file

    s3 = {"media_backend": "s3", "s3_bucket": BUCKET, "s3_endpoint_url": s3_url,
          "s3_prefix": f"api-{os.urandom(4).hex()}", "s3_access_key_id": "test",
          "s3_secret_access_key": "test"}  # fmt: skip
    async with client_with(tmp_path, **s3) as (client, hub):
        body = (await post_file(client, SAJAD, jpeg((600, 300)))).json()
        key = body["data"]["name"]
        served = await client.get("/" + key)
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        thumb = await client.get(f"/{key}?w=128")
        assert Image.open(io.BytesIO(thumb.content)).size == (128, 64)
        assert await hub.media.store.exists(f"thumbs/128/{key}")
        await _age(hub, key, 25)
        assert await hub.media.collect() == 1
        assert (await client.get("/" + key)).status_code == 404
        assert not await hub.media.store.exists(f"thumbs/128/{key}")
