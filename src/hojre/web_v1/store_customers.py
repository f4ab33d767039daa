"""v1 store side (API.md §5): a store's physical and virtual customers.

``physical-customers`` and ``virtual-customers``, under each side's prefix, on the store
``store`` picks (default the caller's first, as ``statistics``); paged as every store-side
list (``ProductListParams``, ``product_page``), answered in the store-side envelope.
"""

from __future__ import annotations

from typing import Any

from hojre.catalog.service import StoreSide
from hojre.core.clock import to_unix
from hojre.customers.lists import CustomerItem, CustomerKind, list_customers
from hojre.web_v1.endpoint import Call, Handler, V1Router
from hojre.web_v1.envelopes import avatar
from hojre.web_v1.messaging import store_side
from hojre.web_v1.openapi import Reply
from hojre.web_v1.store_side import PREFIXES, WHO, ProductListParams, product_page, store_of

router = V1Router("store side")

MESSAGES: dict[CustomerKind, str] = {
    CustomerKind.physical: "physical customers",
    CustomerKind.virtual: "virtual customers",
}
SUMMARIES: dict[CustomerKind, str] = {
    CustomerKind.physical: "Customers who were at one of the caller's stores",
    CustomerKind.virtual: "Customers who came in touch with one of the caller's stores only "
    "in the app",
}


def render_customer(item: CustomerItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "family": item.family,
        "avatar": avatar(item.avatar),
        "lastSeen": to_unix(item.last_seen_at),
        "visits": item.visits,
    }


def _customers(side: StoreSide, kind: CustomerKind) -> Handler:
    async def handler(call: Call[ProductListParams]) -> dict[str, Any]:
        page = await list_customers(
            call.conn, caller=call.me, side=side, kind=kind, page=product_page(call.raw),
            store_id=store_of(call),
        )  # fmt: skip
        return store_side(MESSAGES[kind], page, render_customer)

    handler.__name__ = f"{side.value}_{kind.value}_customers"
    return handler


# Reads only: no write transaction (nor SQLite's write lock).
for _side, _prefix in PREFIXES.items():
    for _kind in CustomerKind:
        router.post(
            f"{_prefix}/{_kind.value}-customers", ProductListParams, auth=True, write=False,
            response=Reply.store_side, summary=f"{SUMMARIES[_kind]} ({WHO[_side]})",
        )(_customers(_side, _kind))  # fmt: skip
