"""The contract's words for every refusal (hojre.web_v1.messages): one table, every kind."""

from __future__ import annotations

import logging

import pytest

import hojre.web_v1.app  # noqa: F401  (imports every module that defines a refusal)
from hojre.accounts import errors as accounts
from hojre.accounts.schemas import PROFILE_FIELDS
from hojre.catalog import errors as catalog
from hojre.core.errors import (
    FieldProblem,
    HojreError,
    NotLoggedIn,
    Rule,
    TooManyAttempts,
    ValidationFailed,
)
from hojre.interactions.errors import NotDone
from hojre.interactions.registry import InteractionKind
from hojre.web_v1.messages import (
    LABELS,
    NOT_DONE,
    REFUSALS,
    SENTENCES,
    NotLoginCapital,
    Refusal,
    render,
    sentence,
)


def _kinds(base: type[HojreError]) -> list[type[HojreError]]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *_kinds(sub)]
    return found


def test_every_kind_of_the_app_has_words() -> None:
    """A new error class without its sentence would answer "Server Error" (and log it)."""
    kinds = [k for k in _kinds(HojreError) if k.__module__.startswith("hojre.")]
    assert len(kinds) >= 40
    special = (ValidationFailed, NotDone)  # worded from their facts
    # A subclass speaks as its kind (SmsCeilingReached is a TooManyAttempts).
    unworded = [
        k for k in kinds if not issubclass(k, special) and not set(k.__mro__) & set(REFUSALS)
    ]
    assert unworded == []
    assert set(NOT_DONE) == set(InteractionKind)
    assert set(SENTENCES) == set(Rule)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (accounts.LoginNotActivated(), (" Cellphone already registered but not activatad ", -1)),
        (accounts.RegisteredNotActivated(), ("Cellphone already registered but not activatad", -1)),
        (accounts.LoginUserNotFound(), (" User not found ", "")),
        (accounts.CellphoneInvalid(), ("Cellphone is not validated", "")),
        (catalog.StoreNotFound(), ("Store Not Found", "")),
        (catalog.NotStoreStaffRole(), ("Only sellers and store managers belong to a store", "")),
        (NotLoggedIn(), ("not login", "")),
        (NotLoginCapital(), ("Not Login", "")),
        (TooManyAttempts("login_per_client"), ("Too Many Attempts", "")),
        (NotDone(InteractionKind.notification), ("Not notifcation", "")),
        (NotDone(InteractionKind.like), ("Not Liked", "")),
    ],
)
def test_refusals_keep_the_contracts_spelling(
    error: HojreError, expected: tuple[str, object]
) -> None:
    assert render(error) == Refusal(*expected)


def test_validation_keeps_the_services_order() -> None:
    problems = [
        FieldProblem("name", Rule.required),
        FieldProblem("family", Rule.too_short, 3),
        FieldProblem("telegram_channel", Rule.too_long, 255),
        FieldProblem("website", Rule.not_url),
        FieldProblem("phone", Rule.invalid),
        FieldProblem("email", Rule.not_email),
        FieldProblem("email", Rule.taken),
        FieldProblem("age", Rule.too_small, 1),
        FieldProblem("age", Rule.too_big, 150),
        FieldProblem("age", Rule.not_integer),
        FieldProblem("hood", Rule.invalid),
        FieldProblem("score", Rule.out_of_range, 5, low=1),
        FieldProblem("answer_attachment", Rule.not_link),
        FieldProblem("new_password", Rule.too_short, 6),
    ]
    assert render(ValidationFailed(problems)) == Refusal(
        "Server Error",
        [
            "Name cannot be blank.",
            "Family should contain at least 3 characters.",
            "Telegram Channel should contain at most 255 characters.",
            "Website is not a valid URL.",
            "Phone is not valid",
            "Email is not a valid email address.",
            "This email address has already been taken.",
            "Age must be no less than 1.",
            "Age must be no greater than 150.",
            "Age must be an integer.",
            "Hood is invalid.",
            "Score must be between 1 and 5.",
            "Answer Attachment must be a relative path or an http(s) URL.",
            "New Password should contain at least 6 characters.",
        ],
    )


def test_every_profile_field_has_its_label() -> None:
    assert [name for name in PROFILE_FIELDS if name not in LABELS] == []
    assert sentence(FieldProblem("googleplus", Rule.too_long, 255)) == (
        "Googleplus should contain at most 255 characters."
    )


def test_a_kind_without_words_is_a_logged_server_error(caplog: pytest.LogCaptureFixture) -> None:
    class Unworded(HojreError):
        pass

    class Worded(accounts.TokenInvalid):
        pass

    with caplog.at_level(logging.ERROR, logger="hojre.web"):
        assert render(Unworded()) == Refusal("Server Error")
    assert [r.getMessage() for r in caplog.records] == [
        "no v1 words for test_a_kind_without_words_is_a_logged_server_error.<locals>.Unworded"
    ]
    assert render(Worded()) == Refusal("Token is not valid")  # a subclass speaks as its kind
