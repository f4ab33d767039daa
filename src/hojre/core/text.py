"""Normalising what people type: digits, cellphones, names; plain text and links."""

from __future__ import annotations

import html
import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits map to ASCII before any validation.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# `[0-9]`, never `\d`: `\d` also matches the non-ASCII digits we just normalised away.
_CELLPHONE = re.compile(r"09[0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-()]+")
# A raw query string of key=value pairs made of unreserved characters only (no escapes, no "+",
# no brackets): what most requests send (usernames, tokens, ids). Parsing, re-encoding and
# redacting it are plain splits on "&" and "=", which is how the hot paths treat it.
_UNRESERVED = rb"[A-Za-z0-9._~-]"
PLAIN_QUERY = re.compile(rb"%s+=%s*(?:&%s+=%s*)*" % ((_UNRESERVED,) * 4))


def ascii_digits(value: str) -> str:
    return value.translate(_DIGITS)


def normalize_cellphone(raw: str) -> str | None:
    """Return the ``09xxxxxxxxx`` form of an Iranian mobile number, or None if it is not one."""
    value = _SEPARATORS.sub("", ascii_digits(raw))
    for prefix in ("+98", "0098", "98"):
        if value.startswith(prefix) and len(value) == len(prefix) + 10:
            value = "0" + value[len(prefix) :]
            break
    return value if _CELLPHONE.fullmatch(value) else None


def parse_int(raw: str | int | None) -> int | None:
    """An integer from user input (Persian digits allowed), or None when it is not one."""
    if raw is None:
        return None
    if isinstance(raw, int):
        return raw
    value = ascii_digits(raw).strip()
    if re.fullmatch(r"[+-]?[0-9]{1,18}", value) is None:
        return None
    return int(value)


def full_name(name: str | None, family: str | None) -> str:
    """A person's name and family name, whichever they have, space-separated."""
    if name and family:
        return f"{name} {family}"
    return name or family or ""


# -- plain text ----------------------------------------------------------------------------------

# Control characters except tab, line feed and carriage return (PostgreSQL refuses NUL: a 500);
# the bidi embedding/override/isolate controls, which make text display as something other than
# what it says (file names, prices, names); and lone surrogates, which UTF-8 cannot store.
# ZWNJ (U+200C) and LRM/RLM (U+200E/U+200F) stay: Persian text needs them.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# Where an HTML tokenizer starts a tag, a closing tag, a comment/doctype or a processing
# instruction. ASCII letters only: `<س` is text to a browser.
_TAG_START = re.compile(r"<[A-Za-z/!?]")
# A run of `<` before a tag start: the whole run goes, or `<<a` would leave `<a` behind.
_OPEN_TAG_START = re.compile(r"<+(?=[A-Za-z/!?])")
# html.unescape turns a decimal character reference into int(digits): past 4300 digits that
# raises ValueError (Python's integer-string limit), a 500. 8+ significant digits are past
# U+10FFFF either way, which unescape decodes as U+FFFD; 1114112 says the same in 7 digits.
_LONG_DECIMAL_REF = re.compile(r"&#([0-9]{8,})")
# Each round decodes one level of entities; real text needs two or three (`&amp;lt;` from a
# doubly escaping client, then a round that changes nothing). More than this is crafted.
_ROUNDS = 8


def _short_decimal_ref(match: re.Match[str]) -> str:
    digits = match.group(1).lstrip("0")
    return "&#" + (digits if len(digits) <= 7 else "1114112")


def _strip_tags(text: str) -> str:
    """Remove each `<` + tag start up to the next `>`, in one linear pass.

    The regex ``<[A-Za-z/!?][^>]*>`` does the same but rescans to the end from every `<a` that
    has no `>` after it: quadratic on `<a<a<a…`. Once one tag start has no `>` after it, no later
    one has either, so the scan stops there.
    """
    parts: list[str] = []
    pos = 0
    while (start := _TAG_START.search(text, pos)) is not None:
        end = text.find(">", start.start())
        if end < 0:
            break
        parts.append(text[pos : start.start()])
        pos = end + 1
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def _round(text: str) -> str:
    # Controls go after decoding (`&#x202e;` decodes to one) and before tags are looked for:
    # dropped later, `<&#x202e;script>` would become `<script>` after the tag pass.
    decoded = _CONTROL.sub("", html.unescape(_LONG_DECIMAL_REF.sub(_short_decimal_ref, text)))
    cleaned = _strip_tags(decoded).strip()
    if cleaned != text:
        return cleaned
    # Only once decoding and tags settle: a `<` dropped earlier would hide the tag that
    # `<<script>script>` becomes after one round, leaving `script>` instead of nothing.
    return _OPEN_TAG_START.sub("", text)


