"""Uploads: hostile bytes in, a re-encoded image and a row out; paths checked and claimed.

An upload is taken in four steps, none inside the request's own transaction: the throttles
are counted (one short transaction, so a refused upload costs no decoding), the image is
decoded and re-encoded in a worker thread (at most ``HOJRE_IMAGE_THREADS`` at once), the new
bytes go to the media store under a random name, and the ``uploads`` row is written (a second
short transaction). A request that then fails leaves an unused upload, which :func:`collect`
removes later, as it removes uploads nobody ever referred to.

A field that takes an image accepts a path only if it is a shipped default or ``uploads`` has
it (:func:`claim_paths`, in the writer's transaction, which also marks the upload used).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, BinaryIO, Final, cast

import anyio
from sqlalchemy import BindParameter, Table, bindparam, delete, insert, select, update

from hojre.core.clock import utcnow
from hojre.core.db import UTCDateTime
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.ratelimit import RateLimiter, Window, check
from hojre.core.settings import Settings
from hojre.core.sql import Conn, Query, RawDb
from hojre.media import images
from hojre.media.cards import DEFAULTS, default_image
from hojre.media.models import UNUSED, Upload
from hojre.media.storage import MediaStore, valid_key

log = logging.getLogger(__name__)

# Thumbnail widths a client may ask for (``GET /img/…?w=``): a fixed set, so that a client
# cannot make the server render and keep a copy per pixel.
THUMB_WIDTHS: Final = frozenset({128, 256, 512, 1024})


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What one upload may be, and how many a client may make."""

    max_bytes: int
    max_pixels: int
    max_side: int
    per_user_per_hour: int
    per_address_per_hour: int
    anonymous_per_address_per_hour: int

    @classmethod
    def of(cls, settings: Settings) -> UploadLimits:
        return cls(
            max_bytes=settings.upload_max_bytes,
            max_pixels=settings.upload_max_pixels,
            max_side=settings.upload_max_side,
            per_user_per_hour=settings.uploads_per_user_per_hour,
            per_address_per_hour=settings.uploads_per_address_per_hour,
            anonymous_per_address_per_hour=settings.anonymous_uploads_per_address_per_hour,
        )


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    content_type: str
    size: int
    width: int
    height: int


def is_default(key: str) -> bool:
    """A path of the images the project makes itself (``img/defaults/…``, categories)."""
    return key in DEFAULTS


def new_key(ext: str) -> str:
    """A random path, never the client's name: 128 bits, fanned out over 256 directories."""
    name = secrets.token_hex(16)
    return f"img/up/{name[:2]}/{name}.{ext}"


def windows(limits: UploadLimits, *, owner: int | None, address: str) -> list[Window]:
    found = [Window(f"upload-address:{address}", 3600, limits.per_address_per_hour,
                    "uploads_per_address")]  # fmt: skip
    if owner is None:
        most = limits.anonymous_per_address_per_hour
        found.append(Window(f"upload-anon:{address}", 3600, most, "anonymous_uploads"))
    else:
        found.append(Window(f"upload-user:{owner}", 3600, limits.per_user_per_hour,
                            "uploads_per_user"))  # fmt: skip
    return found


# The table, not the mapped class: run in an ORM session (the demo's), a statement on the class
# is taken for the ORM's own form (no row count).
_UPLOADS: Final = cast(Table, Upload.__table__)
_INSERT = Query(
    insert(_UPLOADS).values(
        key=bindparam("key_"),
        owner_id=bindparam("owner"),
        address=bindparam("address_"),
        content_type=bindparam("type_"),
        size=bindparam("size_"),
        width=bindparam("width_"),
        height=bindparam("height_"),
        created_at=bindparam("now"),
        used_at=bindparam("used"),
    )
)


