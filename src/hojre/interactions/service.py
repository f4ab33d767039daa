"""One service for every target and kind.

Each write is settled by the database: a unique key decides whether a mark or view is new,
and the target's counter moves in the same transaction by exactly what the statement changed
(``UPDATE … SET n = n + 1``), so counters always equal the rows, also under parallel requests.

Statements are :class:`~hojre.core.sql.Query` objects built once per target and kind
(``functools.cache`` on the enums), their values bound by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from hojre.accounts.models import Role, User
from hojre.catalog.models import visible
from hojre.core.clock import utcnow
from hojre.core.dialect import upsert_for
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.pagination import Page, PagedQuery, PageRequest
from hojre.core.sql import Conn, Query
from hojre.core.text import plain_text
from hojre.customers.service import note_interaction
from hojre.interactions.errors import CommentNotFound, TargetNotFound
from hojre.interactions.models import Comment, Mark, View
from hojre.interactions.registry import (
    KINDS,
    TARGETS,
    InteractionKind,
    TargetKind,
    rivals,
)

VIEW_DEDUP = timedelta(minutes=30)
COMMENT_TEXT = (2, 2000)
COMMENT_EXTRA_MAX = 1000
COMMENT_SCORE = (1, 5)
COMMENTABLE_ROLES = frozenset({Role.seller, Role.store_manager})


_USER = bindparam("user", type_=Integer)
_TARGET_ID = bindparam("target_id_", type_=Integer)


# -- targets and counters --------------------------------------------------------------------


def _usable(target: TargetKind) -> ColumnElement[bool]:
    """The target row, if it exists and may be interacted with."""
    model = TARGETS[target].model
    if target is TargetKind.user:
        return and_(
            model.id == _TARGET_ID,
            or_(*(model.role == role for role in sorted(COMMENTABLE_ROLES))),
            model.is_active.is_(True),
        )
    return and_(model.id == _TARGET_ID, visible(model))


@cache
def _target_exists(target: TargetKind) -> Query:
    return Query(select(TARGETS[target].model.id).where(_usable(target)))


async def ensure_target(conn: Conn, target: TargetKind, target_id: int) -> None:
    """Raise :class:`TargetNotFound` unless the target exists and may be interacted with."""
    if await conn.one(_target_exists(target), target_id_=target_id) is None:
        raise TargetNotFound


@cache
def _bump_query(target: TargetKind, columns: tuple[str, ...]) -> Query:
    model = TARGETS[target].model
    values: dict[str, Any] = {
        column: getattr(model, column) + bindparam(f"d_{column}", type_=Integer)
        for column in columns
    }
    # A counter moving is not an edit of the record: keep ``updated_at`` (the ORM's onupdate
    # would set it otherwise).
    values["updated_at"] = model.updated_at
    return Query(update(model).where(model.id == _TARGET_ID).values(values))


async def _bump(conn: Conn, target: TargetKind, target_id: int, changes: dict[str, int]) -> None:
    if not TARGETS[target].counted or not changes:
        return
    deltas = {f"d_{column}": delta for column, delta in changes.items()}
    await conn.run(_bump_query(target, tuple(sorted(changes))), target_id_=target_id, **deltas)


async def _written(
    conn: Conn, user_id: int, target: TargetKind, target_id: int, kind: InteractionKind
) -> None:
    """A new interaction was written (its counter moved): the one place it reaches the
    target's store's customers (hojre.customers), in the same transaction."""
    await note_interaction(conn, user_id=user_id, target=target, target_id=target_id, kind=kind)


# -- marks: like, dislike, favourite, notification ------------------------------------------


def _mark_of(target: TargetKind, slot: str) -> Any:
    return and_(
        Mark.user_id == _USER,
        Mark.target == target,
        Mark.target_id == _TARGET_ID,
        Mark.slot == slot,
    )


@cache
def _insert_mark(target: TargetKind, kind: InteractionKind) -> Query:
    """The mark, if the target is usable and the slot free (one statement for both checks)."""
    slot = KINDS[kind].slot
    usable = select(
        _USER, literal(target.value), _TARGET_ID, literal(slot), literal(kind.value),
        bindparam("now", type_=Mark.created_at.type),
    ).where(_usable(target))  # fmt: skip
    columns = ["user_id", "target", "target_id", "slot", "kind", "created_at"]

    def build(dialect: str) -> Any:
        return (
            upsert_for(dialect, Mark)
            .from_select(columns, usable)
            .on_conflict_do_nothing(index_elements=["user_id", "target", "target_id", "slot"])
            .returning(Mark.id)
        )

    return Query(build)


@cache
def _switch_mark(target: TargetKind, kind: InteractionKind) -> Query:
    slot = KINDS[kind].slot
    assert slot is not None
    # Waits for and re-reads a parallel writer's row, so exactly one of two racing switches
    # wins.
    return Query(
        update(Mark)
        .where(_mark_of(target, slot), Mark.kind != kind)
        .values(kind=kind, created_at=bindparam("now"))
        .returning(Mark.id)
    )


async def add_mark(
    conn: Conn,
    *,
    user_id: int,
    target: TargetKind,
    target_id: int,
    kind: InteractionKind,
) -> bool:
    """Add the mark (replacing a rival in its slot). False if it was already there."""
    spec = KINDS[kind]
    assert spec.slot is not None, f"{kind} is not a mark"
    now = utcnow()
    mark = {"user": user_id, "target_id_": target_id, "now": now}
    if await conn.one(_insert_mark(target, kind), **mark) is not None:
        await _bump(conn, target, target_id, {spec.counter: 1})
        await _written(conn, user_id, target, target_id, kind)
        return True
    # Nothing inserted: the target is not usable, or the slot is taken.
    await ensure_target(conn, target, target_id)
    replaced = rivals(kind)
    if not replaced:
        return False
    # The slot holds a rival (or this very kind): switch it in one statement.
    if await conn.one(_switch_mark(target, kind), **mark) is None:
        return False
    # Only one rival per slot exists today (like ↔ dislike).
    await _bump(conn, target, target_id, {spec.counter: 1, KINDS[replaced[0]].counter: -1})
    await _written(conn, user_id, target, target_id, kind)
    return True


@cache
def _delete_mark(target: TargetKind, kind: InteractionKind) -> Query:
    return Query(
        delete(Mark)
        .where(
            Mark.user_id == _USER,
            Mark.target == target,
            Mark.target_id == _TARGET_ID,
            Mark.kind == kind,
        )
        .returning(Mark.id)
    )


async def remove_mark(
    conn: Conn,
    *,
    user_id: int,
    target: TargetKind,
    target_id: int,
    kind: InteractionKind,
) -> bool:
    """Remove the mark; False if there was none."""
    removed = await conn.one(_delete_mark(target, kind), user=user_id, target_id_=target_id)
    if removed is None:
        return False
    await _bump(conn, target, target_id, {KINDS[kind].counter: -1})
    return True


# -- views -----------------------------------------------------------------------------------


@cache
def _count_view(target: TargetKind) -> Query:
    table = View.__table__
    now: Any = bindparam("now")

    def build(dialect: str) -> Any:
        return (
            upsert_for(dialect, View)
            .values(user_id=_USER, target=target, target_id=_TARGET_ID, count=1,
                    created_at=now, viewed_at=now)
            .on_conflict_do_update(
                index_elements=["user_id", "target", "target_id"],
                set_={"count": table.c.count + 1, "viewed_at": now},
                where=table.c.viewed_at <= bindparam("dedup_before"),
            )
            .returning(View.id)
        )  # fmt: skip

    return Query(build)


async def add_view(conn: Conn, *, user_id: int, target: TargetKind, target_id: int) -> bool:
    """Count a view unless the same user viewed the target less than 30 minutes ago."""
    await ensure_target(conn, target, target_id)
    now = utcnow()
    counted = await conn.one(
        _count_view(target), user=user_id, target_id_=target_id, now=now,
        dedup_before=now - VIEW_DEDUP,
    )  # fmt: skip
    if counted is None:
        return False
    await _bump(conn, target, target_id, {KINDS[InteractionKind.view].counter: 1})
    await _written(conn, user_id, target, target_id, InteractionKind.view)
    return True


# -- comments --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommentInput:
    text: str
    pros: str | None = None
    cons: str | None = None
    score: int | None = None


def check_comment(
    text: str | None, pros: str | None, cons: str | None, score: int | None
) -> CommentInput:
    problems: list[FieldProblem] = []
    clean_text = plain_text(text or "")
    low, high = COMMENT_TEXT
    if not clean_text:
        problems.append(FieldProblem("text", Rule.required))
    elif len(clean_text) < low:
        problems.append(FieldProblem("text", Rule.too_short, low))
    elif len(clean_text) > high:
        problems.append(FieldProblem("text", Rule.too_long, high))
    extras: dict[str, str | None] = {}
    for name, value in (("pros", pros), ("cons", cons)):
        cleaned = plain_text(value or "") or None
        if cleaned is not None and len(cleaned) > COMMENT_EXTRA_MAX:
            problems.append(FieldProblem(name, Rule.too_long, COMMENT_EXTRA_MAX))
        extras[name] = cleaned
    lowest, highest = COMMENT_SCORE
    if score is not None and not lowest <= score <= highest:
        problems.append(FieldProblem("score", Rule.out_of_range, highest, low=lowest))
        score = None
    if problems:
        raise ValidationFailed(problems)
    return CommentInput(clean_text, extras["pros"], extras["cons"], score)


_NEW_COMMENT = Query(
    insert(Comment)
    .values(user_id=_USER, target=bindparam("target_"), target_id=_TARGET_ID,
            text=bindparam("body"), pros=bindparam("pros_"), cons=bindparam("cons_"),
            score=bindparam("score_", type_=Integer), visible=True,
            created_at=bindparam("now"))
    .returning(Comment.id)
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NewComment:
    id: int


async def add_comment(
    conn: Conn,
    *,
    user_id: int,
    target: TargetKind,
    target_id: int,
    comment: CommentInput,
) -> NewComment:
    await ensure_target(conn, target, target_id)
    row = await conn.one(
        _NEW_COMMENT, user=user_id, target_=target, target_id_=target_id, body=comment.text,
        pros_=comment.pros, cons_=comment.cons, score_=comment.score, now=utcnow(),
    )  # fmt: skip
    assert row is not None  # INSERT … RETURNING
    await _bump(conn, target, target_id, _comment_delta(comment.score, +1))
    await _written(conn, user_id, target, target_id, InteractionKind.comment)
    return NewComment(id=int(row[0]))


def _comment_delta(score: int | None, sign: int) -> dict[str, int]:
    changes = {KINDS[InteractionKind.comment].counter: sign}
    if score is not None:
        changes["score_total"] = sign * score
        changes["score_count"] = sign
    return changes


def _unlist(condition: Any) -> Query:
    return Query(
        update(Comment)
        .where(condition, Comment.visible.is_(True))
        .values(visible=False)
        .returning(Comment.target, Comment.target_id, Comment.score)
    )


_COMMENT_ID = bindparam("comment", type_=Integer)
_UNLIST_OWN = _unlist(and_(Comment.id == _COMMENT_ID, Comment.user_id == _USER))
_UNLIST_ANY = _unlist(Comment.id == _COMMENT_ID)


async def _unlist_comment(conn: Conn, query: Query, **params: Any) -> bool:
    """Hide a visible comment and take it out of the counters."""
    row = await conn.one(query, **params)
    if row is None:
        return False
    target, target_id, score = row
    await _bump(conn, TargetKind(target), target_id, _comment_delta(score, -1))
    return True


async def delete_comment(conn: Conn, *, user_id: int, comment_id: int) -> None:
    """The author removes their comment (kept hidden, out of lists and counters)."""
    if not await _unlist_comment(conn, _UNLIST_OWN, comment=comment_id, user=user_id):
        raise CommentNotFound


async def hide_comment(conn: Conn, *, comment_id: int) -> bool:
    """Moderation: hide any comment."""
    return await _unlist_comment(conn, _UNLIST_ANY, comment=comment_id)


# -- "is true" -------------------------------------------------------------------------------


@cache
def _has(target: TargetKind, kind: InteractionKind) -> Query:
    if kind is InteractionKind.view:
        query = select(View.id).where(
            View.user_id == _USER, View.target == target, View.target_id == _TARGET_ID
        )
    elif kind is InteractionKind.comment:
        query = select(Comment.id).where(
            Comment.user_id == _USER,
            Comment.target == target,
            Comment.target_id == _TARGET_ID,
            Comment.visible.is_(True),
        )
    else:
        query = select(Mark.id).where(
            Mark.user_id == _USER,
            Mark.target == target,
            Mark.target_id == _TARGET_ID,
            Mark.kind == kind,
        )
    return Query(query.limit(1))


async def has_interaction(
    conn: Conn,
    *,
    user_id: int,
    target: TargetKind,
    target_id: int,
    kind: InteractionKind,
) -> bool:
    return await conn.one(_has(target, kind), user=user_id, target_id_=target_id) is not None


# -- lists -----------------------------------------------------------------------------------


class ActivityItem(NamedTuple):
    """One of the caller's marks or views, with the target's title and image joined."""

    id: int
    user_id: int
    target_id: int
    date: datetime
    title: str | None
    image: str | None


class CommentItem(NamedTuple):
    id: int
    user_id: int
    target_id: int
    date: datetime
    text: str
    pros: str | None
    cons: str | None
    score: int | None
    author_name: str | None
    author_family: str | None
    author_avatar: str | None


@cache
def _activity(target: TargetKind, kind: InteractionKind) -> PagedQuery:
    spec = TARGETS[target]
    model = spec.model
    if kind is InteractionKind.view:
        return PagedQuery.of(
            select(View.id, View.user_id, View.target_id, View.viewed_at, spec.title, spec.image)
            .outerjoin(model, model.id == View.target_id),
            counting=View, where=[View.user_id == _USER, View.target == target],
            order=[View.viewed_at.desc(), View.id.desc()],
        )  # fmt: skip
    return PagedQuery.of(
        select(Mark.id, Mark.user_id, Mark.target_id, Mark.created_at, spec.title, spec.image)
        .outerjoin(model, model.id == Mark.target_id),
        counting=Mark, where=[Mark.user_id == _USER, Mark.target == target, Mark.kind == kind],
        order=[Mark.id.desc()],
    )  # fmt: skip


async def list_activity(
    conn: Conn,
    *,
    user_id: int,
    target: TargetKind,
    kind: InteractionKind,
    page: PageRequest,
) -> Page[ActivityItem]:
    """The caller's marks or views of one target kind, newest first: one statement."""
    return await _activity(target, kind).fetch(conn, page, ActivityItem._make, user=user_id)


