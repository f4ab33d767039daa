"""The two v1 envelopes and Yii2-style list links."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlunsplit

from starlette.datastructures import URL

from hojre.core.pagination import MAX_PAGE, MAX_PER_PAGE, Page, PageRequest
from hojre.core.text import ascii_digits, parse_int

T = TypeVar("T")


def ok(message: str, data: Any = "") -> dict[str, Any]:
    return {"status": "success", "message": message, "data": data}


def error(message: str, data: Any = "") -> dict[str, Any]:
    return {"status": "error", "message": message, "data": data}


_DIGITS = re.compile(r"\+?0*([0-9]+)")


def page_number(raw: str | None) -> int:
    """A 1-based page from the wire: 1 when absent, not a number or below 1; any number of
    digits past :data:`MAX_PAGE` is that page (past the end of every list), never page 1."""
    match = _DIGITS.fullmatch(ascii_digits(raw or "").strip())
    if match is None:
        return 1
    digits = match.group(1)
    # Compared by length first: int() of a body-sized string of digits is slow, then refused.
    page = MAX_PAGE if len(digits) > len(str(MAX_PAGE)) else min(int(digits), MAX_PAGE)
    return max(page, 1)


def page_request(params: Mapping[str, str]) -> PageRequest:
    """``page`` (1-based) and ``per-page`` or its alias ``perPage`` (default and cap 300)."""
    per_page = parse_int(params.get("per-page") or params.get("perPage"))
    if per_page is None or per_page < 1:
        per_page = MAX_PER_PAGE
    return PageRequest(page=page_number(params.get("page")), per_page=min(per_page, MAX_PER_PAGE))


_PAGING_KEYS = frozenset({"page", "per-page", "perPage"})
# key=value pairs of characters urlencode leaves alone (the usual query: usernames, tokens, ids)
_UNRESERVED = "[A-Za-z0-9._~-]"
_PLAIN_QUERY = re.compile(f"{_UNRESERVED}+={_UNRESERVED}*(?:&{_UNRESERVED}+={_UNRESERVED}*)*")


class _Href:
    """The request's absolute URL, its query kept, with a link's page and page size.

    The URL is split and its query filtered once per list: a list has up to five links.
    """

    __slots__ = ("prefix", "suffix")

    def __init__(self, url: URL) -> None:
        parts = url.components
        if _PLAIN_QUERY.fullmatch(parts.query):  # what urlencode would write back unchanged
            kept = "&".join(
                pair
                for pair in parts.query.split("&")
                if pair.partition("=")[0] not in _PAGING_KEYS
            )
        else:
            kept = urlencode(
                [
                    (key, value)
                    for key, value in parse_qsl(parts.query, keep_blank_values=True)
                    if key not in _PAGING_KEYS
                ]
            )
        base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.prefix = f"{base}?{kept}&" if kept else f"{base}?"
        # Only a raw "#" in a query string makes one; kept as urlunsplit would keep it.
        self.suffix = f"#{parts.fragment}" if parts.fragment else ""

    def __call__(self, page: int, per_page: int) -> dict[str, str]:
        return {"href": f"{self.prefix}page={page}&per-page={per_page}{self.suffix}"}


def listing(url: URL, page: Page[T], render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    request = page.request
    pages = page.page_count
    href = _Href(url)
    links = {"self": href(request.page, request.per_page)}
    if request.page > 1:
        links["first"] = href(1, request.per_page)
        links["prev"] = href(min(request.page - 1, max(pages, 1)), request.per_page)
    if request.page < pages:
        links["next"] = href(request.page + 1, request.per_page)
        links["last"] = href(pages, request.per_page)
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