class Media:
    """The uploads of one process: its media store, its image threads, its limits."""

    def __init__(
        self, db: RawDb, store: MediaStore, limiter: RateLimiter, settings: Settings
    ) -> None:
        self.db = db
        self.store = store
        self.limiter = limiter
        self.limits = UploadLimits.of(settings)
        self.threads = anyio.CapacityLimiter(settings.image_threads)
        self.anonymous_ttl = timedelta(hours=settings.anonymous_upload_ttl_hours)
        self.owned_ttl = timedelta(days=settings.unused_upload_ttl_days)
        self.cache = ImageCache(settings.image_cache_bytes)

    async def take(
        self, source: BinaryIO, *, size: int | None, field: str, owner: int | None, address: str
    ) -> Stored:
        """Take one uploaded file: counted, decoded, re-encoded, stored, recorded.

        Refusals are :class:`ValidationFailed` on ``field`` (not an image, too big, too many
        pixels) or "Too Many Attempts"; nothing is stored for them.
        """
        limits = self.limits
        if size is not None and size > limits.max_bytes:
            raise ValidationFailed([FieldProblem(field, Rule.file_too_big, limits.max_bytes)])
        counted = windows(limits, owner=owner, address=address)
        async with self.db.connect(write=True) as conn:
            check(counted, await self.limiter.hit(conn, counted))
        try:
            encoded = await anyio.to_thread.run_sync(
                _reencode, source, limits, limiter=self.threads
            )
        except images.TooManyPixels:
            problem = FieldProblem(field, Rule.too_many_pixels, limits.max_pixels)
            raise ValidationFailed([problem]) from None
        except _TooBig:
            problem = FieldProblem(field, Rule.file_too_big, limits.max_bytes)
            raise ValidationFailed([problem]) from None
        except images.NotAnImage:
            raise ValidationFailed([FieldProblem(field, Rule.not_image)]) from None
        key = new_key(encoded.ext)
        # The bytes first, outside the transaction (an S3 round trip must not hold SQLite's
        # write lock); then the row.
        await self.store.put(key, encoded.data, encoded.content_type)
        try:
            async with self.db.connect(write=True) as conn:
                await _insert(conn, key, encoded, owner=owner, address=address, used=False)
        except BaseException:
            await self.store.delete(key)  # no row: nothing may refer to the file
            raise
        return Stored(key, encoded.content_type, len(encoded.data), encoded.width, encoded.height)

    async def collect(self) -> int:
        """Remove the uploads nobody used (see :func:`collect`). Other processes may serve
        one from memory until it ages out there: nobody shows an upload no record uses."""
        return await collect(
            self.db, self.store, anonymous_ttl=self.anonymous_ttl, owned_ttl=self.owned_ttl,
            forget=self.forget,
        )  # fmt: skip

    async def image(self, key: str, width: int | None) -> Image | None:
        """The bytes ``GET /img/<key>`` serves (a thumbnail ``width`` wide if given: made
        on first request from the original, then kept in the store), or None. The images
        served last are kept in memory (HOJRE_IMAGE_CACHE_BYTES): an upload's bytes never
        change under its name, and a list page asks for the same thumbnails again and again."""
        found = self.cache.get(key, width)
        if found is None:
            found = await self._load(key, width)
            if found is not None:
                self.cache.put(key, width, found)
        return found

    async def _load(self, key: str, width: int | None) -> Image | None:
        content_type = images.FORMATS[key.rsplit(".", 1)[1]]
        shipped = default_image(key)
        if shipped is None and not valid_key(key):
            return None  # a name the store never holds (capitals: only the defaults have them)
        if shipped is not None:
            if width is None:
                return Image.of(shipped, content_type, shipped=True)
            thumb = await anyio.to_thread.run_sync(
                _shipped_thumbnail, key, width, limiter=self.threads
            )
            return Image.of(thumb.data, thumb.content_type, shipped=True)
        if width is None:
            data = await self.store.get(key)
            return None if data is None else Image.of(data, content_type)
        kept = thumb_key(key, width)
        data = await self.store.get(kept)
        if data is not None:
            return Image.of(data, content_type)
        original = await self.store.get(key)
        if original is None:
            return None
        thumb = await anyio.to_thread.run_sync(
            lambda: images.thumbnail(original, width=width), limiter=self.threads
        )
        await self.store.put(kept, thumb.data, thumb.content_type)
        return Image.of(thumb.data, thumb.content_type)

    def forget(self, key: str) -> None:
        """Drop an image and its thumbnails from this process's memory."""
        for width in (None, *THUMB_WIDTHS):
            self.cache.drop(key, width)

    async def aclose(self) -> None:
        await self.store.aclose()


@dataclass(frozen=True, slots=True)
class Image:
    data: bytes
    content_type: str
    etag: str  # of the bytes: a thumbnail remade elsewhere has the same one
    # One of the images the project makes (may change with a release: not cached forever).
    shipped: bool = False

    @classmethod
    def of(cls, data: bytes, content_type: str, *, shipped: bool = False) -> Image:
        etag = '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
        return cls(data, content_type, etag, shipped)


