"""v1 catalogue (API.md §2): categories, lists of bazaars, malls, stores and products, and
one target with its parts ("composite", shaped like an element of the original search).

No login. Lists are cacheable; a composite is not (it shows the latest comments, which the
reader may just have written). Every route runs on :mod:`hojre.core.sql` (``call.conn``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from starlette.responses import Response

from hojre.catalog import service
from hojre.catalog.models import Bazaar, BazaarCategory, Mall, Media, Product, Store, score_of
from hojre.catalog.service import (
    BazaarItem,
    CatalogFilter,
    CategoryItem,
    MallItem,
    ProductItem,
    SellerItem,
    StoreItem,
)
from hojre.core.clock import to_unix
from hojre.core.errors import NotFound
from hojre.core.pagination import Page
from hojre.interactions.registry import TargetKind
from hojre.web_v1.cache import public_list, replay
from hojre.web_v1.endpoint import Call, Handler, NoParams, V1Params, V1Router, param
from hojre.web_v1.envelopes import avatar, listing, page_request
from hojre.web_v1.interactions import WIRE_TARGET, render_comment
from hojre.web_v1.openapi import Reply
from hojre.web_v1.params import NO_ID, wire_filter, wire_id

router = V1Router("catalogue")


def _path_id(call: Call[Any]) -> int:
    """The ``<id>`` of a composite path; anything but an existing id is "Not Found"."""
    parsed = wire_id(str(call.request.path_params.get("id", "")))
    if parsed == NO_ID:
        raise NotFound
    return parsed


# -- records (``mainData`` and list items), wire names as the original sent them -------------
# A list gives its item (the record's columns); a composite's rows have all of the table's.


def render_category(category: CategoryItem) -> dict[str, Any]:
    return {"id": category.id, "title": category.title, "image": category.image}


def render_bazaar(bazaar: BazaarItem) -> dict[str, Any]:
    return {
        "id": bazaar.id,
        "title": bazaar.title,
        "country": bazaar.country_id,
        "state": bazaar.state_id,
        "city": bazaar.city_id,
        "hood": bazaar.hood_id,
        "logo": bazaar.logo,
        "description": bazaar.description,
        "mainImage": bazaar.main_image,
        "locationImage": bazaar.location_image,
        "status": bazaar.status,
        "createDate": to_unix(bazaar.created_at),
        "updateDate": to_unix(bazaar.updated_at),
        "viewed": bazaar.viewed,
        "liked": bazaar.liked,
        "disliked": bazaar.disliked,
        "commentsCount": bazaar.comments_count,
        "favoriteCount": bazaar.favorite_count,
        "notificationCount": bazaar.notification_count,
        "category": bazaar.category_id,
        "address": bazaar.address,
        "district": bazaar.district,
        "longitude": bazaar.longitude,
        "latitude": bazaar.latitude,
        "slug": bazaar.slug,
    }


def render_mall(mall: MallItem) -> dict[str, Any]:
    return {
        "id": mall.id,
        "title": mall.title,
        "address": mall.address,
        "logo": mall.logo,
        "mainImage": mall.main_image,
        "locationImage": mall.location_image,
        "status": mall.status,
        "createDate": to_unix(mall.created_at),
        "updateDate": to_unix(mall.updated_at),
        "description": mall.description,
        "bazzar": mall.bazaar_id,
        "viewed": mall.viewed,
        "liked": mall.liked,
        "disliked": mall.disliked,
        "commentsCount": mall.comments_count,
        "favoriteCount": mall.favorite_count,
        "notificationCount": mall.notification_count,
        "longitude": mall.longitude,
        "latitude": mall.latitude,
        "bazzarCategory": mall.category_id,
        "country": mall.country_id,
        "state": mall.state_id,
        "city": mall.city_id,
        "district": mall.district,
        "hood": mall.hood_id,
        "slug": mall.slug,
    }


def render_store(store: StoreItem) -> dict[str, Any]:
    """The original's store record: no dates and no description (``about`` instead)."""
    return {
        "id": store.id,
        "title": store.title,
        "address": store.address,
        "certificateImage": store.certificate_image,
        "manager": store.manager_id,
        "logo": store.logo,
        "mainImage": store.main_image,
        "phone": store.phone,
        "parent": store.parent_id,
        "bazzar": store.bazaar_id,
        "mall": store.mall_id,
        "city": store.city_id,
        "hood": store.hood_id,
        "liked": store.liked,
        "disliked": store.disliked,
        "viewed": store.viewed,
        "commentsCount": store.comments_count,
        "favoriteCount": store.favorite_count,
        "score": score_of(store.score_total, store.score_count),
        "notificationCount": store.notification_count,
        "storeFrontImage": store.store_front_image,
        "bazzarCategory": store.category_id,
        "longitude": store.longitude,
        "latitude": store.latitude,
        "district": store.district,
        "country": store.country_id,
        "state": store.state_id,
        "email": store.email,
        "website": store.website,
        "telegram": store.telegram,
        "instagram": store.instagram,
        "youtube": store.youtube,
        "aparat": store.aparat,
        "googleplus": store.googleplus,
        "facebook": store.facebook,
        "about": store.about,
        "slug": store.slug,
        "locationImage": store.location_image,
        "status": store.status,
        "twitter": store.twitter,
        "linkedin": store.linkedin,
    }


