"""Where upload bytes live: one small interface, a local directory or an S3-compatible bucket.

Keys are relative paths of a fixed, safe form (:func:`valid_key`): every backend refuses any
other with :class:`BadKey`, whatever the HTTP layer checked before, so no caller can name a
file outside the store. The local backend also resolves each path and checks that it stays
under its root. Writes are atomic (a reader never sees half an image): a temporary file renamed
into place, or a single ``PutObject``. Blocking calls run in worker threads.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import anyio

from hojre.core.settings import Settings

_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]*(?:/[a-z0-9][a-z0-9_.-]*)*")
_KEY_MAX = 200
_CACHE = "public, max-age=31536000, immutable"


class BadKey(ValueError):
    """A key outside the safe form: never looked up."""


def valid_key(key: str) -> bool:
    """Lower-case ASCII segments of ``[a-z0-9_.-]`` starting with a letter or digit, joined by
    single slashes; no ``..`` anywhere; at most 200 characters."""
    return (
        isinstance(key, str)
        and len(key) <= _KEY_MAX
        and key.isascii()
        and _KEY.fullmatch(key) is not None
        and ".." not in key
    )


def _checked(key: str) -> str:
    if not valid_key(key):
        raise BadKey(repr(key)[:80])
    return key


class MediaStore(Protocol):
    name: str

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str) -> AsyncIterator[str]: ...

    async def aclose(self) -> None: ...


class LocalStore:
    """Files under ``root``: ``root/<key>``."""

    name = "local"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / _checked(key)).resolve()
        if not path.is_relative_to(self.root):  # a symlink inside the root pointing out
            raise BadKey(key)
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(_write_atomic, path, data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        return await anyio.to_thread.run_sync(_read, path)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await anyio.to_thread.run_sync(path.is_file)

    async def keys(self, prefix: str) -> AsyncIterator[str]:
        if prefix and not valid_key(prefix.rstrip("/")):
            raise BadKey(prefix)
        found = await anyio.to_thread.run_sync(self._walk, prefix)
        for key in found:
            yield key

    def _walk(self, prefix: str) -> list[str]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)

    async def aclose(self) -> None:
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A hidden temporary file beside the target, renamed over it: readers see the old file
    # or the new one, never a part.
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


class S3Store:
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, a provider's), ``prefix/<key>``.

    boto3 is synchronous: each call runs in a worker thread, on one client (boto3 clients are
    thread-safe) with a connection pool, time limits and standard retries.
    """

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        prefix: str = "",
        timeout: float = 10.0,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=20,
            signature_version="s3v4",
            s3={"addressing_style": "path"} if endpoint_url else {},
        )
        self.client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            config=config,
        )  # fmt: skip

    def _name(self, key: str) -> str:
        return self.prefix + _checked(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self._name(key)
        await anyio.to_thread.run_sync(lambda: self.client.put_object(
            Bucket=self.bucket, Key=name, Body=data, ContentType=content_type,
            CacheControl=_CACHE,
        ))  # fmt: skip

    async def get(self, key: str) -> bytes | None:
        name = self._name(key)

        def fetch() -> bytes | None:
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=name)
            except self.client.exceptions.NoSuchKey:
                return None
            except Exception as exc:
                if _not_found(exc):
                    return None
                raise
            body: bytes = answer["Body"].read()
            return body

        return await anyio.to_thread.run_sync(fetch)

    async def delete(self, key: str) -> None:
        name = self._name(key)
        await anyio.to_thread.run_sync(
            lambda: self.client.delete_object(Bucket=self.bucket, Key=name)
        )

    async def exists(self, key: str) -> bool:
        name = self._name(key)

        def head() -> bool:
            try:
                self.client.head_object(Bucket=self.bucket, Key=name)
            except Exception as exc:
                if _not_found(exc):
                    return False
                raise
            return True

        return await anyio.to_thread.run_sync(head)

    async def keys(self, prefix: str) -> AsyncIterator[str]:
        if prefix and not valid_key(prefix.rstrip("/")):
            raise BadKey(prefix)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        iterator = iter(pages)
        while True:
            page = await anyio.to_thread.run_sync(next, iterator, None)
            if page is None:
                return
            for item in page.get("Contents", ()):
                yield str(item["Key"])[len(self.prefix) :]

    async def aclose(self) -> None:
        await anyio.to_thread.run_sync(self.client.close)


def _not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def store_from_settings(settings: Settings) -> MediaStore:
    """The media store the settings name (HOJRE_MEDIA_BACKEND)."""
    if settings.media_backend == "s3":
        if not settings.s3_bucket:
            raise ValueError("HOJRE_S3_BUCKET is required with HOJRE_MEDIA_BACKEND=s3")
        return S3Store(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            prefix=settings.s3_prefix,
            timeout=settings.s3_timeout_seconds,
        )
    return LocalStore(settings.media_root)
