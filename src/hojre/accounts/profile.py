"""The profile: every rule of ``user/edit`` checked at once, then one write."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from hojre.accounts.models import User
from hojre.accounts.schemas import PROFILE_TEXT_FIELDS, ProfileChanges
from hojre.accounts.service import Caller
from hojre.core.checks import TextRules, check_int, check_texts
from hojre.core.clock import utcnow
from hojre.core.db import update_sent
from hojre.core.errors import FieldProblem, Rule, ValidationFailed
from hojre.core.sql import Conn, Query, UniqueViolation
from hojre.core.text import plain_text
from hojre.geo.checks import Places, check_places
from hojre.media.service import claim_paths

NAME_MIN = 3
AGE_MIN, AGE_MAX = 1, 150
_RULES = TextRules(PROFILE_TEXT_FIELDS, paths=frozenset({"avatar"}))


_EMAIL_TAKEN = Query(
    select(User.id).where(User.email == bindparam("email"), User.id != bindparam("user_id"))
)
_TAKEN = FieldProblem("email", Rule.taken)


async def update_profile(conn: Conn, *, user: Caller, changes: ProfileChanges) -> None:
    """Validate every rule, report all failures at once, then write (two statements at most
    before the write: the email's owner and the places)."""
    # Other users see these (a comment's userTitle is the author's name): plain text only.
    sent = {k: plain_text(v) for k, v in changes.values.items()}
    problems: list[FieldProblem] = []
    for name in ("name", "family"):
        value = sent.get(name, "")
        if not value:
            problems.append(FieldProblem(name, Rule.required))
        elif len(value) < NAME_MIN:
            problems.append(FieldProblem(name, Rule.too_short, NAME_MIN))
    found, clean = check_texts(_RULES, sent, changes.values)
    problems.extend(found)
    await claim_paths(conn, clean, _RULES.paths, problems)
    email = clean.get("email")
    well_formed = isinstance(email, str) and FieldProblem("email", Rule.not_email) not in problems
    if well_formed and await conn.one(_EMAIL_TAKEN, email=email, user_id=user.id) is not None:
        problems.append(_TAKEN)
    if "age" in sent:
        if sent["age"] == "":
            clean["age"] = None
        else:
            age = check_int("age", sent["age"], AGE_MIN, AGE_MAX)
            if isinstance(age, FieldProblem):
                problems.append(age)
            else:
                clean["age"] = age
    if "gender" in sent:
        if sent["gender"] not in ("", "male", "female"):
            problems.append(FieldProblem("gender", Rule.invalid))
        else:
            clean["gender"] = sent["gender"] or None
    current = Places(user.country_id, user.state_id, user.city_id, user.hood_id)
    problems.extend(await check_places(conn, sent=sent, current=current, clean=clean))
    if problems:
        raise ValidationFailed(problems)
    try:
        await conn.run(
            update_sent(User, frozenset(clean), "user_id"), user_id=user.id, now=utcnow(), **clean
        )
    except UniqueViolation as exc:  # a parallel edit took the email first
        raise ValidationFailed([_TAKEN]) from exc
