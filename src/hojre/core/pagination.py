"""Offset paging shared by every list (the v1 adapter renders it Yii2-style)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute

from hojre.core.sql import Conn, Query

T = TypeVar("T")

MAX_PER_PAGE = 300
# The last page a request can name (18 digits, as parse_int reads): a bigger number is this
# page, past the end of every list, not page 1.
MAX_PAGE = 10**18 - 1
# OFFSET is a signed 64-bit integer on SQLite and PostgreSQL; a page number may be any digits.
MAX_OFFSET = 2**63 - 1


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1  # 1-based
    per_page: int = MAX_PER_PAGE

    @property
    def offset(self) -> int:
        """Capped, so a huge page asks for nothing instead of overflowing the database."""
        return min((self.page - 1) * self.per_page, MAX_OFFSET)

    @property
    def limit(self) -> int:
        return self.per_page


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    request: PageRequest

    @property
    def page_count(self) -> int:
        return -(-self.total // self.request.per_page) if self.total else 0


class PagedQuery:
    """A list for :mod:`hojre.core.sql`: one statement returns the page and the total (an
    uncorrelated subquery, evaluated once); the count runs alone only for an empty page.

    ``rows`` is the ordered list query, ``count`` the matching ``SELECT count(*)``; both may use
    the same bind parameters, given to :meth:`fetch` by name.
    """

    __slots__ = ("count", "page")

    def __init__(self, rows: Select[*tuple[Any, ...]], count: Select[Any]) -> None:
        self.count = Query(count)
        self.page = Query(
            rows.add_columns(count.scalar_subquery().label("total"))
            .offset(bindparam("offset"))
            .limit(bindparam("limit"))
        )

    @classmethod
    def of(
        cls,
        rows: Select[*tuple[Any, ...]],
        *,
        counting: Any,
        where: Sequence[ColumnElement[bool]] = (),
        order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    ) -> PagedQuery:
        """The usual list: ``rows`` matching ``where`` in ``order``, and as its total the
        rows of the table ``counting`` matching the same ``where`` (no joins to count)."""
        return cls(
            rows.where(*where).order_by(*order),
            select(func.count()).select_from(counting).where(*where),
        )

    async def fetch(
        self, conn: Conn, page: PageRequest, make: Callable[[Iterable[Any]], T], **params: Any
    ) -> Page[T]:
        """``make``: an item from a row's values (a NamedTuple's ``_make``)."""
        rows = await conn.all(self.page, offset=page.offset, limit=page.limit, **params)
        if rows:
            total = int(rows[0][-1])
        else:
            found = await conn.one(self.count, **params)
            total = int(found[0]) if found is not None else 0
        return Page(items=[make(row[:-1]) for row in rows], total=total, request=page)
