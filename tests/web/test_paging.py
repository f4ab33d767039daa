"""The list envelope (API.md §0 "List envelope", "Pagination") on the geography lists (§2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.datastructures import URL
from starlette.requests import Request

from hojre.core.hub import Hub
from hojre.geo.models import State
from hojre.geo.seed import geography_rows
from hojre.web_v1.envelopes import _Href
from tests.factories import count_statements

pytestmark = pytest.mark.anyio

ROWS = geography_rows()
ALL_CITIES = [int(str(row["id"])) for row in ROWS["cities"]]
TOTAL = len(ALL_CITIES)  # 1354 at the time of writing: five pages of 300
PAGES = -(-TOTAL // 300)
STATE_1_CITIES = sorted(int(str(r["id"])) for r in ROWS["cities"] if r["state_id"] == 1)
TEHRAN_CITY = next(
    int(str(r["id"])) for r in ROWS["cities"] if r["state_id"] == 1 and r["title"] == "تهران"
)
TEHRAN_HOODS = sorted(int(str(r["id"])) for r in ROWS["hoods"] if r["city_id"] == TEHRAN_CITY)

Query = Sequence[tuple[str, str]]


async def fetch(client: httpx.AsyncClient, path: str, query: Query = ()) -> dict[str, Any]:
    response = await client.get("/web" + path, params=list(query))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def meta(total: int, pages: int, current: int, per_page: int) -> dict[str, int]:
    return {"totalCount": total, "pageCount": pages, "currentPage": current, "perPage": per_page}


def split(href: str) -> tuple[str, list[tuple[str, str]]]:
    """An href as (absolute URL without query, query pairs in order)."""
    parts = urlsplit(href)
    return (
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        parse_qsl(parts.query, keep_blank_values=True),
    )


def link_pages(body: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Each link's (page, per-page), checking it points at /web/cities."""
    found: dict[str, tuple[int, int]] = {}
    for rel, link in body["_links"].items():
        assert set(link) == {"href"}
        base, query = split(link["href"])
        assert base == "http://testserver/web/cities"
        params = dict(query)
        found[rel] = (int(params["page"]), int(params["per-page"]))
    return found


# -- _meta and page sizes --------------------------------------------------------------------