def render_product(product: ProductItem) -> dict[str, Any]:
    """Designed here (the original documents show no product): price in rials (int)."""
    return {
        "id": product.id,
        "title": product.title,
        "store": product.store_id,
        "description": product.description,
        "price": product.price,
        "mainImage": product.main_image,
        "status": product.status,
        "createDate": to_unix(product.created_at),
        "updateDate": to_unix(product.updated_at),
        "viewed": product.viewed,
        "liked": product.liked,
        "disliked": product.disliked,
        "commentsCount": product.comments_count,
        "favoriteCount": product.favorite_count,
        "notificationCount": product.notification_count,
        "score": score_of(product.score_total, product.score_count),
        "slug": product.slug,
        # API.md §5: as in the store side's product list.
        "category": product.category_id,
        "top": product.top,
    }


# -- parts of a composite --------------------------------------------------------------------


def render_full_media(target: TargetKind) -> Callable[[Media], dict[str, Any]]:
    """Media as the original sent a mall's (with status and dates); bazaars' designed alike."""
    key = WIRE_TARGET[target]

    def render(media: Media) -> dict[str, Any]:
        return {
            "id": media.id,
            "title": media.title,
            "type": media.type,
            "source": media.source,
            "order": media.order,
            "status": media.status,
            "createDate": to_unix(media.created_at),
            "updateDate": to_unix(media.updated_at),
            key: media.target_id,
        }

    return render


def render_short_media(target: TargetKind) -> Callable[[Media], dict[str, Any]]:
    """Media as the original sent a store's; products' designed alike."""
    key = WIRE_TARGET[target]

    def render(media: Media) -> dict[str, Any]:
        return {
            "id": media.id,
            "title": media.title,
            key: media.target_id,
            "source": media.source,
            "order": media.order,
            "type": media.type,
        }

    return render


def render_seller(seller: SellerItem) -> dict[str, Any]:
    return {
        "id": seller.id,
        "user": seller.user_id,
        "store": seller.store_id,
        "status": seller.status,
        "avatar": avatar(seller.avatar),
        "name": seller.name,
        "family": seller.family,
    }


_BAZAAR_MEDIA = render_full_media(TargetKind.bazaar)
_MALL_MEDIA = render_full_media(TargetKind.mall)
_STORE_MEDIA = render_short_media(TargetKind.store)
_PRODUCT_MEDIA = render_short_media(TargetKind.product)
_BAZAAR_COMMENT = render_comment(TargetKind.bazaar)
_MALL_COMMENT = render_comment(TargetKind.mall)
_STORE_COMMENT = render_comment(TargetKind.store)
_PRODUCT_COMMENT = render_comment(TargetKind.product)

# In the original search, ``totalCount`` is the same on every element of a kind: the number of
# rows of that kind the search matched (a string, as Yii's count() returns it), not a count of
# comments. A composite fetched by id is the one row that matched.
_ONE_MATCH = "1"


def render_bazaar_detail(detail: service.BazaarDetail, total: str = _ONE_MATCH) -> dict[str, Any]:
    # The original sometimes left out an empty part's key; Hojre always sends every key.
    return {
        "mainData": render_bazaar(detail.bazaar),
        "bazzarMedia": [_BAZAAR_MEDIA(m) for m in detail.media],
        "bazzarPoints": [],  # no points feature yet: always empty
        "bazzarUserComments": [_BAZAAR_COMMENT(c) for c in detail.comments],
        "malls": [render_mall(m) for m in detail.malls],
        "stores": [render_store(s) for s in detail.stores],
        "totalCount": total,
    }


def render_mall_detail(detail: service.MallDetail, total: str = _ONE_MATCH) -> dict[str, Any]:
    return {
        "mainData": render_mall(detail.mall),
        "mallMedia": [_MALL_MEDIA(m) for m in detail.media],
        "mallUserComments": [_MALL_COMMENT(c) for c in detail.comments],
        "stores": [render_store(s) for s in detail.stores],
        "totalCount": total,
    }


def render_store_detail(detail: service.StoreDetail, total: str = _ONE_MATCH) -> dict[str, Any]:
    return {
        "mainData": render_store(detail.store),
        "storeMedia": [_STORE_MEDIA(m) for m in detail.media],
        "storePoints": [],  # no points feature yet: always empty
        "stores": [render_store(s) for s in detail.branches],
        "totalCount": total,
        "storeUserComments": [_STORE_COMMENT(c) for c in detail.comments],
        "storeSellers": [render_seller(s) for s in detail.sellers],
    }


