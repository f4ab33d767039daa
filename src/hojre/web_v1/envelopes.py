"""The two v1 envelopes and Yii2-style list links."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlunsplit

from starlette.datastructures import URL
from starlette.requests import HTTPConnection

from hojre.core.pagination import MAX_PAGE, MAX_PER_PAGE, Page, PageRequest
from hojre.core.text import PLAIN_QUERY, ascii_digits, parse_int

# A person's picture never set reads as the original's default (comments, chats, sellers, users).
DEFAULT_AVATAR = "img/defaults/avatars/51.png"


def avatar(path: str | None) -> str:
    """The avatar to show: the one set, else :data:`DEFAULT_AVATAR`."""
    return path or DEFAULT_AVATAR


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


def _kept_plain(query: str) -> str:
    return "&".join(pair for pair in query.split("&") if pair.partition("=")[0] not in _PAGING_KEYS)


@lru_cache(maxsize=1024)
def _base_url(scheme: str, host: bytes | None, server: tuple[str, int] | None, path: str) -> str:
    """The request's URL without its query, as Starlette's ``URL(scope=…)`` spells it (the
    Host header checked, the server's address otherwise): worked out once per host and path."""
    scope = {
        "scheme": scheme,
        "server": server,
        "path": path,
        "query_string": b"",
        "headers": [] if host is None else [(b"host", host)],
    }
    parts = URL(scope=scope).components
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class _Href:
    """The request's absolute URL, its query kept, with a link's page and page size.

    The URL is split and its query filtered once per list: a list has up to five links.
    """

    __slots__ = ("prefix", "suffix")

    def __init__(self, base: str, kept: str, fragment: str = "") -> None:
        self.prefix = f"{base}?{kept}&" if kept else f"{base}?"
        # Only a raw "#" in a query string makes one; kept as urlunsplit would keep it.
        self.suffix = f"#{fragment}" if fragment else ""

    @classmethod
    def of(cls, request: HTTPConnection) -> _Href:
        scope = request.scope
        query: bytes = scope.get("query_string", b"")
        if not query or PLAIN_QUERY.fullmatch(query):
            host = next((value for name, value in scope["headers"] if name == b"host"), None)
            server = scope.get("server")
            base = _base_url(
                scope.get("scheme", "http"), host, None if server is None else tuple(server),
                scope["path"],
            )  # fmt: skip
            return cls(base, _kept_plain(query.decode("ascii")))
        parts = request.url.components
        # A plain query is what urlencode would write back unchanged.
        if PLAIN_QUERY.fullmatch(parts.query.encode()):
            kept = _kept_plain(parts.query)
        else:
            kept = urlencode(
                [
                    (key, value)
                    for key, value in parse_qsl(parts.query, keep_blank_values=True)
                    if key not in _PAGING_KEYS
                ]
            )
        base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return cls(base, kept, parts.fragment)

    def __call__(self, page: int, per_page: int) -> dict[str, str]:
        return {"href": f"{self.prefix}page={page}&per-page={per_page}{self.suffix}"}


def listing(
    http: HTTPConnection, page: Page[T], render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """The list envelope, its links to the request's own URL."""
    request = page.request
    pages = page.page_count
    href = _Href.of(http)
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
