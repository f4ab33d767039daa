"""Serving a public list from :mod:`hojre.core.cache`, with ``ETag`` / ``If-None-Match``.

Two levels, neither of which runs a statement or opens a connection:

- **Replies** (:func:`replay`, the endpoint's ``early`` answer, before ``_run`` reads any
  parameter): the very response sent before to the same request line (path, query string,
  ``Host``, scheme), sent again. Nothing else a request carries changes a public list's answer
  (a GET's body is not read) but a token, in the query or ``Authorization``: a tokened answer
  is ``no-store`` and names its token in its links, so it is not kept.
- **Pages** (:func:`public_list`, the handler): the items and total of a page, by what changes
  them (the family, the normalised page and page size, the parsed filters); the links are
  rendered around them from the request's own URL as :func:`~hojre.web_v1.envelopes.listing`
  renders them, so a body from the cache is byte for byte the uncached one. A miss reads the
  database on a connection of its own (the endpoints are declared ``own_transactions``, so
  ``_run`` opens none).

``Cache-Control`` stays what ``_run`` decides (public for five minutes; ``no-store`` when the
request carries a token), on a 304 too; the ``ETag`` is the content's (see
:class:`~hojre.core.cache.CachedPage`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hojre.core.cache import CachedPage, CachedReply, Key
from hojre.core.hub import Hub
from hojre.core.pagination import Page, PageRequest
from hojre.core.sql import Conn
from hojre.web_v1.endpoint import Call
from hojre.web_v1.envelopes import listing, page_request

T = TypeVar("T")

# One element of If-None-Match's list (RFC 9110 §8.8.3): an optional weakness mark and a
# quoted opaque tag, then a comma or the end; empty elements are allowed by the list syntax.
_TAG = re.compile(r'[ \t]*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?:,|$)|[ \t]*,')


def none_match(header: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, RFC 9110 §13.1.2) or is
    ``*``. A malformed header matches nothing: the full answer is never wrong."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    position, end = 0, len(header)
    while position < end:
        match = _TAG.match(header, position)
        if match is None or match.end() == position:
            return False
        if match.group(1) == etag:
            return True
        position = match.end()
    return False


class SharedResponse(Response):
    """A response sent to many requests (a kept reply): each gets a header list of its own, as
    a middleware may edit in place the one it is sent."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [*self.raw_headers]
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _reply_key(family: str, request: Request) -> tuple[Key, str | None] | None:
    """The key of a reply to ``request`` and its If-None-Match; None: not to be replayed."""
    scope = request.scope
    host = none_match_header = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
        elif name == b"if-none-match":
            none_match_header = value.decode("latin-1")
        elif name == b"authorization":  # a Bearer token: a private answer
            return None
    if host is None:  # the links would name the server's address
        return None
    key = (family, scope["scheme"], host, scope.get("root_path", ""), scope["path"],
           scope["query_string"])  # fmt: skip
    return key, none_match_header


def replay(family: str) -> Callable[[Request, Hub], Response | None]:
    """The endpoint's ``early`` answer: a reply kept for this request line, if any."""

    def early(request: Request, hub: Hub) -> Response | None:
        replies = hub.public_cache.replies
        if not len(replies):
            return None
        found = _reply_key(family, request)
        if found is None:
            return None
        key, header = found
        reply = replies.get(key)
        if reply is None:
            return None
        return reply.not_modified if none_match(header, reply.etag) else reply.ok

    return early


def _nothing(item: Any) -> dict[str, Any]:
    raise AssertionError("a cached page renders no items")  # pragma: no cover


async def public_list(
    call: Call[Any],
    family: str,
    filters: tuple[Hashable, ...],
    fetch: Callable[[Conn, PageRequest], Awaitable[Page[T]]],
    render: Callable[[T], dict[str, Any]],
) -> Response:
    """The page of ``family``'s list that ``call`` asks for (``fetch`` reads it on a miss;
    ``filters``: the parsed values it is read with)."""
    cache = call.hub.public_cache
    request = page_request(call.raw)
    key = (family, request.page, request.per_page, *filters)
    # Taken before the read: a page or reply read before a write is not kept after it.
    ticket = cache.ticket(family)
    page = cache.pages.get(key)
    if page is None:
        async with call.hub.db.raw.connect(write=False) as conn:
            found = await fetch(conn, request)
        page = CachedPage.of(orjson.dumps([render(item) for item in found.items]), found.total)
        cache.keep(cache.pages, key, page, ticket)
    headers = call.headers
    headers["ETag"] = page.etag
    body = listing(call.request, Page([], page.total, request), _nothing)
    body["items"] = page.items
    ok = SharedResponse(orjson.dumps(body), media_type="application/json", headers=headers)
    not_modified = SharedResponse(status_code=304, headers=headers)
    if ticket is not None and not call.token:
        replied = _reply_key(family, call.request)
        if replied is not None:
            reply = CachedReply(ok, not_modified, page.etag, len(ok.body))
            cache.keep(cache.replies, replied[0], reply, ticket)
    return not_modified if none_match(call.request.headers.get("if-none-match"), page.etag) else ok
