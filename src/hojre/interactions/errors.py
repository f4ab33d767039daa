from __future__ import annotations

from hojre.core.errors import HojreError


class InvalidTarget(HojreError):
    message = "Invalid Target"


class InvalidKind(HojreError):
    message = "Invalid Type"


class TargetNotFound(HojreError):
    message = "Target Not Found"


class CommentNotFound(HojreError):
    message = "Comment Not Found"
