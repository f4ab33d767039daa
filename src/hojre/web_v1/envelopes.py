"""The two v1 envelopes and Yii2-style list links."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL

from hojre.core.pagination import MAX_PER_PAGE, Page, PageRequest
from hojre.core.text import parse_int

T = TypeVar("T")


def ok(message: str, data: Any = "") -> dict[str, Any]:
    return {"status": "success", "message": message, "data": data}


def error(message: str, data: Any = "") -> dict[str, Any]:
    return {"status": "error", "message": message, "data": data}


def page_request(params: Mapping[str, str]) -> PageRequest:
    """``page`` (1-based) and ``per-page`` or its alias ``perPage`` (default and cap 300)."""
    page = parse_int(params.get("page"))
    per_page = parse_int(params.get("per-page") or params.get("perPage"))
    if per_page is None or per_page < 1:
        per_page = MAX_PER_PAGE
    return PageRequest(page=page if page and page > 0 else 1, per_page=min(per_page, MAX_PER_PAGE))


_PAGING_KEYS = frozenset({"page", "per-page", "perPage"})


def _href(url: URL, page: int, per_page: int) -> str:
    """The request's absolute URL, its query kept, with this link's page and page size."""
    kept = [
        (key, value)
        for key, value in parse_qsl(url.query, keep_blank_values=True)
        if key not in _PAGING_KEYS
    ]
    kept += [("page", str(page)), ("per-page", str(per_page))]
    return str(url.replace(query=urlencode(kept)))


def listing(url: URL, page: Page[T], render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    request = page.request
    pages = page.page_count
    links: dict[str, dict[str, str]] = {
        "self": {"href": _href(url, request.page, request.per_page)}
    }
    if request.page > 1:
        links["first"] = {"href": _href(url, 1, request.per_page)}
        links["prev"] = {"href": _href(url, min(request.page - 1, max(pages, 1)), request.per_page)}
    if request.page < pages:
        links["next"] = {"href": _href(url, request.page + 1, request.per_page)}
        links["last"] = {"href": _href(url, pages, request.per_page)}
    return {
        "items": [render(item) for item in page.items],
        "_links": links,
        "_meta": {
            "totalCount": page.total,
            "pageCount": pages,
            "currentPage": request.page,
            "perPage": request.per_page,
        },
    }
