"""One service for every target and kind.

Each write is settled by the database: a unique key decides whether a mark or view is new,
and the target's counter moves in the same transaction by exactly what the statement changed
(``UPDATE … SET n = n + 1``), so counters always equal the rows, also under parallel requests.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.accounts.models import Role, User
from hojre.catalog.models import visible
from hojre.core.clock import utcnow
from hojre.core.dialect import upsert
from hojre.core.errors import ValidationFailed
from hojre.core.pagination import Page, PageRequest
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
COMMENTABLE_ROLES = frozenset({Role.seller, Role.store_manager})


# -- targets and counters --------------------------------------------------------------------


async def ensure_target(session: AsyncSession, target: TargetKind, target_id: int) -> None:
    """Raise :class:`TargetNotFound` unless the target exists and may be interacted with."""
    spec = TARGETS[target]
    model = spec.model
    if target is TargetKind.user:
        condition = and_(
            model.id == target_id, model.role.in_(COMMENTABLE_ROLES), model.is_active.is_(True)
        )
    else:
        condition = and_(model.id == target_id, visible(model))
    if await session.scalar(select(model.id).where(condition)) is None:
        raise TargetNotFound


async def _bump(
    session: AsyncSession, target: TargetKind, target_id: int, changes: dict[str, int]
) -> None:
    spec = TARGETS[target]
    if not spec.counted or not changes:
        return
    model = spec.model
    values = {column: getattr(model, column) + delta for column, delta in changes.items()}
    # A counter moving is not an edit of the record: keep ``updated_at`` (the ORM's onupdate
    # would set it otherwise).
    values["updated_at"] = model.updated_at
    await session.execute(update(model).where(model.id == target_id).values(values))


# -- marks: like, dislike, favourite, notification ------------------------------------------


async def add_mark(
    session: AsyncSession,
    *,
    user_id: int,
    target: TargetKind,
    target_id: int,
    kind: InteractionKind,
) -> bool:
    """Add the mark (replacing a rival in its slot). False if it was already there."""
    spec = KINDS[kind]
    assert spec.slot is not None, f"{kind} is not a mark"
    await ensure_target(session, target, target_id)
    inserted = await session.execute(
        upsert(session, Mark)
        .values(
            user_id=user_id,
            target=target,
            target_id=target_id,
            slot=spec.slot,
            kind=kind,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "target", "target_id", "slot"])
        .returning(Mark.id)
    )
    if inserted.scalar() is not None:
        await _bump(session, target, target_id, {spec.counter: 1})
        return True
    replaced = rivals(kind)
    if not replaced:
        return False
    # The slot holds a rival (or this very kind): switch it in one statement, which waits for
    # and re-reads a parallel writer's row, so exactly one of two racing switches wins.
    switched = await session.execute(
        update(Mark)
        .where(
            Mark.user_id == user_id,
            Mark.target == target,
            Mark.target_id == target_id,
            Mark.slot == spec.slot,
            Mark.kind != kind,
        )
        .values(kind=kind, created_at=utcnow())
        .returning(Mark.id, Mark.kind)
    )
    if switched.first() is None:
        return False
    # Only one rival per slot exists today (like ↔ dislike).
    await _bump(session, target, target_id, {spec.counter: 1, KINDS[replaced[0]].counter: -1})
    return True


async def remove_mark(
    session: AsyncSession,
    *,
    user_id: int,
    target: TargetKind,
    target_id: int,
    kind: InteractionKind,
) -> bool:
    """Remove the mark; False if there was none."""
    removed = await session.execute(
        delete(Mark)
        .where(
            Mark.user_id == user_id,
            Mark.target == target,
            Mark.target_id == target_id,
            Mark.kind == kind,
        )
        .returning(Mark.id)
    )
    if removed.scalar() is None:
        return False
    await _bump(session, target, target_id, {KINDS[kind].counter: -1})
    return True


# -- views -----------------------------------------------------------------------------------


async def add_view(
    session: AsyncSession, *, user_id: int, target: TargetKind, target_id: int
) -> bool:
    """Count a view unless the same user viewed the target less than 30 minutes ago."""
    await ensure_target(session, target, target_id)
    now = utcnow()
    table = View.__table__
    counted = await session.execute(
        upsert(session, View)
        .values(
            user_id=user_id,
            target=target,
            target_id=target_id,
            count=1,
            created_at=now,
            viewed_at=now,
        )
        .on_conflict_do_update(
            index_elements=["user_id", "target", "target_id"],
            set_={"count": table.c.count + 1, "viewed_at": now},
            where=table.c.viewed_at <= now - VIEW_DEDUP,
        )
        .returning(View.id)
    )
    if counted.scalar() is None:
        return False
    await _bump(session, target, target_id, {KINDS[InteractionKind.view].counter: 1})
    return True


# -- comments --------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_text(value: str) -> str:
    """Comments are plain text: tags dropped, entities decoded, control characters removed."""
    return _CONTROL.sub("", html.unescape(_TAG.sub("", value))).strip()


@dataclass(frozen=True, slots=True)
class CommentInput:
    text: str
    pros: str | None = None
    cons: str | None = None
    score: int | None = None


def check_comment(
    text: str | None, pros: str | None, cons: str | None, score: str | int | None
) -> CommentInput:
    from hojre.core.text import parse_int

    problems: list[str] = []
    clean_text = plain_text(text or "")
    low, high = COMMENT_TEXT
    if not clean_text:
        problems.append("Text cannot be blank.")
    elif len(clean_text) < low:
        problems.append(f"Text should contain at least {low} characters.")
    elif len(clean_text) > high:
        problems.append(f"Text should contain at most {high} characters.")
    extras: dict[str, str | None] = {}
    for name, value in (("pros", pros), ("cons", cons)):
        cleaned = plain_text(value or "") or None
        if cleaned is not None and len(cleaned) > COMMENT_EXTRA_MAX:
            problems.append(
                f"{name.capitalize()} should contain at most {COMMENT_EXTRA_MAX} characters."
            )
        extras[name] = cleaned
    clean_score: int | None = None
    if score not in (None, ""):
        clean_score = parse_int(score)
        if clean_score is None:
            problems.append("Score must be an integer.")
        elif not 1 <= clean_score <= 5:
            problems.append("Score must be between 1 and 5.")
            clean_score = None
    if problems:
        raise ValidationFailed(problems)
    return CommentInput(clean_text, extras["pros"], extras["cons"], clean_score)


async def add_comment(
    session: AsyncSession,
    *,
    user_id: int,
    target: TargetKind,
    target_id: int,
    comment: CommentInput,
) -> Comment:
    await ensure_target(session, target, target_id)
    row = Comment(
        user_id=user_id,
        target=target,
        target_id=target_id,
        text=comment.text,
        pros=comment.pros,
        cons=comment.cons,
        score=comment.score,
        visible=True,
    )
    session.add(row)
    await session.flush()
    await _bump(session, target, target_id, _comment_delta(row, +1))
    return row


def _comment_delta(comment: Comment, sign: int) -> dict[str, int]:
    changes = {KINDS[InteractionKind.comment].counter: sign}
    if comment.score is not None:
        changes["score_total"] = sign * comment.score
        changes["score_count"] = sign
    return changes


async def _unlist_comment(session: AsyncSession, condition: Any) -> bool:
    """Hide a visible comment matching ``condition`` and take it out of the counters."""
    hidden = await session.execute(
        update(Comment)
        .where(condition, Comment.visible.is_(True))
        .values(visible=False)
        .returning(Comment.target, Comment.target_id, Comment.score)
    )
    row = hidden.first()
    if row is None:
        return False
    target, target_id, score = row
    probe = Comment(score=score)
    await _bump(session, TargetKind(target), target_id, _comment_delta(probe, -1))
    return True


async def delete_comment(session: AsyncSession, *, user_id: int, comment_id: int) -> None:
    """The author removes their comment (kept hidden, out of lists and counters)."""
    if not await _unlist_comment(
        session, and_(Comment.id == comment_id, Comment.user_id == user_id)
    ):
        raise CommentNotFound


async def hide_comment(session: AsyncSession, *, comment_id: int) -> bool:
    """Moderation: hide any comment."""
    return await _unlist_comment(session, Comment.id == comment_id)


# -- "is true" -------------------------------------------------------------------------------


async def has_interaction(
    session: AsyncSession,
    *,
    user_id: int,
    target: TargetKind,
    target_id: int,
    kind: InteractionKind,
) -> bool:
    if kind is InteractionKind.view:
        query = select(View.id).where(
            View.user_id == user_id, View.target == target, View.target_id == target_id
        )
    elif kind is InteractionKind.comment:
        query = select(Comment.id).where(
            Comment.user_id == user_id,
            Comment.target == target,
            Comment.target_id == target_id,
            Comment.visible.is_(True),
        )
    else:
        query = select(Mark.id).where(
            Mark.user_id == user_id,
            Mark.target == target,
            Mark.target_id == target_id,
            Mark.kind == kind,
        )
    return await session.scalar(query.limit(1)) is not None


# -- lists -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityItem:
    """One of the caller's marks or views, with the target's title and image joined."""

    id: int
    user_id: int
    target_id: int
    date: datetime
    title: str | None
    image: str | None


@dataclass(frozen=True, slots=True)
class CommentItem:
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


async def list_activity(
    session: AsyncSession,
    *,
    user_id: int,
    target: TargetKind,
    kind: InteractionKind,
    page: PageRequest,
) -> Page[ActivityItem]:
    """The caller's marks or views of one target kind, newest first: two statements."""
    spec = TARGETS[target]
    model = spec.model
    if kind is InteractionKind.view:
        where = and_(View.user_id == user_id, View.target == target)
        total = await session.scalar(select(func.count()).select_from(View).where(where))
        query = (
            select(View.id, View.user_id, View.target_id, View.viewed_at, spec.title, spec.image)
            .outerjoin(model, model.id == View.target_id)
            .where(where)
            .order_by(View.viewed_at.desc(), View.id.desc())
        )
    else:
        where = and_(Mark.user_id == user_id, Mark.target == target, Mark.kind == kind)
        total = await session.scalar(select(func.count()).select_from(Mark).where(where))
        query = (
            select(Mark.id, Mark.user_id, Mark.target_id, Mark.created_at, spec.title, spec.image)
            .outerjoin(model, model.id == Mark.target_id)
            .where(where)
            .order_by(Mark.id.desc())
        )
    rows = (await session.execute(query.offset(page.offset).limit(page.limit))).all()
    return Page(items=[ActivityItem(*row) for row in rows], total=int(total or 0), request=page)


async def list_comments(
    session: AsyncSession,
    *,
    target: TargetKind,
    page: PageRequest,
    target_id: int | None = None,
    user_id: int | None = None,
) -> Page[CommentItem]:
    """Visible comments on one target, or by one user on a target kind: two statements."""
    conditions = [Comment.target == target, Comment.visible.is_(True)]
    if target_id is not None:
        conditions.append(Comment.target_id == target_id)
    if user_id is not None:
        conditions.append(Comment.user_id == user_id)
    where = and_(*conditions)
    total = await session.scalar(select(func.count()).select_from(Comment).where(where))
    query = (
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
        .where(where)
        .order_by(Comment.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    )
    rows = (await session.execute(query)).all()
    return Page(items=[CommentItem(*row) for row in rows], total=int(total or 0), request=page)