def comment_rows(target: TargetKind, condition: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """Visible comments on ``target`` kind matching ``condition``, newest first, as
    :class:`CommentItem` columns (the lists' and the composites')."""
    return (
        select(
            Comment.id,
            Comment.user_id,
            Comment.target_id,
            Comment.created_at,
            Comment.text,
            Comment.pros,
            Comment.cons,
            Comment.score,
            User.name,
            User.family,
            User.avatar,
        )
        .join(User, User.id == Comment.user_id)
        .where(Comment.target == target, Comment.visible.is_(True), condition)
        .order_by(Comment.id.desc())
    )


@cache
def _comments(target: TargetKind, by: str) -> PagedQuery:
    """Visible comments on one target (``by`` "target") or by one user ("user")."""
    condition = Comment.target_id == _TARGET_ID if by == "target" else Comment.user_id == _USER
    where = and_(Comment.target == target, Comment.visible.is_(True), condition)
    return PagedQuery(
        comment_rows(target, condition), select(func.count()).select_from(Comment).where(where)
    )


async def list_comments(
    conn: Conn,
    *,
    target: TargetKind,
    page: PageRequest,
    target_id: int | None = None,
    user_id: int | None = None,
) -> Page[CommentItem]:
    """Visible comments on one target, or by one user on a target kind: one statement (two
    for an empty page)."""
    if target_id is not None:
        return await _comments(target, "target").fetch(conn, page, CommentItem._make,
                                                       target_id_=target_id)  # fmt: skip
    assert user_id is not None, "a target or a user"
    return await _comments(target, "user").fetch(conn, page, CommentItem._make, user=user_id)
