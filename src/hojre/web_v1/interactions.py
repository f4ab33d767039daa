"""v1 customer interactions (API.md §3), generated from the target and kind registry.

The contract's wire names (``bazzar``, ``likeDate``) and success messages live here (its
refusals, ``"Not notifcation"`` and the others, in :mod:`hojre.web_v1.messages`); the service
below speaks :class:`TargetKind` and :class:`InteractionKind`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hojre.core.clock import to_unix
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.text import full_name, parse_int
from hojre.interactions import service
from hojre.interactions.errors import InvalidKind, InvalidTarget, NotDone, TargetNotFound
from hojre.interactions.registry import (
    CATALOG_TARGETS,
    MARK_KINDS,
    InteractionKind,
    TargetKind,
)
from hojre.interactions.service import ActivityItem, CommentItem
from hojre.web_v1.endpoint import Call, Handler, SenderLimit, V1Params, V1Router, param
from hojre.web_v1.envelopes import avatar, listing, ok, page_request
from hojre.web_v1.messages import NotLoginCapital
from hojre.web_v1.params import NO_ID, wire_id

router = V1Router("interactions")

# -- the contract's names --------------------------------------------------------------------

WIRE_TARGET = {
    TargetKind.bazaar: "bazzar",
    TargetKind.mall: "mall",
    TargetKind.store: "store",
    TargetKind.product: "product",
    TargetKind.user: "user",
}
TARGET_OF_WIRE = {wire: target for target, wire in WIRE_TARGET.items()}
# The key naming the target in a comment item: users are "target" (seed #10).
COMMENT_TARGET_KEY = {**{t: WIRE_TARGET[t] for t in CATALOG_TARGETS}, TargetKind.user: "target"}
LIST_SUFFIX = {
    InteractionKind.comment: "comments",
    InteractionKind.notification: "notifications",
    InteractionKind.like: "likes",
    InteractionKind.dislike: "dislikes",
    InteractionKind.favorite: "favorites",
    InteractionKind.view: "views",
}
ADDED = {
    InteractionKind.comment: "Comment Added",
    InteractionKind.notification: "Notification Added",
    InteractionKind.like: "Liked",
    InteractionKind.dislike: "Disliked",
    InteractionKind.favorite: "Favorited",
    InteractionKind.view: "Viewed",
}
# The success of delete-<kind> and of is-true (their "no" is NotDone's, in web_v1.messages).
DELETED = {
    InteractionKind.favorite: "Favorite Deleted",
    InteractionKind.notification: "Notification Deleted",
    InteractionKind.like: "Like Deleted",
    InteractionKind.dislike: "Dislike Deleted",
}
IS_TRUE = {
    InteractionKind.like: "Liked",
    InteractionKind.dislike: "Disliked",
    InteractionKind.view: "Viewed",
    InteractionKind.comment: "Commented",
    InteractionKind.notification: "Notified",
    InteractionKind.favorite: "Favorited",
}


def parse_target(raw: str | None, *, allow_user: bool = False) -> TargetKind:
    target = TARGET_OF_WIRE.get(raw or "")
    if target is None or (target is TargetKind.user and not allow_user):
        raise InvalidTarget
    return target


def parse_target_id(raw: str | None) -> int:
    value = wire_id(raw)
    if value == NO_ID:
        raise TargetNotFound
    return value


# -- lists -----------------------------------------------------------------------------------


class OwnList(V1Params):
    paged = True


class CommentList(V1Params):
    paged = True
    id: str | None = param(
        "A target id: every visible comment on it (no login needed). Without it: the "
        "caller's own comments.",
        type="integer",
    )


def render_activity(
    target: TargetKind, kind: InteractionKind
) -> Callable[[ActivityItem], dict[str, Any]]:
    target_key, date_key = WIRE_TARGET[target], f"{kind}Date"

    def render(item: ActivityItem) -> dict[str, Any]:
        return {
            "id": item.id,
            "user": item.user_id,
            target_key: item.target_id,
            date_key: to_unix(item.date),
            "title": item.title,
            "image": item.image,
        }

    return render


def render_comment(target: TargetKind) -> Callable[[CommentItem], dict[str, Any]]:
    target_key = COMMENT_TARGET_KEY[target]

    def render(item: CommentItem) -> dict[str, Any]:
        return {
            "id": item.id,
            "user": item.user_id,
            target_key: item.target_id,
            "commentDate": to_unix(item.date),
            "text": item.text,
            "pros": item.pros,
            "cons": item.cons,
            "userTitle": full_name(item.author_name, item.author_family),
            "avatar": avatar(item.author_avatar),
            "score": item.score,
        }

    return render


def comment_list(target: TargetKind) -> Handler:
    async def handler(call: Call[CommentList]) -> dict[str, Any]:
        page = page_request(call.raw)
        if call.params.id:
            result = await service.list_comments(
                call.conn, target=target, page=page, target_id=wire_id(call.params.id)
            )
        else:
            me = await call.login()
            result = await service.list_comments(call.conn, target=target, page=page, user_id=me.id)
        return listing(call.request, result, render_comment(target))

    return handler


def activity_list(target: TargetKind, kind: InteractionKind) -> Handler:
    async def handler(call: Call[OwnList]) -> dict[str, Any]:
        result = await service.list_activity(
            call.conn, user_id=call.me.id, target=target, kind=kind,
            page=page_request(call.raw),
        )  # fmt: skip
        return listing(call.request, result, render_activity(target, kind))

    return handler


for _target in (*CATALOG_TARGETS, TargetKind.user):
    _wire = WIRE_TARGET[_target]
    router.get(
        f"/{_wire}-user-comments",
        CommentList,
        summary=f"Comments on a {_wire} (with id), or the caller's own",
    )(comment_list(_target))
    if _target is TargetKind.user:
        continue  # users take comments only
    for _kind in (*MARK_KINDS, InteractionKind.view):
        router.get(
            f"/{_wire}-user-{LIST_SUFFIX[_kind]}",
            OwnList,
            auth=True,
            summary=f"The caller's {LIST_SUFFIX[_kind]} of {_wire}s, newest first",
        )(activity_list(_target, _kind))


# -- actions ---------------------------------------------------------------------------------


class TargetParams(V1Params):
    target: str | None = param(
        "bazzar, mall, store or product.",
        required=True,
        enum=["bazzar", "mall", "store", "product"],
    )
    id: str | None = param("The target's id.", required=True, type="integer")


class CommentParams(V1Params):
    target: str | None = param(
        "bazzar, mall, store, product, or user (a seller or store manager).", required=True,
        enum=["bazzar", "mall", "store", "product", "user"],
    )  # fmt: skip
    id: str | None = param("The target's id.", required=True, type="integer")
    text: str | None = param("Plain text, 2–2000 characters.", required=True)
    pros: str | None = param("Good points (optional).")
    cons: str | None = param("Bad points (optional).")
    score: str | None = param("1–5 (optional).", type="integer", minimum=1, maximum=5)


@router.post("/user/add-comment", CommentParams, auth=True, sender_limit=SenderLimit.comments,
             summary="Comment on a target")  # fmt: skip
async def add_comment(call: Call[CommentParams]) -> dict[str, Any]:
    p = call.params
    target = parse_target(p.target, allow_user=True)
    target_id = parse_target_id(p.id)
    score = parse_int(p.score) if p.score else None
    # A score that is no number is the wire's problem, reported last as the service's are.
    unreadable = [FieldProblem("score", Rule.not_integer)] if p.score and score is None else []
    try:
        comment = service.check_comment(p.text, p.pros, p.cons, score)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.problems + unreadable) from None
    if unreadable:
        raise ValidationFailed(unreadable)
    row = await service.add_comment(
        call.conn, user_id=call.me.id, target=target, target_id=target_id, comment=comment
    )
    return ok(ADDED[InteractionKind.comment], {"id": row.id})


def add_action(kind: InteractionKind) -> Handler:
    async def handler(call: Call[TargetParams]) -> dict[str, Any]:
        target = parse_target(call.params.target)
        target_id = parse_target_id(call.params.id)
        if kind is InteractionKind.view:
            await service.add_view(
                call.conn, user_id=call.me.id, target=target, target_id=target_id
            )
        else:
            await service.add_mark(
                call.conn, user_id=call.me.id, target=target, target_id=target_id, kind=kind
            )
        # Repeats are successes: mobile clients retry.
        return ok(ADDED[kind])

    return handler


def delete_action(kind: InteractionKind) -> Handler:
    deleted = DELETED[kind]

    async def handler(call: Call[TargetParams]) -> dict[str, Any]:
        target = parse_target(call.params.target)
        target_id = wire_id(call.params.id)
        if not await service.remove_mark(
            call.conn, user_id=call.me.id, target=target, target_id=target_id, kind=kind
        ):
            raise NotDone(kind)
        return ok(deleted)

    return handler


for _kind in (*MARK_KINDS, InteractionKind.view):
    router.post(
        f"/user/add-{_kind}", TargetParams, auth=True, summary=f"{ADDED[_kind]}: add a {_kind}"
    )(add_action(_kind))
for _kind in MARK_KINDS:
    router.post(
        f"/user/delete-{_kind}", TargetParams, auth=True, summary=f"Remove the caller's {_kind}"
    )(delete_action(_kind))


class DeleteCommentParams(V1Params):
    id: str | None = param("The comment's id (one of the caller's own).", required=True,
                           type="integer")  # fmt: skip
    target: str | None = param("Ignored; accepted for symmetry with the other actions.")


@router.post("/user/delete-comment", DeleteCommentParams, auth=True,
             summary="Delete one of the caller's comments")  # fmt: skip
async def delete_comment(call: Call[DeleteCommentParams]) -> dict[str, Any]:
    await service.delete_comment(call.conn, user_id=call.me.id, comment_id=wire_id(call.params.id))
    return ok("Comment Deleted")


class IsTrueParams(TargetParams):
    type: str | None = param(
        "like, dislike, view, comment, notification or favorite.", required=True,
        enum=[k.value for k in IS_TRUE],
    )  # fmt: skip


@router.post("/user/is-true", IsTrueParams, auth=True, not_logged_in=NotLoginCapital,
             summary="Has the caller done this to the target?")  # fmt: skip
async def is_true(call: Call[IsTrueParams]) -> dict[str, Any]:
    target = parse_target(call.params.target)
    try:
        kind = InteractionKind(call.params.type or "")
    except ValueError:
        raise InvalidKind from None
    found = await service.has_interaction(
        call.conn, user_id=call.me.id, target=target,
        target_id=wire_id(call.params.id), kind=kind,
    )  # fmt: skip
    if not found:
        raise NotDone(kind)
    return ok(IS_TRUE[kind])