def drop_controls(value: str) -> str:
    """``value`` without the characters :func:`plain_text` drops before anything else."""
    return _CONTROL.sub("", value)


def plain_text(value: str) -> str:
    """The one sanitiser for text people send: plain text with no tag-like sequence left.

    Control characters (tab and line breaks aside), bidi override/embedding/isolate controls
    and lone surrogates are dropped; then, until nothing changes, entities are decoded, those
    characters dropped again, tags (`<` + letter, `/`, `!` or `?` up to the next `>`) removed
    and surrounding whitespace stripped; once that settles, a `<` still before a letter, `/`,
    `!` or `?` (a tag never closed) is removed too, and the rounds go on if that changed it.
    So `&lt;script&gt;` and `<<script>script>` leave no tag, while `a < b`, `5 > 3` and
    `Tom & Jerry` stay as typed. ``plain_text(plain_text(s)) == plain_text(s)``.

    Every round that changes the text shortens it (an entity is longer than what it decodes
    to), so it settles; the rounds are capped all the same, and text still changing after the
    cap (entities nested that deep are crafted) loses every `&` and `<`, which settles it.

    The result is plain text, not HTML: whoever renders it (HTML, a WebView, a notification)
    must still escape it for that context, and a URL must still be checked before it is a link.
    """
    text = _CONTROL.sub("", value)
    for _ in range(_ROUNDS):
        cleaned = _round(text)
        if cleaned == text:
            return text
        text = cleaned
    if _round(text) == text:
        return text
    return _CONTROL.sub("", text.replace("&", "").replace("<", "")).strip()


# -- links ---------------------------------------------------------------------------------------

# A URL scheme at the start (RFC 3986 §3.1): `javascript:`, `data:`, `https:`…
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Browsers drop tab and line breaks anywhere in a URL, so `java\tscript:` is `javascript:`.
_URL_IGNORED = str.maketrans("", "", "\t\n\r")
# Raw in a URL these only ever break out of an attribute or a script string, or are read one
# way by one parser and another way by another (`\` is `/` to browsers, not to urlsplit).
_URL_FORBIDDEN = frozenset('"<>\\`')
# Labels of letters and digits of any script (Persian IDNs are hosts), `-` and `_` inside.
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_RELATIVE_PATH = re.compile(r"[A-Za-z0-9._/-]+")


def has_url_scheme(value: str) -> bool:
    """Whether a browser would read ``value`` as starting with a scheme (``javascript:``…)."""
    return _SCHEME.match(value.translate(_URL_IGNORED)) is not None


def web_url_ok(value: str) -> bool:
    """An absolute ``http://`` or ``https://`` URL with a host, fit to be a link as it is.

    Refused: other schemes (``javascript:``, ``data:``), no host (``https://``, ``http:x``),
    whitespace, control and format characters, `"`, `<`, `>`, `\\`, a backtick, a user part
    (``https://hojre.ir@evil.example`` shows one host and opens another; Yii's UrlValidator
    has none either), a bad port.
    """
    for ch in value:
        if ch in _URL_FORBIDDEN or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a port that is not one
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or "@" in parts.netloc:
        return False
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal (urlsplit drops the brackets)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return _HOST.fullmatch(host) is not None


def relative_path_ok(value: str) -> bool:
    """A path on our own site such as ``img/avatars/a.png``: no ``..`` segment, no leading `/`.

    A leading `/` would also let ``//evil.example/a.png`` through as a link to another host.
    """
    return (
        _RELATIVE_PATH.fullmatch(value) is not None
        and not value.startswith("/")
        and ".." not in value.split("/")
    )


def link_ok(value: str) -> bool:
    """What an avatar or attachment may be: an http(s) URL or a relative path of ours."""
    return web_url_ok(value) or relative_path_ok(value)


# The paths of our images (uploads, the shipped defaults, thumbnails' sources): ASCII segments
# without dot segments, a lower-case image extension (capitals only in the original service's
# default names, such as storeLogo.png; uploads are lower-case).
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*"
IMAGE_PATH = re.compile(rf"img(?:/{_SEGMENT})+\.(?:jpg|png|webp)")


def image_key(value: str) -> str | None:
    """The image path a field was sent, or None when it is not one of ours in form.

    Accepted: the path as the upload endpoints return it (``img/up/….jpg``), with a leading
    ``/``, or the absolute URL ``imgupload`` returns (any host: only the path is kept, and it
    must still name an upload when the caller checks it).
    """
    text = value.strip()
    if text.startswith(("http://", "https://")):
        if not web_url_ok(text):
            return None
        parts = urlsplit(text)
        if parts.query or parts.fragment:
            return None
        text = parts.path
    text = text.removeprefix("/")
    return text if IMAGE_PATH.fullmatch(text) else None
