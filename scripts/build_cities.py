"""Rebuild src/hojre/geo/data/cities.csv from the django-iranian-cities data set.

Usage (with the project's virtualenv, so that ``hojre`` is importable):

    .venv/bin/python scripts/build_cities.py path/to/city.csv path/to/province.csv

The two CSV files ship inside the django-iranian-cities wheel under
``iranian_cities/data/``. Provenance is recorded in src/hojre/geo/data/SOURCES.md.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

from hojre.geo.data.provinces import PROVINCES

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "src/hojre/geo/data/cities.csv"

ORDINARY_CITY = "0"
# Type 2 rows are the numbered urban districts of large cities ("تهران 5",
# "اهواز1", "تبریز1-"): statistical areas, not cities a user would pick.
URBAN_DISTRICT = "2"
KNOWN_CITY_TYPES = frozenset({ORDINARY_CITY, URBAN_DISTRICT})

_URBAN_DISTRICT_SUFFIX = re.compile(r"[\s\d\-]+$")
_INVISIBLES = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\ufeff"))
_ARABIC_TO_PERSIAN = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})

# Plain code-point order scatters پ چ ژ گ ک ی away from their places in the
# Persian alphabet, which makes the generated ids look random to a Persian reader.
_PERSIAN_ALPHABET = "آاأإبپتثجچحخدذرزژسشصضطظعغفقکگلمنوؤهةیئء"
_RANK = {ch: i for i, ch in enumerate(_PERSIAN_ALPHABET, start=1)}


class DataError(Exception):
    pass


def clean_title(raw: str) -> str:
    return " ".join(raw.translate(_ARABIC_TO_PERSIAN).split())


def match_key(raw: str) -> str:
    # Upstream writes "چهارمحال وبختیاری" where we write "چهارمحال و بختیاری";
    # ignoring spacing and joiners is what makes such names compare equal.
    return "".join(clean_title(raw.translate(_INVISIBLES)).split())


def persian_sort_key(title: str) -> tuple[int, ...]:
    return tuple(0 if ch == " " else _RANK.get(ch, 1000 + ord(ch)) for ch in title)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def map_provinces(upstream: list[dict[str, str]]) -> dict[str, int]:
    ours: dict[str, int] = {}
    for province in PROVINCES:
        key = match_key(province.title)
        if key in ours:
            raise DataError(f"two of our provinces normalise to {key!r}")
        ours[key] = province.id

    mapping: dict[str, int] = {}
    for row in upstream:
        key = match_key(row["name"])
        if key not in ours:
            raise DataError(f"upstream province {row['id']} {row['name']!r} matches none of ours")
        mapping[row["id"]] = ours[key]

    unmatched = set(ours.values()) - set(mapping.values())
    if unmatched:
        titles = sorted(p.title for p in PROVINCES if p.id in unmatched)
        raise DataError(f"provinces missing from upstream: {titles}")
    if len(set(mapping.values())) != len(mapping):
        raise DataError("several upstream provinces map to the same province of ours")
    return mapping


def build(city_rows: list[dict[str, str]], province_map: dict[str, int]) -> list[tuple[int, str]]:
    unknown = {row["city_type"] for row in city_rows} - KNOWN_CITY_TYPES
    if unknown:
        raise DataError(f"unknown city_type values {sorted(unknown)}; review before rebuilding")

    def state_of(row: dict[str, str]) -> int:
        try:
            return province_map[row["province"]]
        except KeyError:
            raise DataError(f"city {row['id']} has unknown province {row['province']}") from None

    cities: set[tuple[int, str]] = set()
    duplicates = 0
    for row in city_rows:
        if row["city_type"] == ORDINARY_CITY:
            title = clean_title(row["name"])
            if not title:
                raise DataError(f"city {row['id']} has an empty name")
            city = (state_of(row), title)
            duplicates += city in cities
            cities.add(city)

    # Districts are spelt differently from their city ("اسلام شهر1" vs "اسلامشهر"),
    # so they are matched ignoring spaces.
    known = {(state, match_key(title)) for state, title in cities}
    merged = 0
    for row in city_rows:
        if row["city_type"] == URBAN_DISTRICT:
            state = state_of(row)
            base = clean_title(_URBAN_DISTRICT_SUFFIX.sub("", row["name"]))
            if not base:
                raise DataError(f"city {row['id']} has an empty name")
            # A district whose city has no row of its own (فردیس) still names a real city.
            if (state, match_key(base)) not in known:
                known.add((state, match_key(base)))
                cities.add((state, base))
            merged += 1

    result = sorted(cities, key=lambda city: (city[0], persian_sort_key(city[1])))
    print(
        f"{len(result)} cities; {duplicates} duplicate rows dropped; "
        f"{merged} urban-district rows folded into their city",
        file=sys.stderr,
    )
    return result


def write(path: Path, cities: list[tuple[int, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "state", "title"])
        for number, (state, title) in enumerate(cities, start=1):
            writer.writerow([number, state, title])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("city_csv", type=Path, help="iranian_cities/data/city.csv")
    parser.add_argument("province_csv", type=Path, help="iranian_cities/data/province.csv")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    try:
        province_map = map_provinces(read_csv(args.province_csv))
        cities = build(read_csv(args.city_csv), province_map)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write(args.output, cities)
    return 0


if __name__ == "__main__":
    sys.exit(main())
