"""The one error hierarchy: each class is a kind of refusal, its attributes the typed facts.

Services raise these and say *what* is wrong (which field, which rule, which limit); they never
word it. The v1 adapter words every kind in the contract's sentences (``hojre.web_v1.messages``)
and sends the ``{"status": "error", ...}`` envelope; the CLI prints the same sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class HojreError(Exception):
    # Most errors roll the request back. The few raised *after* a write that must survive
    # (a counted failed login, a spent activation-code try) keep the request's writes.
    keep_writes: ClassVar[bool] = False


class Rule(StrEnum):
    """What a field broke. ``FieldProblem.limit`` carries the bound the rule names."""

    required = "required"  # absent or blank
    too_short = "too_short"  # fewer than ``limit`` characters
    too_long = "too_long"  # more than ``limit`` characters
    too_small = "too_small"  # a number below ``limit``
    too_big = "too_big"  # a number above ``limit``
    out_of_range = "out_of_range"  # a number outside ``low``..``limit``
    not_integer = "not_integer"
    invalid = "invalid"  # not one of the accepted values (an unknown place, role, gender…)
    not_url = "not_url"  # not an http(s) URL
    not_link = "not_link"  # neither a relative path nor an http(s) URL
    not_email = "not_email"
    taken = "taken"  # another account has it (unique)
    not_uploaded = "not_uploaded"  # a path of ours in form that no upload produced
    not_image = "not_image"  # a file that is not a JPEG, PNG or WebP image
    file_too_big = "file_too_big"  # a file over ``limit`` bytes
    too_many_pixels = "too_many_pixels"  # an image over ``limit`` pixels


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One failed rule of one field (``field``: the domain's name, e.g. ``telegram_channel``)."""

    field: str
    rule: Rule
    limit: int | None = None
    low: int | None = None  # Rule.out_of_range only


class ValidationFailed(HojreError):
    """Every failed rule of a request, in the order the contract documents them."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(problems)
        self.problems = problems


class NotLoggedIn(HojreError):
    pass


class TooManyAttempts(HojreError):
    """A throttle said no. ``rule`` names it (metrics, logs); the apps only see the refusal."""

    def __init__(self, rule: str = "") -> None:
        super().__init__(rule)
        self.rule = rule


def throttled(rule: str) -> TooManyAttempts:
    """The error for ``rule``, counted in the metrics."""
    from hojre.core.metrics import THROTTLED

    THROTTLED.labels(rule).inc()
    return TooManyAttempts(rule)


class NotFound(HojreError):
    pass
