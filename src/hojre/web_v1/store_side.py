"""v1 store side (API.md §5): the back office of store managers and sellers.

An endpoint of both sides has one handler, mounted under each side's prefix
(``/web/store-manager/…``, ``/web/seller/…``) with the same params and replies; the side says
who may act for the store (:class:`hojre.catalog.service.StoreSide`). Every call carries the
login and an optional ``store``: which of the caller's stores (default: the first by id).
"""

from __future__ import annotations

from typing import Any

from hojre.catalog import service
from hojre.catalog.service import StoreSide, StoreStatistics
from hojre.web_v1.endpoint import Call, Handler, V1Params, V1Router, param
from hojre.web_v1.envelopes import ok
from hojre.web_v1.openapi import Reply
from hojre.web_v1.params import wire_id

router = V1Router("store side")

PREFIXES: dict[StoreSide, str] = {
    StoreSide.manager: "/store-manager",
    StoreSide.seller: "/seller",
}
WHO: dict[StoreSide, str] = {StoreSide.manager: "store managers", StoreSide.seller: "sellers"}


class StoreParams(V1Params):
    store: str | None = param(
        "Which of the caller's stores (default: the first by id).", type="integer"
    )


def store_of(call: Call[StoreParams]) -> int | None:
    """The ``store`` asked for; None (absent or empty): the caller's first."""
    raw = call.params.store
    return wire_id(raw) if raw else None


def render_statistics(counters: StoreStatistics) -> dict[str, int]:
    return {
        "views": counters.viewed,
        "likes": counters.liked,
        "dislikes": counters.disliked,
        "favorites": counters.favorite_count,
        "notifications": counters.notification_count,
        "comments": counters.comments_count,
    }


def _statistics(side: StoreSide) -> Handler:
    async def handler(call: Call[StoreParams]) -> dict[str, Any]:
        counters = await service.store_statistics(
            call.conn, caller=call.me, side=side, store_id=store_of(call)
        )
        return ok("success", render_statistics(counters))

    handler.__name__ = f"{side.value}_statistics"
    return handler


# Reads only: no write transaction (nor SQLite's write lock).
for _side, _prefix in PREFIXES.items():
    router.post(
        f"{_prefix}/statistics",
        StoreParams,
        auth=True,
        write=False,
        response=Reply.action,
        summary=f"The counters of one of the caller's stores ({WHO[_side]})",
    )(_statistics(_side))
