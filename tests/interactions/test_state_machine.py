"""Random interaction sequences against a simple model (Hypothesis state machine).

Runs the service directly (no HTTP) on each backend; after every step the counters of every
target equal both the model and the rows in the database.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from hojre.accounts.models import Role, User
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from hojre.interactions import service
from hojre.interactions.models import Comment, Mark, View
from hojre.interactions.registry import (
    CATALOG_TARGETS,
    KINDS,
    MARK_KINDS,
    TARGETS,
    InteractionKind,
    TargetKind,
    rivals,
)
from tests.conftest import _truncate, make_settings
from tests.interactions.conftest import make_targets

USERS = 3
COUNTED = ("viewed", "liked", "disliked", "comments_count", "favorite_count",
           "notification_count", "score_total", "score_count")  # fmt: skip


class Interactions(RuleBasedStateMachine):
    db_url: str = ""
    sms_path: Path = Path()

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.hub = Hub.from_settings(make_settings(self.db_url, self.sms_path))
        self.run(_truncate(self.hub))
        ids, _ = self.run(make_targets(self.hub))
        self.targets = {t: ids[t] for t in CATALOG_TARGETS}
        self.users = self.run(self._users())
        # The model: which marks each (user, target) holds, views seen, visible comments.
        self.marks: set[tuple[int, TargetKind, InteractionKind]] = set()
        self.viewed: set[tuple[int, TargetKind]] = set()
        self.comments: dict[int, tuple[int, TargetKind, int | None]] = {}

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def _users(self) -> list[int]:
        async with self.hub.db.unit_of_work(write=True) as session:
            users = [User(cellphone=f"0914{i:07d}", password_hash="!", is_active=True,
                          role=Role.customer) for i in range(USERS)]  # fmt: skip
            session.add_all(users)
            await session.flush()
            return [u.id for u in users]

    def teardown(self) -> None:
        self.run(_truncate(self.hub))
        self.run(self.hub.aclose())
        self.loop.close()

    @rule(user=st.integers(0, USERS - 1), place=st.sampled_from(CATALOG_TARGETS),
          kind=st.sampled_from(MARK_KINDS))  # fmt: skip
    def add_mark(self, user: int, place: TargetKind, kind: InteractionKind) -> None:
        uid, target = self.users[user], place

        async def step() -> None:
            async with self.hub.db.unit_of_work(write=True) as session:
                await service.add_mark(SessionConn(session), user_id=uid, target=target,
                                       target_id=self.targets[target], kind=kind)  # fmt: skip

        self.run(step())
        for rival in rivals(kind):
            self.marks.discard((uid, target, rival))
        self.marks.add((uid, target, kind))

    @rule(user=st.integers(0, USERS - 1), place=st.sampled_from(CATALOG_TARGETS),
          kind=st.sampled_from(MARK_KINDS))  # fmt: skip
    def remove_mark(self, user: int, place: TargetKind, kind: InteractionKind) -> None:
        uid, target = self.users[user], place

        async def step() -> bool:
            async with self.hub.db.unit_of_work(write=True) as session:
                return await service.remove_mark(
                    SessionConn(session),
                    user_id=uid,
                    target=target,
                    target_id=self.targets[target],
                    kind=kind,
                )

        removed = self.run(step())
        assert removed == ((uid, target, kind) in self.marks)
        self.marks.discard((uid, target, kind))

    @rule(user=st.integers(0, USERS - 1), place=st.sampled_from(CATALOG_TARGETS))
    def view(self, user: int, place: TargetKind) -> None:
        uid, target = self.users[user], place

        async def step() -> bool:
            async with self.hub.db.unit_of_work(write=True) as session:
                return await service.add_view(SessionConn(session), user_id=uid, target=target,
                                              target_id=self.targets[target])  # fmt: skip

        counted = self.run(step())
        assert counted == ((uid, target) not in self.viewed)  # repeats within 30 min: no
        self.viewed.add((uid, target))

    @rule(user=st.integers(0, USERS - 1), place=st.sampled_from(CATALOG_TARGETS),
          score=st.none() | st.integers(1, 5))  # fmt: skip
    def comment(self, user: int, place: TargetKind, score: int | None) -> None:
        uid, target = self.users[user], place

        async def step() -> int:
            async with self.hub.db.unit_of_work(write=True) as session:
                row = await service.add_comment(
                    SessionConn(session),
                    user_id=uid, target=target, target_id=self.targets[target],
                    comment=service.CommentInput("نظر", score=score),
                )  # fmt: skip
                return row.id

        self.comments[self.run(step())] = (uid, target, score)

    @rule(data=st.data())
    def delete_comment(self, data: st.DataObject) -> None:
        if not self.comments:
            return
        comment_id = data.draw(st.sampled_from(sorted(self.comments)))
        uid = self.comments.pop(comment_id)[0]

        async def step() -> None:
            async with self.hub.db.unit_of_work(write=True) as session:
                await service.delete_comment(
                    SessionConn(session), user_id=uid, comment_id=comment_id
                )

        self.run(step())

    def expected(self, target: TargetKind) -> dict[str, int]:
        marks = Counter(kind for _, t, kind in self.marks if t is target)
        scores = [s for _, t, s in self.comments.values() if t is target and s is not None]
        values = {KINDS[k].counter: marks[k] for k in MARK_KINDS}
        return {
            **values,
            "viewed": sum(1 for _, t in self.viewed if t is target),
            "comments_count": sum(1 for _, t, _s in self.comments.values() if t is target),
            "score_total": sum(scores),
            "score_count": len(scores),
        }

    async def _observed(self) -> dict[TargetKind, tuple[dict[str, int], dict[str, int]]]:
        found = {}
        async with self.hub.db.unit_of_work(write=False) as session:
            for target, target_id in self.targets.items():
                model = TARGETS[target].model
                row = await session.scalar(select(model).where(model.id == target_id))
                stored = {name: getattr(row, name) for name in COUNTED}
                marks = dict((await session.execute(
                    select(Mark.kind, func.count()).where(Mark.target == target)
                    .group_by(Mark.kind))).all())  # fmt: skip
                views = await session.scalar(
                    select(func.coalesce(func.sum(View.count), 0)).where(View.target == target)
                )
                comments = await session.scalar(select(func.count()).select_from(Comment).where(
                    Comment.target == target, Comment.visible.is_(True)))  # fmt: skip
                rows = {KINDS[k].counter: marks.get(k.value, 0) for k in MARK_KINDS}
                rows.update(viewed=int(views or 0), comments_count=int(comments or 0))
                found[target] = (stored, rows)
        return found

    @invariant()
    def counters_match_model_and_rows(self) -> None:
        for target, (stored, rows) in self.run(self._observed()).items():
            expected = self.expected(target)
            assert stored == expected, target
            assert {k: stored[k] for k in rows} == rows, target


def test_random_interactions_match_the_model(db_url: str, tmp_path: Path) -> None:
    Interactions.db_url = db_url
    Interactions.sms_path = tmp_path / "sms.jsonl"
    run_state_machine_as_test(
        Interactions,
        settings=settings(max_examples=15, stateful_step_count=25, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )  # fmt: skip