async def test_defaults_are_page_one_of_300(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities")
    assert set(body) == {"items", "_links", "_meta"}
    assert body["_meta"] == meta(TOTAL, PAGES, 1, 300)
    assert all(type(v) is int for v in body["_meta"].values())
    assert [item["id"] for item in body["items"]] == ALL_CITIES[:300]
    assert link_pages(body) == {"self": (1, 300), "next": (2, 300), "last": (PAGES, 300)}


PAGE_SIZES: list[tuple[Query, int]] = [
    ([("per-page", "1000")], 300),  # capped
    ([("per-page", "300")], 300),
    ([("per-page", "301")], 300),
    ([("per-page", "abc")], 300),  # not a number: the default
    ([("per-page", "0")], 300),
    ([("per-page", "-5")], 300),
    ([("per-page", "")], 300),
    ([("per-page", "2.5")], 300),
    ([("per-page", "99999999999999999999999")], 300),
    ([("per-page", "7")], 7),
    ([("per-page", " 7 ")], 7),
    ([("perPage", "7")], 7),  # the alias
    ([("perPage", "1000")], 300),
    ([("per-page", "۱۲")], 12),  # Persian digits
    ([("per-page", "١٢")], 12),  # Arabic-Indic digits
    ([("per-page", "४")], 300),  # Devanagari is not a digit we accept
]


async def test_page_size(client: httpx.AsyncClient) -> None:
    for query, per_page in PAGE_SIZES:
        body = await fetch(client, "/cities", query)
        assert body["_meta"] == meta(TOTAL, -(-TOTAL // per_page), 1, per_page), query
        assert [item["id"] for item in body["items"]] == ALL_CITIES[:per_page], query


PAGE_NUMBERS = [
    ("0", 1),
    ("-1", 1),
    ("abc", 1),
    ("", 1),
    ("1", 1),
    ("3", 3),
    ("۲", 2),
    ("٢", 2),
    ("+2", 2),
]


async def test_page_number(client: httpx.AsyncClient) -> None:
    for raw, page in PAGE_NUMBERS:
        body = await fetch(client, "/cities", [("page", raw), ("per-page", "10")])
        assert body["_meta"] == meta(TOTAL, -(-TOTAL // 10), page, 10), raw
        expected = ALL_CITIES[(page - 1) * 10 : page * 10]
        assert [item["id"] for item in body["items"]] == expected, raw


async def test_persian_digits_in_both_page_and_per_page(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities", [("page", "۲"), ("per-page", "۵")])
    assert body["_meta"] == meta(TOTAL, -(-TOTAL // 5), 2, 5)
    assert [item["id"] for item in body["items"]] == ALL_CITIES[5:10]
    # The links carry the ASCII numbers that were used.
    assert link_pages(body) == {
        "self": (2, 5),
        "first": (1, 5),
        "prev": (1, 5),
        "next": (3, 5),
        "last": (-(-TOTAL // 5), 5),
    }


async def test_last_page_is_partial(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities", [("page", str(PAGES))])
    assert body["_meta"] == meta(TOTAL, PAGES, PAGES, 300)
    assert [item["id"] for item in body["items"]] == ALL_CITIES[(PAGES - 1) * 300 :]
    assert link_pages(body) == {
        "self": (PAGES, 300),
        "first": (1, 300),
        "prev": (PAGES - 1, 300),
    }


async def test_page_past_the_end_is_empty(client: httpx.AsyncClient) -> None:
    # The largest page is 18 digits (its OFFSET is capped, never overflowing a 64-bit integer);
    # any bigger number is that page: past the end, not page 1 (the probe's page=10**18).
    largest = 999_999_999_999_999_999
    for raw, page in [
        *((str(p), p) for p in (PAGES + 1, 1000, largest)),
        (str(10**18), largest),
        ("9" * 5000, largest),
        ("۱" + "۰" * 30, largest),
    ]:
        body = await fetch(client, "/cities", [("page", raw)])
        assert body["items"] == [], raw
        assert body["_meta"] == meta(TOTAL, PAGES, page, 300), raw
        # prev points at a page that has items, not at the empty page before this one.
        assert link_pages(body) == {
            "self": (page, 300),
            "first": (1, 300),
            "prev": (PAGES, 300),
        }, raw


async def test_middle_page_has_every_link(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities", [("page", "2"), ("per-page", "100")])
    pages = -(-TOTAL // 100)
    assert body["_meta"] == meta(TOTAL, pages, 2, 100)
    assert link_pages(body) == {
        "self": (2, 100),
        "first": (1, 100),
        "prev": (1, 100),
        "next": (3, 100),
        "last": (pages, 100),
    }


async def test_single_page_has_only_self(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/states")
    assert body["_meta"] == meta(31, 1, 1, 300)
    assert list(body["_links"]) == ["self"]
    assert body["_links"]["self"]["href"] == "http://testserver/web/states?page=1&per-page=300"


async def test_empty_list_has_zero_pages(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities", [("state", "999")])
    assert body["items"] == []
    assert body["_meta"] == meta(0, 0, 1, 300)
    assert list(body["_links"]) == ["self"]


# -- hrefs ------------------------------------------------------------------------------------


async def test_hrefs_keep_other_params_in_order(client: httpx.AsyncClient) -> None:
    query = [("state", "1"), ("foo", "bar"), ("per-page", "10"), ("page", "2"), ("x", "")]
    body = await fetch(client, "/cities", query)
    pages = -(-len(STATE_1_CITIES) // 10)
    assert body["_meta"] == meta(len(STATE_1_CITIES), pages, 2, 10)
    expected = {"self": 2, "first": 1, "prev": 1, "next": 3, "last": pages}
    assert set(body["_links"]) == set(expected)
    for rel, page in expected.items():
        base, pairs = split(body["_links"][rel]["href"])
        assert base == "http://testserver/web/cities"
        # The other params come first, in the order sent; paging params are set per link.
        assert pairs == [
            ("state", "1"),
            ("foo", "bar"),
            ("x", ""),
            ("page", str(page)),
            ("per-page", "10"),
        ]


async def test_per_page_alias_becomes_per_page_in_hrefs(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities", [("perPage", "500"), ("foo", "bar")])
    for rel in ("self", "next", "last"):
        _, pairs = split(body["_links"][rel]["href"])
        assert [key for key, _ in pairs] == ["foo", "page", "per-page"]
        assert dict(pairs)["per-page"] == "300"


async def test_hrefs_keep_persian_and_encoded_values(client: httpx.AsyncClient) -> None:
    query = [("q", "تهران"), ("a&b", "c=d"), ("User[name]", "x y")]
    body = await fetch(client, "/states", query)
    _, pairs = split(body["_links"]["self"]["href"])
    assert pairs == [*query, ("page", "1"), ("per-page", "300")]


async def test_repeated_paging_params_do_not_leak_into_hrefs(client: httpx.AsyncClient) -> None:
    query = [("page", "1"), ("page", "2"), ("per-page", "10"), ("perPage", "20")]
    body = await fetch(client, "/cities", query)
    # The last value of a repeated param wins; `per-page` beats its alias.
    assert body["_meta"]["currentPage"] == 2
    assert body["_meta"]["perPage"] == 10
    _, pairs = split(body["_links"]["self"]["href"])
    assert pairs == [("page", "2"), ("per-page", "10")]


# -- filters and records ----------------------------------------------------------------------


async def test_cities_filtered_by_state(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities", [("state", "1")])
    assert body["_meta"] == meta(len(STATE_1_CITIES), 1, 1, 300)
    assert [item["id"] for item in body["items"]] == STATE_1_CITIES
    assert {item["state"] for item in body["items"]} == {1}
    tehran = next(item for item in body["items"] if item["id"] == TEHRAN_CITY)
    assert tehran == {"id": TEHRAN_CITY, "title": "تهران", "state": 1}


async def test_filter_in_persian_digits(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities", [("state", "۱")])
    assert [item["id"] for item in body["items"]] == STATE_1_CITIES


NON_MATCHING = [
    "abc",
    "1abc",
    "1.0",
    "४",
    "99999999999",  # beyond a 32-bit id column
    "999999999999999999",
    "-9999999999999999",
    "99999999999999999999999",
]


async def test_non_matching_filter_is_an_empty_list(client: httpx.AsyncClient) -> None:
    for value in NON_MATCHING:
        for path, name in (("/cities", "state"), ("/hoods", "city"), ("/states", "country")):
            body = await fetch(client, path, [(name, value)])
            assert body["items"] == [], (path, value)
            assert body["_meta"] == meta(0, 0, 1, 300), (path, value)


async def test_empty_filter_is_no_filter(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/cities", [("state", "")])
    assert body["_meta"]["totalCount"] == TOTAL


async def test_states_records(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/states")
    assert len(body["items"]) == 31
    assert sorted(item["id"] for item in body["items"]) == list(range(1, 32))
    for item in body["items"]:
        assert list(item) == ["id", "title", "country", "longitude", "latitude", "englishTitle"]
        assert [type(item[k]) for k in item] == [int, str, int, str, str, str]
        assert item["country"] == 102
        float(item["longitude"])
        float(item["latitude"])
    tehran = next(item for item in body["items"] if item["id"] == 1)
    assert tehran["title"] == "تهران"
    assert tehran["englishTitle"] == "Tehran"


async def test_states_filtered_by_country(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/states", [("country", "102")])
    assert body["_meta"]["totalCount"] == 31
    body = await fetch(client, "/states", [("country", "103")])
    assert body["items"] == []


async def test_countries_records(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/countries")
    assert body["items"] == [
        {"id": 102, "country_code": "IR", "country_name": "جمهوری اسلامی ایران"}
    ]
    assert body["_meta"] == meta(1, 1, 1, 300)


async def test_hoods_of_tehran(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/hoods", [("city", str(TEHRAN_CITY))])
    assert len(body["items"]) >= 80
    assert [item["id"] for item in body["items"]] == TEHRAN_HOODS
    for item in body["items"]:
        assert list(item) == ["id", "title", "city"]
        assert [type(item[k]) for k in item] == [int, str, int]
        assert item["city"] == TEHRAN_CITY
    assert body["_meta"] == meta(len(TEHRAN_HOODS), 1, 1, 300)


async def test_all_hoods(client: httpx.AsyncClient) -> None:
    body = await fetch(client, "/hoods")
    assert body["_meta"]["totalCount"] == len(ROWS["hoods"])


async def test_states_by_title_then_id(client: httpx.AsyncClient, hub: Hub) -> None:
    # The database's own order of titles (its collation), as the original listed them.
    async with hub.db.unit_of_work(write=False) as session:
        expected = list(await session.scalars(select(State.id).order_by(State.title, State.id)))
    for query in ([], [("country", "102")]):
        body = await fetch(client, "/states", query)
        assert [item["id"] for item in body["items"]] == expected, query


# -- statements -------------------------------------------------------------------------------

GEO_LISTS: list[tuple[str, Query]] = [
    ("/countries", []),
    ("/states", []),
    ("/states", [("country", "102")]),
    ("/cities", []),
    ("/cities", [("state", "1")]),
    ("/hoods", []),
    ("/hoods", [("city", str(TEHRAN_CITY))]),
]


async def test_a_list_is_one_statement(client: httpx.AsyncClient, hub: Hub) -> None:
    """Page and total together; past the end, 2 (the count alone)."""
    for path, query in GEO_LISTS:
        with count_statements(hub) as sql:
            body = await fetch(client, path, [*query, ("per-page", "10")])
        assert body["items"], (path, query)
        assert len(sql) == 1, (path, query, sql)
        with count_statements(hub) as sql:
            body = await fetch(client, path, [*query, ("page", "999")])
        assert body["items"] == [], (path, query)
        assert body["_meta"]["totalCount"] > 0, (path, query)
        assert len(sql) == 2, (path, query, sql)


# -- caching ----------------------------------------------------------------------------------


async def test_public_lists_are_cacheable(client: httpx.AsyncClient) -> None:
    for path in ("/countries", "/states", "/cities", "/hoods"):
        response = await client.get("/web" + path)
        assert response.headers["cache-control"] == "public, max-age=300", path


async def test_list_with_a_token_is_not_cached(client: httpx.AsyncClient) -> None:
    # A token in the URL makes the response private to its caller: no shared caching.
    response = await client.get("/web/states", params={"token": "x", "username": "09121234567"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


# A plain query (unreserved characters only) is kept as written; any other is re-encoded. Both
# must give what re-encoding every pair would: the straightforward construction below.
_KEYS = st.sampled_from(["page", "per-page", "perPage", "username", "token", "id", "b~", "", "q+"])
_VALUES = st.text(alphabet="aZ09._~-%+ #/پ", max_size=6)


def _reference(url: URL, page: int, per_page: int) -> str:
    kept = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True)
            if k not in {"page", "per-page", "perPage"}]  # fmt: skip
    return str(url.replace(query=urlencode([*kept, ("page", str(page)),
                                            ("per-page", str(per_page))])))  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_KEYS, st.booleans(), _VALUES), max_size=6),
       st.integers(1, 10**12), st.integers(1, 300))  # fmt: skip
def test_href_keeps_the_query_as_reencoding_would(
    pairs: list[tuple[str, bool, str]], page: int, per_page: int
) -> None:
    query = "&".join(key + ("=" + value if eq else "") for key, eq, value in pairs)
    url = URL(f"http://testserver/web/chats?{query}")
    request = Request({"type": "http", "scheme": "http", "server": ("testserver", 80),
                       "path": "/web/chats", "query_string": query.encode(),
                       "headers": [(b"host", b"testserver")]})  # fmt: skip
    assert _Href.of(request)(page, per_page)["href"] == _reference(url, page, per_page)
