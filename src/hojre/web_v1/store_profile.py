"""v1 store side (API.md §5): the store's profile and gallery, for its manager.

``edit-store``, ``add-store-gallery`` and ``list-gallery`` act on one of the caller's stores
(``store``, default the first by id, as statistics); ``delete-store-gallery`` and
``unique-product`` name a record whose store must be one the caller manages. The gallery is
paged as the product list is (``ProductListParams``, ``product_page``: every store-side list's
rule, API.md §5).
"""

from __future__ import annotations

from typing import Any

from hojre.catalog import store_admin
from hojre.catalog.store_admin import STORE_FIELDS, MediaItem, NewMedia, StoreChanges
from hojre.core.pagination import Page, PageRequest
from hojre.web_v1.endpoint import Call, V1Params, V1Router, param
from hojre.web_v1.envelopes import ok
from hojre.web_v1.messaging import store_side
from hojre.web_v1.openapi import Reply
from hojre.web_v1.params import wire_id
from hojre.web_v1.store_side import ProductListParams, StoreParams, product_page, store_of

router = V1Router("store side")

_IMAGE = "An image: a path from /web/upload/imguploadSajad, or the file itself; not empty."


class EditStoreParams(StoreParams):
    title: str | None = param("The store's name, at most 200 characters; not empty.")
    country: str | None = param("Country id; with a state, the state's country.")
    state: str | None = param("Province id (GET /web/states).")
    city: str | None = param("City id in that province (GET /web/cities?state=).")
    hood: str | None = param("Neighbourhood id in that city (GET /web/hoods?city=).")
    phone: str | None = param("Landline, 11 digits starting with 0.")
    address: str | None = param("Address, at least 5 characters.")
    about: str | None = param("About the store, at most 5000 characters.")
    email: str | None = param("Email address.", format="email")
    telegram: str | None = param("Telegram id.")
    instagram: str | None = param("Instagram id.")
    facebook: str | None = param("Facebook id.")
    twitter: str | None = param("Twitter id.")
    googleplus: str | None = param("Google+ id.")
    website: str | None = param("Website URL.")
    linkedin: str | None = param("LinkedIn id.")
    logo: str | None = param(_IMAGE, image=True)
    storeFrontImage: str | None = param(_IMAGE, image=True)
    certificateImage: str | None = param(_IMAGE, image=True)
    locationImage: str | None = param(_IMAGE, image=True)
    mainImage: str | None = param(_IMAGE, image=True)


# Wire names that are not the column's (``Store[field]`` and ``field`` both arrive as field).
_WIRE_TO_DOMAIN = {
    "storeFrontImage": "store_front_image",
    "certificateImage": "certificate_image",
    "locationImage": "location_image",
    "mainImage": "main_image",
}


@router.post("/store-manager/edit-store", EditStoreParams, auth=True,
             summary="Edit the profile of the caller's store (only the fields sent)")  # fmt: skip
async def edit_store(call: Call[EditStoreParams]) -> dict[str, Any]:
    values = {
        _WIRE_TO_DOMAIN.get(name, name): value
        for name, value in call.raw.items()
        if _WIRE_TO_DOMAIN.get(name, name) in STORE_FIELDS
    }
    await store_admin.edit_store(
        call.conn, caller=call.me, changes=StoreChanges(values), store_id=store_of(call)
    )
    return ok("updated successfully")


class AddGalleryParams(StoreParams):
    source: str | None = param(
        _IMAGE.replace("; not empty", "") + " A video: its http(s) URL.", required=True, image=True
    )
    type: str | None = param("image (default) or video.", enum=["image", "video"])
    order: str | None = param("Position in the gallery (default 1).", type="integer")
    title: str | None = param("A caption, at most 200 characters (optional).")


@router.post("/store-manager/add-store-gallery", AddGalleryParams, auth=True,
             summary="Add an image to the gallery of the caller's store")  # fmt: skip
async def add_store_gallery(call: Call[AddGalleryParams]) -> dict[str, Any]:
    p = call.params
    media_id = await store_admin.add_store_media(
        call.conn, caller=call.me, new=NewMedia(p.source, p.type, p.order, p.title),
        store_id=store_of(call),
    )  # fmt: skip
    return ok("done", {"id": media_id})


class MediaIdParams(V1Params):
    id: str | None = param("The gallery item's id.", required=True, type="integer")


@router.post("/store-manager/delete-store-gallery", MediaIdParams, auth=True,
             summary="Remove an image from the gallery of the caller's store")  # fmt: skip
async def delete_store_gallery(call: Call[MediaIdParams]) -> dict[str, Any]:
    await store_admin.delete_store_media(
        call.conn, caller=call.me, media_id=wire_id(call.params.id)
    )
    return ok("done")


def render_media(item: MediaItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "type": item.type,
        "store": item.store_id,
        "source": item.source,
        "order": item.order,
    }


# Reads only: no write transaction (nor SQLite's write lock).
@router.post("/store-manager/list-gallery", ProductListParams, auth=True, write=False,
             response=Reply.store_side,
             summary="The gallery of the caller's store, by order")  # fmt: skip
async def list_gallery(call: Call[ProductListParams]) -> dict[str, Any]:
    page = await store_admin.list_store_media(
        call.conn, caller=call.me, page=product_page(call.raw), store_id=store_of(call)
    )
    return store_side("media result", page, render_media)


class ProductIdParams(V1Params):
    id: str | None = param("The product's id.", required=True, type="integer")


@router.post("/store-manager/unique-product", ProductIdParams, auth=True, write=False,
             response=Reply.store_side,
             summary="The media of a product of the caller's store")  # fmt: skip
async def unique_product(call: Call[ProductIdParams]) -> dict[str, Any]:
    items = await store_admin.product_media(
        call.conn, caller=call.me, product_id=wire_id(call.params.id)
    )
    # Not paged: the whole list as one page.
    page = Page(items=items, total=len(items), request=PageRequest())
    return store_side("media result", page, render_media)
