"""v1 store side (API.md §5): the back office of store managers and sellers.

An endpoint of both sides has one handler, mounted under each side's prefix
(``/web/store-manager/…``, ``/web/seller/…``) with the same params and replies; the side says
who may act for the store (:class:`hojre.catalog.service.StoreSide`). Every call carries the
login and an optional ``store``: which of the caller's stores (default: the first by id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, TypeVar

from hojre.catalog import products, service
from hojre.catalog.products import ProductFields, StoreProductItem
from hojre.catalog.service import StoreSide, StoreStatistics
from hojre.core.clock import to_unix
from hojre.web_v1.endpoint import Call, Handler, V1Params, V1Router, param
from hojre.web_v1.envelopes import ok
from hojre.web_v1.messaging import StoreSidePaged, store_side_page
from hojre.web_v1.messaging import store_side as store_side_envelope
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


Staffed = TypeVar("Staffed", bound=StoreParams)


def store_of(call: Call[Staffed]) -> int | None:
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


# -- products ---------------------------------------------------------------------------------


# Bases in this order: pydantic lists the last base's fields first (``store``, then paging).
class ProductListParams(StoreSidePaged, StoreParams):
    pass


# Every store-side list's rule (the messages and offers share it, from web_v1.messaging).
product_page = store_side_page


def render_store_product(item: StoreProductItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "mainImage": item.main_image,
        "category": item.category_id,
        "store": item.store_id,
        "description": item.description,
        "status": item.status,
        "createDate": to_unix(item.created_at),
        "updateDate": to_unix(item.updated_at),
        "price": item.price,
        "top": item.top,
        "viewed": item.viewed,
        "liked": item.liked,
        "disliked": item.disliked,
        "favoriteCount": item.favorite_count,
        "commentsCount": item.comments_count,
        "notificationCount": item.notification_count,
        "slug": item.slug,
    }


_PICTURE = (
    "Picture {n} of the product's gallery: a path from an upload endpoint, or the image file "
    "itself; sent empty: removed."
)


class ProductFieldParams(V1Params):
    title: str | None = param("`Product[title]`: the name (required to add).")
    mainImage: str | None = param(
        "`Product[mainImage]`: a path from an upload endpoint, or the image file itself "
        "(default `img/defaults/product.png`).",
        image=True,
    )
    category: str | None = param("`Product[category]`: a bazaar category's id.", type="integer")
    description: str | None = param("`Product[description]`.")
    price: str | None = param("`Product[price]`: rials, an integer ≥ 0 (required to add).")
    top: str | None = param("`Product[top]`: `yes` or `no` (default `no`).", enum=["yes", "no"])
    gallery_1: str | None = param(_PICTURE.format(n=1), alias="Gallery[1]", image=True)
    gallery_2: str | None = param(_PICTURE.format(n=2), alias="Gallery[2]", image=True)
    gallery_3: str | None = param(_PICTURE.format(n=3), alias="Gallery[3]", image=True)
    video: str | None = param("The product's video: its http(s) URL; sent empty: removed.")


class AddProductParams(StoreParams, ProductFieldParams):
    pass


class ProductIdParams(V1Params):
    product: str | None = param("The product's id.", required=True, type="integer")


class EditProductParams(ProductIdParams, ProductFieldParams):
    pass


def product_fields(params: ProductFieldParams) -> ProductFields:
    return ProductFields(
        title=params.title,
        main_image=params.mainImage,
        category=params.category,
        description=params.description,
        price=params.price,
        top=params.top,
        media=(params.gallery_1, params.gallery_2, params.gallery_3, params.video),
    )


# Each runs for one side; :func:`for_side` binds it to a route's.
Sided = Callable[[Any, StoreSide], Awaitable[dict[str, Any]]]


def for_side(side: StoreSide, run: Sided) -> Handler:
    async def handler(call: Call[Any]) -> dict[str, Any]:
        return await run(call, side)

    handler.__name__ = f"{side.value}_{run.__name__.lstrip('_')}"
    return handler


async def _products(call: Call[ProductListParams], side: StoreSide) -> dict[str, Any]:
    page = await products.list_products(
        call.conn, caller=call.me, side=side, store_id=store_of(call), page=product_page(call.raw)
    )
    return store_side_envelope("List of products", page, render_store_product)


async def _add_product(call: Call[AddProductParams], side: StoreSide) -> dict[str, Any]:
    product_id = await products.add_product(
        call.conn,
        caller=call.me,
        side=side,
        store_id=store_of(call),
        sent=product_fields(call.params),
    )
    return ok("product created successfully", {"id": product_id})


async def _edit_product(call: Call[EditProductParams], side: StoreSide) -> dict[str, Any]:
    await products.edit_product(
        call.conn,
        caller=call.me,
        side=side,
        product_id=wire_id(call.params.product),
        sent=product_fields(call.params),
    )
    return ok("product updated successfully")


async def _delete_product(call: Call[ProductIdParams], side: StoreSide) -> dict[str, Any]:
    await products.delete_product(
        call.conn, caller=call.me, side=side, product_id=wire_id(call.params.product)
    )
    return ok("Product Deleted")


class ProductRoute(NamedTuple):
    name: str
    params: type[V1Params]
    run: Sided
    summary: str
    options: dict[str, Any]


# The list writes nothing: no write transaction (nor SQLite's write lock).
PRODUCT_ROUTES = (
    ProductRoute("products", ProductListParams, _products,
                 "The products of one of the caller's stores",
                 {"write": False, "response": Reply.store_side}),
    ProductRoute("add-product", AddProductParams, _add_product,
                 "Add a product to one of the caller's stores", {"write": True}),
    ProductRoute("edit-product", EditProductParams, _edit_product,
                 "Change a product of the caller's stores", {"write": True}),
    ProductRoute("delete-product", ProductIdParams, _delete_product,
                 "Delete a product of the caller's stores", {"write": True}),
)  # fmt: skip

for _side, _prefix in PREFIXES.items():
    for _route in PRODUCT_ROUTES:
        router.post(
            f"{_prefix}/{_route.name}", _route.params, auth=True,
            summary=f"{_route.summary} ({WHO[_side]})", **_route.options,
        )(for_side(_side, _route.run))  # fmt: skip