def render_product_detail(detail: service.ProductDetail) -> dict[str, Any]:
    """Designed here, in the shape of the others."""
    return {
        "mainData": render_product(detail.product),
        "productMedia": [_PRODUCT_MEDIA(m) for m in detail.media],
        "productUserComments": [_PRODUCT_COMMENT(c) for c in detail.comments],
    }


# -- endpoints -------------------------------------------------------------------------------


class Paged(V1Params):
    paged: ClassVar[bool] = True


class PlaceFilter(Paged):
    category: str | None = param("Only this bazaar category.", type="integer")
    state: str | None = param("Only this province.", type="integer")
    city: str | None = param("Only this city.", type="integer")
    hood: str | None = param("Only this neighbourhood.", type="integer")


class MallFilter(PlaceFilter):
    # Records call the category ``bazzarCategory``; the filter answers to both names.
    bazzarCategory: str | None = param("Alias of `category`.", type="integer")
    bazzar: str | None = param("Only this bazaar's.", type="integer")


class StoreFilter(MallFilter):
    mall: str | None = param("Only this mall's.", type="integer")


class ProductFilter(Paged):
    store: str | None = param("Only this store's.", type="integer")


def _filters(raw: V1Params) -> CatalogFilter:
    def get(name: str) -> str | None:
        value: str | None = getattr(raw, name, None)
        return value

    return CatalogFilter(
        category=wire_filter(get("category") or get("bazzarCategory")),
        state=wire_filter(get("state")),
        city=wire_filter(get("city")),
        hood=wire_filter(get("hood")),
        bazaar=wire_filter(get("bazzar")),
        mall=wire_filter(get("mall")),
        store=wire_filter(get("store")),
    )


# From the public list cache, as the geography lists (see hojre.web_v1.geo).
@router.get(
    "/bazzar-categories", Paged, cacheable=True, own_transactions=True,
    early=replay(BazaarCategory.__tablename__), summary="Bazaar categories",
)  # fmt: skip
async def bazaar_categories(call: Call[Paged]) -> Response:
    return await public_list(
        call, BazaarCategory.__tablename__, (), service.list_categories, render_category
    )


Item = TypeVar("Item", BazaarItem, MallItem, StoreItem, ProductItem)


@dataclass(frozen=True, slots=True)
class CatalogList(Generic[Item]):
    path: str
    model: type[Bazaar | Mall | Store | Product]  # whose list_active gives Item
    params: type[V1Params]
    render: Callable[[Item], dict[str, Any]]
    summary: str


def _list_handler(spec: CatalogList[Item]) -> Handler:
    async def handler(call: Call[Any]) -> dict[str, Any]:
        model: Any = spec.model  # the overload per model is chosen at run time
        page: Page[Item] = await service.list_active(
            call.conn, model, page_request(call.raw), _filters(call.params)
        )
        return listing(call.request, page, spec.render)

    handler.__name__ = "list_" + spec.model.__tablename__
    return handler


LISTS: tuple[CatalogList[Any], ...] = (
    CatalogList("/bazzars", Bazaar, PlaceFilter, render_bazaar, "Active bazaars, in id order"),
    CatalogList("/malls", Mall, MallFilter, render_mall, "Active malls, in id order"),
    CatalogList("/stores", Store, StoreFilter, render_store, "Active stores, in id order"),
    CatalogList(
        "/products", Product, ProductFilter, render_product, "Active products, in id order"
    ),
)
for _spec in LISTS:
    router.get(_spec.path, _spec.params, cacheable=True, summary=_spec.summary)(
        _list_handler(_spec)
    )


@router.get(
    "/bazzars/{id}",
    NoParams,
    response=Reply.bazaar,
    summary="One bazaar with media, comments, malls, stores",
)
async def bazaar_detail(call: Call[NoParams]) -> dict[str, Any]:
    detail = await service.get_bazaar_detail(call.conn, _path_id(call))
    return render_bazaar_detail(detail)


@router.get(
    "/malls/{id}",
    NoParams,
    response=Reply.mall,
    summary="One mall with media, comments and stores",
)
async def mall_detail(call: Call[NoParams]) -> dict[str, Any]:
    detail = await service.get_mall_detail(call.conn, _path_id(call))
    return render_mall_detail(detail)


@router.get(
    "/stores/{id}",
    NoParams,
    response=Reply.store,
    summary="One store with media, comments, sellers and branches",
)
async def store_detail(call: Call[NoParams]) -> dict[str, Any]:
    detail = await service.get_store_detail(call.conn, _path_id(call))
    return render_store_detail(detail)


@router.get(
    "/products/{id}",
    NoParams,
    response=Reply.product,
    summary="One product with media and comments",
)
async def product_detail(call: Call[NoParams]) -> dict[str, Any]:
    detail = await service.get_product_detail(call.conn, _path_id(call))
    return render_product_detail(detail)
