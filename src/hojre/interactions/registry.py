"""The two enums and the registry that turn 5 targets × 6 kinds into one design."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from hojre.accounts.models import User
from hojre.catalog.models import Bazaar, Mall, Product, Store


class TargetKind(StrEnum):
    bazaar = "bazaar"
    mall = "mall"
    store = "store"
    product = "product"
    user = "user"  # a seller or store manager; comments only


class InteractionKind(StrEnum):
    comment = "comment"
    like = "like"
    dislike = "dislike"
    favorite = "favorite"
    view = "view"
    notification = "notification"


@dataclass(frozen=True, slots=True)
class TargetSpec:
    model: type[Any]
    # The column shown as the item's image in the "my likes/…" lists.
    image: InstrumentedAttribute[Any]
    title: InstrumentedAttribute[Any]
    counted: bool = True  # carries the counters (users do not)


TARGETS: dict[TargetKind, TargetSpec] = {
    TargetKind.bazaar: TargetSpec(Bazaar, Bazaar.logo, Bazaar.title),
    TargetKind.mall: TargetSpec(Mall, Mall.logo, Mall.title),
    TargetKind.store: TargetSpec(Store, Store.logo, Store.title),
    TargetKind.product: TargetSpec(Product, Product.main_image, Product.title),
    TargetKind.user: TargetSpec(User, User.avatar, User.name, counted=False),
}
CATALOG_TARGETS = (TargetKind.bazaar, TargetKind.mall, TargetKind.store, TargetKind.product)


@dataclass(frozen=True, slots=True)
class KindSpec:
    counter: str  # the target's counter column
    # Marks that share a slot exclude each other (a like replaces a dislike); None: not a mark.
    slot: str | None = None


KINDS: dict[InteractionKind, KindSpec] = {
    InteractionKind.comment: KindSpec("comments_count"),
    InteractionKind.like: KindSpec("liked", slot="vote"),
    InteractionKind.dislike: KindSpec("disliked", slot="vote"),
    InteractionKind.favorite: KindSpec("favorite_count", slot="favorite"),
    InteractionKind.view: KindSpec("viewed"),
    InteractionKind.notification: KindSpec("notification_count", slot="notification"),
}
MARK_KINDS = tuple(kind for kind, spec in KINDS.items() if spec.slot is not None)


def rivals(kind: InteractionKind) -> tuple[InteractionKind, ...]:
    """The kinds a mark of ``kind`` replaces (those sharing its slot)."""
    slot = KINDS[kind].slot
    return tuple(k for k in MARK_KINDS if k is not kind and KINDS[k].slot == slot)
