"""Interaction refusals (API.md §3). ``hojre.web_v1.messages`` words each as the apps expect."""

from __future__ import annotations

from hojre.core.errors import HojreError
from hojre.interactions.registry import InteractionKind


class InvalidTarget(HojreError):
    """Not a target kind the action takes."""


class InvalidKind(HojreError):
    """Not an interaction kind."""


class TargetNotFound(HojreError):
    """No such target, or one that may not be interacted with."""


class CommentNotFound(HojreError):
    """Not one of the caller's visible comments."""


class NotDone(HojreError):
    """The caller has no ``kind`` on the target (nothing to delete, is-true's "no")."""

    def __init__(self, kind: InteractionKind) -> None:
        super().__init__(kind)
        self.kind = kind
