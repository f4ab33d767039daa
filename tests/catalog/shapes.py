"""The v1 record shapes (API.md §2): keys and value types as the original service sent them.

Written out here from the contract's reference responses; a record must have exactly these
keys, each value of one of the listed types.
"""

from __future__ import annotations

from typing import Any

NONE = type(None)
INT = (int,)
STR = (str,)
OPT_INT = (int, NONE)
OPT_STR = (str, NONE)
SCORE = (float, NONE)  # Counters.score: a mean, or null without scored comments

Shape = dict[str, tuple[type, ...]]

COUNTERS: Shape = {
    "viewed": INT,
    "liked": INT,
    "disliked": INT,
    "commentsCount": INT,
    "favoriteCount": INT,
    "notificationCount": INT,
}

CATEGORY: Shape = {"id": INT, "title": STR, "image": STR}

BAZAAR: Shape = {
    "id": INT, "title": STR, "country": OPT_INT, "state": OPT_INT, "city": OPT_INT,
    "hood": OPT_INT, "logo": STR, "description": OPT_STR, "mainImage": STR,
    "locationImage": STR, "status": STR, "createDate": INT, "updateDate": INT, **COUNTERS,
    "category": OPT_INT, "address": OPT_STR, "district": OPT_STR, "longitude": STR,
    "latitude": STR, "slug": STR,
}  # fmt: skip

MALL: Shape = {
    "id": INT, "title": STR, "address": OPT_STR, "logo": STR, "mainImage": STR,
    "locationImage": STR, "status": STR, "createDate": INT, "updateDate": INT,
    "description": OPT_STR, "bazzar": OPT_INT, **COUNTERS, "longitude": STR, "latitude": STR,
    "bazzarCategory": OPT_INT, "country": OPT_INT, "state": OPT_INT, "city": OPT_INT,
    "district": OPT_STR, "hood": OPT_INT, "slug": STR,
}  # fmt: skip

STORE: Shape = {
    "id": INT, "title": STR, "address": OPT_STR, "certificateImage": STR, "manager": OPT_INT,
    "logo": STR, "mainImage": STR, "phone": OPT_STR, "parent": OPT_INT, "bazzar": OPT_INT,
    "mall": OPT_INT, "city": OPT_INT, "hood": OPT_INT, **COUNTERS, "score": SCORE,
    "storeFrontImage": STR, "bazzarCategory": OPT_INT, "longitude": STR, "latitude": STR,
    "district": OPT_STR, "country": OPT_INT, "state": OPT_INT, "email": OPT_STR,
    "website": OPT_STR, "telegram": OPT_STR, "instagram": OPT_STR, "youtube": OPT_STR,
    "aparat": OPT_STR, "googleplus": OPT_STR, "facebook": OPT_STR, "about": OPT_STR,
    "slug": STR, "locationImage": STR, "status": STR, "twitter": OPT_STR, "linkedin": OPT_STR,
}  # fmt: skip

# Designed here (no product in the original documents).
PRODUCT: Shape = {
    "id": INT, "title": STR, "store": INT, "description": OPT_STR, "price": INT,
    "mainImage": STR, "status": STR, "createDate": INT, "updateDate": INT, **COUNTERS,
    "score": SCORE, "slug": STR, "category": OPT_INT, "top": STR,
}  # fmt: skip


def comment(target_key: str) -> Shape:
    return {
        "id": INT, "user": INT, target_key: INT, "commentDate": INT, "text": STR,
        "pros": OPT_STR, "cons": OPT_STR, "userTitle": STR, "avatar": STR,
        "score": OPT_INT,  # designed here
    }  # fmt: skip


# A mall's media as the original sent them; a bazaar's designed alike.
def full_media(target_key: str) -> Shape:
    return {
        "id": INT, "title": STR, "type": STR, "source": STR, "order": INT, "status": STR,
        "createDate": INT, "updateDate": INT, target_key: INT,
    }  # fmt: skip


# A store's media as the original sent them; a product's designed alike.
def short_media(target_key: str) -> Shape:
    return {"id": INT, "title": STR, target_key: INT, "source": STR, "order": INT, "type": STR}


SELLER: Shape = {
    "id": INT, "user": INT, "store": INT, "status": STR, "avatar": STR, "name": OPT_STR,
    "family": OPT_STR,
}  # fmt: skip


def check(record: dict[str, Any], shape: Shape) -> None:
    """Exactly the shape's keys, each value of an allowed type (a bool is not an int here)."""
    assert set(record) == set(shape), (sorted(set(record) ^ set(shape)), record)
    for key, types in shape.items():
        value = record[key]
        assert type(value) in types, (key, value, types)
