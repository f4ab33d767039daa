"""Seed rows for the geography tables (countries, states, cities, hoods)."""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from typing import Final

from hojre.geo.data.hoods import HOODS
from hojre.geo.data.provinces import PROVINCES

# Id and code of the legacy API, which clients still send.
IRAN_ID: Final = 102
IRAN_CODE: Final = "IR"
IRAN_NAME: Final = "جمهوری اسلامی ایران"

CITIES_RESOURCE: Final = "cities.csv"

Row = dict[str, object]


def _read_cities() -> list[tuple[int, int, str]]:
    # importlib.resources rather than a path next to __file__, so that the data
    # is found in a wheel or zip install too.
    text = files("hojre.geo.data").joinpath(CITIES_RESOURCE).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    return [(int(row["id"]), int(row["state"]), row["title"]) for row in reader]


def geography_rows() -> dict[str, list[Row]]:
    """Rows to insert, by table name, in an order that satisfies the foreign keys."""
    states: list[Row] = [
        {
            "id": p.id,
            "country_id": IRAN_ID,
            "title": p.title,
            "english_title": p.english_title,
            "longitude": p.longitude,
            "latitude": p.latitude,
        }
        for p in PROVINCES
    ]

    cities: list[Row] = []
    city_ids: dict[tuple[int, str], int] = {}
    for city_id, state_id, title in _read_cities():
        cities.append({"id": city_id, "state_id": state_id, "title": title})
        city_ids[(state_id, title)] = city_id

    hoods: list[Row] = []
    for (state_id, city_title), titles in HOODS.items():
        try:
            city_id = city_ids[(state_id, city_title)]
        except KeyError:
            # Fail at seed time: a silently missing city would drop its hoods.
            raise LookupError(
                f"hoods refer to city {city_title!r} of state {state_id}, which is not seeded"
            ) from None
        for title in titles:
            hoods.append({"id": len(hoods) + 1, "city_id": city_id, "title": title})

    return {
        "countries": [{"id": IRAN_ID, "code": IRAN_CODE, "name": IRAN_NAME}],
        "states": states,
        "cities": cities,
        "hoods": hoods,
    }
