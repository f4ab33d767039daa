from __future__ import annotations

from collections import Counter

from hojre.geo.seed import geography_rows

ARABIC_YEH_KAF = ("ي", "ك")


def _titles(table: str) -> list[str]:
    return [str(row["title"]) for row in geography_rows()[table]]


def test_one_country_iran() -> None:
    assert geography_rows()["countries"] == [
        {"id": 102, "code": "IR", "name": "جمهوری اسلامی ایران"}
    ]


def test_thirty_one_states_with_unique_ids_and_titles() -> None:
    states = geography_rows()["states"]
    assert len(states) == 31
    assert len({row["id"] for row in states}) == 31
    assert len({row["title"] for row in states}) == 31
    assert all(row["country_id"] == 102 for row in states)


def test_states_have_english_titles_and_coordinates_inside_iran() -> None:
    for row in geography_rows()["states"]:
        assert str(row["english_title"]).strip(), row
        longitude = float(str(row["longitude"]))
        latitude = float(str(row["latitude"]))
        assert 44 <= longitude <= 64, row
        assert 25 <= latitude <= 40, row


def test_more_than_a_thousand_cities_each_in_an_existing_state() -> None:
    rows = geography_rows()
    state_ids = {row["id"] for row in rows["states"]}
    assert len(rows["cities"]) > 1000
    assert all(row["state_id"] in state_ids for row in rows["cities"])
    assert state_ids == {row["state_id"] for row in rows["cities"]}


def test_no_duplicate_city_within_a_state() -> None:
    pairs = Counter((row["state_id"], row["title"]) for row in geography_rows()["cities"])
    assert [pair for pair, count in pairs.items() if count > 1] == []


def test_tehran_city_has_at_least_80_hoods() -> None:
    rows = geography_rows()
    tehran_state = next(row["id"] for row in rows["states"] if row["title"] == "تهران")
    tehran = [
        row for row in rows["cities"] if row["state_id"] == tehran_state and row["title"] == "تهران"
    ]
    assert len(tehran) == 1
    hoods = [row["title"] for row in rows["hoods"] if row["city_id"] == tehran[0]["id"]]
    assert len(hoods) >= 80
    assert len(set(hoods)) == len(hoods)


def test_every_hood_belongs_to_a_seeded_city() -> None:
    rows = geography_rows()
    city_ids = {row["id"] for row in rows["cities"]}
    assert all(row["city_id"] in city_ids for row in rows["hoods"])
    assert {"اصفهان", "مشهد"} <= {
        row["title"] for row in rows["cities"] if row["id"] in {h["city_id"] for h in rows["hoods"]}
    }


def test_no_title_uses_arabic_yeh_or_kaf() -> None:
    for table in ("states", "cities", "hoods"):
        for title in _titles(table):
            assert not any(ch in title for ch in ARABIC_YEH_KAF), (table, title)
            assert title == title.strip() and "  " not in title, (table, title)


def test_ids_are_unique_in_every_table() -> None:
    for table, rows in geography_rows().items():
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), table
    hood_ids = [row["id"] for row in geography_rows()["hoods"]]
    assert hood_ids == list(range(1, len(hood_ids) + 1))
