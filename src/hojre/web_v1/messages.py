"""The contract's words for every refusal: one table from problem to sentence and ``data``.

Services raise :class:`~hojre.core.errors.HojreError` kinds with typed facts (a field, a rule,
a limit); this module alone says them as the apps expect, every spelling, capital and space
kept as the original service sent it (``" User not found "``, ``"activatad"``, "Phone is not
valid" without its full stop). The endpoint wrapper and the CLI both speak through
:func:`render`.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from hojre.accounts import errors as accounts
from hojre.catalog import errors as catalog
from hojre.core.errors import (
    FieldProblem,
    HojreError,
    NotFound,
    NotLoggedIn,
    Rule,
    TooManyAttempts,
    ValidationFailed,
)
from hojre.interactions import errors as interactions
from hojre.interactions.registry import InteractionKind
from hojre.messaging import errors as messaging
from hojre.web_v1.params import BadRequestBody

log = logging.getLogger("hojre.web")


class NotLoginCapital(NotLoggedIn):
    """Not logged in, as ``user/is-true`` spells it."""


class Refusal(NamedTuple):
    message: str
    data: Any = ""


# -- refusals of one kind ---------------------------------------------------------------------

REFUSALS: dict[type[HojreError], Refusal] = {
    NotLoggedIn: Refusal("not login"),
    NotLoginCapital: Refusal("Not Login"),
    TooManyAttempts: Refusal("Too Many Attempts"),
    NotFound: Refusal("Not Found"),
    BadRequestBody: Refusal("Cant Validate Data"),
    # §1 accounts
    accounts.BlankCredentials: Refusal("Username or Password cannot be blank."),
    accounts.CellphoneInvalid: Refusal("Cellphone is not validated"),
    accounts.CantValidateData: Refusal("Cant Validate Data"),
    accounts.RegisteredNotActivated: Refusal("Cellphone already registered but not activatad", -1),
    accounts.CellphoneTaken: Refusal("Cellphone already existed"),
    accounts.IncorrectCode: Refusal("Incorrect Code"),
    accounts.AlreadyActivated: Refusal("User is Activated"),
    accounts.NotRegistered: Refusal("User is not registered"),
    accounts.WrongCredentials: Refusal("Username or Password is incorrect"),
    # The login's own spelling of "not activated", spaces included.
    accounts.LoginNotActivated: Refusal(" Cellphone already registered but not activatad ", -1),
    accounts.LoginUserNotFound: Refusal(" User not found "),
    accounts.NotStaff: Refusal("You are not seller or store manager"),
    accounts.TokenInvalid: Refusal("Token is not valid"),
    accounts.ForgetUserNotFound: Refusal("User Not Found"),
    accounts.OldPasswordIncorrect: Refusal("Old Password is incorrect"),
    # §2 catalogue (and the CLI's store assignment)
    catalog.StoreNotFound: Refusal("Store Not Found"),
    catalog.NotStoreStaffRole: Refusal("Only sellers and store managers belong to a store"),
    catalog.ProductNotFound: Refusal("Product Not Found"),
    catalog.MediaNotFound: Refusal("Media Not Found"),
    catalog.SellerNotFound: Refusal("Seller Not Found"),
    # §5 store registration
    catalog.CellphoneOrEmailTaken: Refusal("Cellphone or Email already existed"),
    # Designed here (the operator's approve/reject of a store already in that state).
    catalog.StoreStatusUnchanged: Refusal("Store Status Unchanged"),
    # §3 interactions
    interactions.InvalidTarget: Refusal("Invalid Target"),
    interactions.InvalidKind: Refusal("Invalid Type"),
    interactions.TargetNotFound: Refusal("Target Not Found"),
    interactions.CommentNotFound: Refusal("Comment Not Found"),
    # §4 messaging
    messaging.NoChatForYou: Refusal("there is no chat for u"),
    messaging.ChatFinished: Refusal("Chat is finished"),
    messaging.SellerNotFound: Refusal("Seller Not Found"),
    messaging.NoActiveSeller: Refusal("Store has no active seller"),
    messaging.OwnStore: Refusal("You cannot chat with your own store"),
    messaging.StoreMessageNotFound: Refusal("Message Not Found"),
    messaging.NotStoreManager: Refusal("You are not store manager"),
    messaging.NotSeller: Refusal("You are not seller"),
    messaging.OfferNotFound: Refusal("Offer Not Found"),
    messaging.NotYourCustomer: Refusal("User has not interacted with your store"),
    messaging.BroadcastNotFound: Refusal("Broadcast Not Found"),
}

# delete-<kind> and is-true when the caller has none (spelled as the apps expect).
NOT_DONE: dict[InteractionKind, str] = {
    InteractionKind.like: "Not Liked",
    InteractionKind.dislike: "Not dislike",
    InteractionKind.view: "Not view",
    InteractionKind.comment: "Not comment",
    InteractionKind.notification: "Not notifcation",
    InteractionKind.favorite: "Not favorite",
}

# -- the validation envelope ------------------------------------------------------------------

# Yii's attribute labels of the original models.
LABELS: dict[str, str] = {
    "name": "Name",
    "family": "Family",
    "phone": "Phone",
    "email": "Email",
    "address": "Address",
    "telegram": "Telegram",
    "telegram_channel": "Telegram Channel",
    "twitter": "Twitter",
    "linkedin": "Linkedin",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "googleplus": "Googleplus",
    "website": "Website",
    "avatar": "Avatar",
    "state": "State",
    "city": "City",
    "hood": "Hood",
    "age": "Age",
    "gender": "Gender",
    "old_password": "Old Password",
    "new_password": "New Password",
    "text": "Text",
    "pros": "Pros",
    "cons": "Cons",
    "score": "Score",
    "title": "Title",
    "attachment": "Attachment",
    "answer": "Answer",
    "answer_attachment": "Answer Attachment",
    "role": "Role",
    "cellphone": "Cell Phone",  # Seller[cellPhone]
    "password": "Password",
}
# Yii's validator messages; {label}, {limit} and {low} filled in.
SENTENCES: dict[Rule, str] = {
    Rule.required: "{label} cannot be blank.",
    Rule.too_short: "{label} should contain at least {limit} characters.",
    Rule.too_long: "{label} should contain at most {limit} characters.",
    Rule.too_small: "{label} must be no less than {limit}.",
    Rule.too_big: "{label} must be no greater than {limit}.",
    Rule.out_of_range: "{label} must be between {low} and {limit}.",
    Rule.not_integer: "{label} must be an integer.",
    Rule.invalid: "{label} is invalid.",
    Rule.not_url: "{label} is not a valid URL.",
    Rule.not_link: "{label} must be a relative path or an http(s) URL.",
    Rule.not_email: "{label} is not a valid email address.",
    Rule.taken: "{label} has already been taken.",
    Rule.not_uploaded: "{label} must be an uploaded image.",
    Rule.not_image: "{label} is not an image.",
    Rule.file_too_big: "{label} is too big. Its size cannot exceed {limit} bytes.",
    Rule.too_many_pixels: "{label} is too large. It cannot have more than {limit} pixels.",
}
# The original models' own messages for these.
FIELD_SENTENCES: dict[tuple[str, Rule], str] = {
    ("phone", Rule.invalid): "Phone is not valid",
    ("email", Rule.taken): "This email address has already been taken.",
}
VALIDATION_MESSAGE = "Server Error"  # the envelope's message; the sentences are its data
# store-register's own messages for its two halves' failed rules, the sentences still data
# ("validate" in lower case there, as documented).
VALIDATION_MESSAGES: dict[type[ValidationFailed], str] = {
    catalog.StoreHasError: "store has error",
    catalog.ManagerInvalid: "Cant validate data",
}


def sentence(problem: FieldProblem) -> str:
    """One failed rule in the contract's words."""
    template = FIELD_SENTENCES.get((problem.field, problem.rule)) or SENTENCES[problem.rule]
    label = LABELS.get(problem.field) or problem.field.replace("_", " ").title()
    return template.format(label=label, limit=problem.limit, low=problem.low)


def render(exc: HojreError) -> Refusal:
    """The error envelope's message and data for ``exc``."""
    if isinstance(exc, ValidationFailed):
        message = VALIDATION_MESSAGES.get(type(exc), VALIDATION_MESSAGE)
        return Refusal(message, [sentence(p) for p in exc.problems])
    if isinstance(exc, interactions.NotDone):
        return Refusal(NOT_DONE[exc.kind])
    for kind in type(exc).__mro__:  # a subclass speaks as its kind, unless it has words
        found = REFUSALS.get(kind)
        if found is not None:
            return found
    # A kind nobody worded yet: a bug, answered as the contract's catch-all.
    log.error("no v1 words for %s", type(exc).__qualname__)
    return Refusal("Server Error")
