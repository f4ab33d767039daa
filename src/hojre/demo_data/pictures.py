"""The demo's pictures: a coloured card with its record's title for every image path the demo
gives out, stored and recorded as a used upload, so the apps and the panel show pictures and
the paths pass the check every image field makes (hojre.media.service.claim_paths).

Paths are asked for while the records are generated (:meth:`Pictures.want`, synchronous, as
most of the generator is) and drawn in batches (:meth:`Pictures.flush`): before the stores and
the products, which the services add and so check, and once at the end for the rest. A card
is drawn and stored once per title and size: a record's pictures (a product's main image and
its gallery, a store's front and licence) are one card under one path, which keeps the demo's
2,600 image fields to about 700 files.
"""

from __future__ import annotations

from typing import Final

from hojre.core.sql import Conn
from hojre.media.cards import card
from hojre.media.images import FORMATS, Encoded
from hojre.media.service import record
from hojre.media.storage import MediaStore

# Sizes by what the picture is: small squares for logos and avatars, 4:3 for the rest.
SQUARE: Final = (256, 256)
PHOTO: Final = (480, 360)


class Pictures:
    def __init__(self, conn: Conn, store: MediaStore) -> None:
        self.conn = conn
        self.store = store
        # (title, size, extension) → its path; those not drawn yet.
        self.paths: dict[tuple[str, tuple[int, int], str], str] = {}
        self.pending: list[tuple[str, tuple[int, int], str]] = []

    def want(self, key: str, title: str, size: tuple[int, int] = PHOTO) -> str:
        """The path of a card of ``title`` at ``size``: ``key`` for the first asked, the same
        path for every later one (drawn at the next :meth:`flush`)."""
        drawn = (title, size, key.rsplit(".", 1)[1])
        if drawn not in self.paths:
            self.paths[drawn] = key
            self.pending.append(drawn)
        return self.paths[drawn]

    async def flush(self) -> None:
        """Draw, store and record every picture asked for since the last flush."""
        pending, self.pending = self.pending, []
        for drawn in pending:
            title, (width, height), ext = drawn
            data = card(title, width=width, height=height, fmt=ext)
            encoded = Encoded(data, ext, FORMATS[ext], width, height)
            await record(self.conn, self.store, self.paths[drawn], encoded, owner=None)