class ImageCache:
    """The images served last, by name and width, up to ``max_bytes`` in all (least recently
    served out first); one image bigger than an eighth of it is never kept."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.kept: OrderedDict[tuple[str, int | None], Image] = OrderedDict()

    def get(self, key: str, width: int | None) -> Image | None:
        found = self.kept.get((key, width))
        if found is not None:
            self.kept.move_to_end((key, width))
        return found

    def put(self, key: str, width: int | None, image: Image) -> None:
        if len(image.data) * 8 > self.max_bytes:
            return
        self.drop(key, width)
        self.kept[key, width] = image
        self.size += len(image.data)
        while self.size > self.max_bytes:
            _, oldest = self.kept.popitem(last=False)
            self.size -= len(oldest.data)

    def drop(self, key: str, width: int | None) -> None:
        gone = self.kept.pop((key, width), None)
        if gone is not None:
            self.size -= len(gone.data)


@lru_cache(maxsize=256)
def _shipped_thumbnail(key: str, width: int) -> images.Encoded:
    data = default_image(key)
    assert data is not None
    return images.thumbnail(data, width=width)


class _TooBig(images.NotAnImage):
    """More bytes than the limit reached the decoder (a body without a declared size)."""


def _reencode(source: BinaryIO, limits: UploadLimits) -> images.Encoded:
    source.seek(0)
    # One byte past the limit tells a file over it from one exactly at it.
    data = source.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise _TooBig
    return images.reencode(data, max_pixels=limits.max_pixels, max_side=limits.max_side)


async def record(
    conn: Conn, store: MediaStore, key: str, encoded: images.Encoded, *, owner: int | None
) -> None:
    """Store bytes made by the project itself (the demo's pictures) as a used upload, in the
    caller's transaction."""
    await store.put(key, encoded.data, encoded.content_type)
    await _insert(conn, key, encoded, owner=owner, address="", used=True)


async def _insert(
    conn: Conn, key: str, encoded: images.Encoded, *, owner: int | None, address: str,
    used: bool,
) -> None:  # fmt: skip
    now = utcnow()
    await conn.run(
        _INSERT, key_=key, owner=owner, address_=address[:64], type_=encoded.content_type,
        size_=len(encoded.data), width_=encoded.width, height_=encoded.height, now=now,
        used=now if used else None,
    )  # fmt: skip


# -- paths sent in fields ---------------------------------------------------------------------

# Every path a request sends (a handful at most: edit-store's five images) in one statement:
# those that exist, and whether a record used them yet. Unused slots are bound as NULL, which
# matches nothing. Only an upload's first use writes (marks it used): a row every request
# updated would be a lock that every request naming a popular picture queues on.
_CLAIM_SLOTS: Final = 8
_SLOTS: Final[list[BindParameter[Any]]] = [bindparam(f"path{i}") for i in range(_CLAIM_SLOTS)]
_NAMED = Query(
    select(_UPLOADS.c.key, _UPLOADS.c.used_at.is_not(None)).where(_UPLOADS.c.key.in_(_SLOTS))
)
_MARK_USED = Query(
    update(_UPLOADS)
    .where(_UPLOADS.c.key.in_(_SLOTS), _UPLOADS.c.used_at.is_(None))
    .values(used_at=bindparam("now", type_=UTCDateTime()))
)


async def claim_paths(
    conn: Conn,
    clean: MutableMapping[str, object],
    fields: Iterable[str],
    problems: list[FieldProblem],
) -> None:
    """Refuse each image path in ``clean`` (keys already normalised by
    :func:`hojre.core.text.image_key`) that is neither a default nor an upload; mark the
    uploads used. One statement when any upload is named, a second the first time one is
    used."""
    named = [
        (name, key) for name in fields
        if isinstance(key := clean.get(name), str) and key and not is_default(key)
    ]  # fmt: skip
    found: set[str] = set()
    for at in range(0, len(named), _CLAIM_SLOTS):
        chunk = [key for _, key in named[at : at + _CLAIM_SLOTS]]
        paths = {f"path{i}": chunk[i] if i < len(chunk) else None for i in range(_CLAIM_SLOTS)}
        rows = await conn.all(_NAMED, **paths)
        found.update(row[0] for row in rows)
        if not all(row[1] for row in rows):
            await conn.run(_MARK_USED, now=utcnow(), **paths)
    problems.extend(FieldProblem(name, Rule.not_uploaded) for name, key in named
                    if key not in found)  # fmt: skip


# -- garbage collection -----------------------------------------------------------------------

_UNUSED_BATCH = Query(
    select(Upload.id, Upload.key)
    .where(UNUSED, Upload.created_at < bindparam("before"))
    .where((Upload.owner_id.is_(None)) | (Upload.created_at < bindparam("owned_before")))
    .order_by(Upload.created_at)
    .limit(bindparam("batch"))
)
# Re-checked at delete time: a record that claimed the upload meanwhile keeps it.
_DELETE_UNUSED = Query(delete(Upload).where(Upload.id == bindparam("id"), UNUSED))


async def collect(
    db: RawDb,
    store: MediaStore,
    *,
    anonymous_ttl: timedelta,
    owned_ttl: timedelta,
    batch: int = 500,
    forget: Callable[[str], None] = lambda key: None,
) -> int:
    """Remove the uploads no record ever used: anonymous ones after ``anonymous_ttl``, a
    logged-in account's after ``owned_ttl``. Each row goes in its own statement, re-checked
    as still unused; its file once the row is gone. How many were removed."""
    now = utcnow()
    removed = 0
    while True:
        async with db.connect(write=False) as conn:
            rows = await conn.all(
                _UNUSED_BATCH, before=now - anonymous_ttl, owned_before=now - owned_ttl,
                batch=batch,
            )  # fmt: skip
        if not rows:
            return removed
        gone: list[str] = []
        async with db.connect(write=True) as conn:
            for row in rows:
                if await conn.run(_DELETE_UNUSED, id=row.id):
                    gone.append(row.key)
        for key in gone:
            forget(key)
            await store.delete(key)
            for width in THUMB_WIDTHS:
                await store.delete(thumb_key(key, width))
        removed += len(gone)
        if len(rows) < batch:
            return removed


def thumb_key(key: str, width: int) -> str:
    return f"thumbs/{width}/{key}"
