"""Rules that several edits share (the profile, the store's profile): text lengths, links,
landline phones and email addresses. Each check reports :class:`FieldProblem` kinds and the
cleaned values; the caller adds its own rules and raises them all at once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from hojre.core.errors import FieldProblem, Rule
from hojre.core.text import (
    ascii_digits,
    drop_controls,
    has_url_scheme,
    image_key,
    parse_int,
    web_url_ok,
)

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_LANDLINE = re.compile(r"0[0-9]{10}")
ADDRESS_MIN = 5
# Ids or links: a value with a scheme must be an http(s) URL (`javascript:` is a scheme too).
SOCIAL = frozenset(
    ("telegram", "telegram_channel", "instagram", "twitter", "linkedin", "facebook", "googleplus")
)


@dataclass(frozen=True, slots=True)
class TextRules:
    """The text fields of an edit: each one's maximum length, and which are links."""

    limits: Mapping[str, int]
    urls: frozenset[str] = frozenset({"website"})  # absolute http(s) URLs
    # Images: a path or URL of ours (hojre.core.text.image_key), which the caller claims.
    paths: frozenset[str] = field(default_factory=frozenset)
    # What a refused path breaks: the profile's avatar says "not a valid URL" (Yii's URL
    # validator); newer fields name what they take.
    path_rule: Rule = Rule.not_url


def check_texts(
    rules: TextRules, sent: Mapping[str, str], typed: Mapping[str, str]
) -> tuple[list[FieldProblem], dict[str, object]]:
    """The sent text fields (``sent``: cleaned by plain_text; ``typed``: as received):
    lengths, links, then the address, the phone and the email's form. An empty value clears
    its field (None)."""
    problems: list[FieldProblem] = []
    clean: dict[str, object] = {}
    for name, limit in rules.limits.items():
        if name in sent:
            if len(sent[name]) > limit:
                problems.append(FieldProblem(name, Rule.too_long, limit))
            elif not _link_ok(rules, name, sent[name], typed=typed[name]):
                rule = rules.path_rule if name in rules.paths else Rule.not_url
                problems.append(FieldProblem(name, rule))
            elif name in rules.paths and sent[name]:
                # That an upload made it is the caller's check (claim_paths, in its transaction).
                found = image_path(name, sent[name], rules.path_rule)
                if isinstance(found, FieldProblem):
                    problems.append(found)
                else:
                    clean[name] = found
            else:
                clean[name] = sent[name] or None
    if sent.get("address") and len(sent["address"]) < ADDRESS_MIN:
        problems.append(FieldProblem("address", Rule.too_short, ADDRESS_MIN))
    if sent.get("phone"):
        phone = re.sub(r"[\s\-]", "", ascii_digits(sent["phone"]))
        if _LANDLINE.fullmatch(phone) is None:
            problems.append(FieldProblem("phone", Rule.invalid))
        clean["phone"] = phone
    if sent.get("email"):
        email = sent["email"].lower()
        if EMAIL.fullmatch(email) is None:
            problems.append(FieldProblem("email", Rule.not_email))
        clean["email"] = email
    return problems, clean


def _link_ok(rules: TextRules, name: str, value: str, *, typed: str) -> bool:
    """The URL rules of the links, the paths and the social ids, on the cleaned value."""
    is_link = (
        name in rules.urls or name in rules.paths or (name in SOCIAL and has_url_scheme(value))
    )
    if not value or not is_link:
        return True
    # A link is stored as typed or refused: a URL in which plain_text found entities or tags
    # was not typed as a URL (and html.unescape reads `&para=1` as `¶=1`, `&times` as `×`).
    if value != drop_controls(typed).strip():
        return False
    return name in rules.paths or web_url_ok(value)  # a path's form: image_path


def image_path(field: str, value: str, rule: Rule) -> str | FieldProblem:
    """A value sent in an image field as the media store knows it
    (:func:`~hojre.core.text.image_key`), or what it broke: ``not_uploaded`` for a link to
    another site's picture, ``rule`` (the field's own word for it) for anything else."""
    key = image_key(value)
    if key is not None:
        return key
    return FieldProblem(field, Rule.not_uploaded if web_url_ok(value) else rule)


def check_int(name: str, raw: str, low: int, high: int) -> FieldProblem | int:
    """An integer field from ``low`` to ``high`` (Persian digits allowed): the number, or
    what it broke."""
    value = parse_int(raw)
    if value is None:
        return FieldProblem(name, Rule.not_integer)
    if value < low:
        return FieldProblem(name, Rule.too_small, low)
    if value > high:
        return FieldProblem(name, Rule.too_big, high)
    return value
