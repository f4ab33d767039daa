"""``make bench`` covers every v1 endpoint: each route of the table has a recipe in
bench/endpoints.py that builds well-formed requests, every consumed pool can be re-armed by
bench/dataset.py, and the dataset's counters come from the interactions registry."""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hojre.interactions.registry import KINDS, TARGETS
from hojre.web_v1.app import ROUTERS

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name: str) -> ModuleType:
    """A bench/ script as a module (bench/ is not a package the app ships)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


recipes: Any = _load("endpoints")
ROUTES = {(e.method, e.path) for r in ROUTERS for e in r.endpoints}


def test_every_route_has_a_recipe() -> None:
    assert sorted(ROUTES - set(recipes.TABLE)) == []


def test_no_recipe_outlives_its_route() -> None:
    assert sorted(set(recipes.TABLE) - ROUTES - {recipes.PING}) == []


# One or two lines of every file bench/dataset.py writes (Plan.write_files) and of the arm
# files, in their formats.
TOKEN = "t" * 32
FILES = {
    "users.txt": [f"09300000001 {TOKEN} 1", f"09300000006 {TOKEN} 6"],
    "chats.txt": [f"09300000001 {TOKEN} 11"],
    "finish.txt": [f"09300000001 {TOKEN} 21"],
    "stores.txt": ["1", "2"],
    "products.txt": ["3"],
    "bazaars.txt": ["4"],
    "malls.txt": ["5"],
    "staff.txt": ["1001"],
    "managers.txt": [f"09300001001 {TOKEN} 1001 1"],
    "sellers.txt": [f"09300001101 {TOKEN} 1101 1"],
    "manager_products.txt": [f"09300001001 {TOKEN} 3"],
    "login.txt": ["09300000002"],
    "forget.txt": ["09300000003"],
    "staff_login.txt": ["09300001002"],
    "marks.txt": [f"09300000001 {TOKEN} store 1 like", f"09300000001 {TOKEN} mall 5 view"],
    "offers.txt": [f"09300000001 {TOKEN} 7"],
    "offer_targets.txt": [f"09300001101 {TOKEN} 1 1"],
    "store_messages.txt": [f"09300001001 {TOKEN} 8"],
    "broadcasts.txt": ["9"],
    "countries.txt": ["1"],
    "states.txt": ["1 1"],
    "cities.txt": ["1 1"],
    "hoods.txt": ["1 1 1"],
    "places.txt": ["1 1"],
    "categories.txt": ["1"],
    "points.txt": ["1 51.300000 35.600000"],
    "arm-pending.txt": ["09600000000 10001"],
    "arm-pending-new.txt": ["09500000000 10002"],
    "arm-sessions.txt": [f"09300000004 {TOKEN}"],
    "arm-logout.txt": [f"09300000004 {TOKEN}"],
    "arm-comments.txt": [f"09300000005 {TOKEN} 12"],
    "arm-gallery.txt": [f"09300001001 {TOKEN} 15"],
    "arm-products-manager.txt": [f"09300001001 {TOKEN} 13"],
    "arm-products-seller.txt": [f"09300001101 {TOKEN} 14"],
    "arm-addseller.txt": [f"09300001003 {TOKEN} 3 09800000000"],
    "arm-store-sellers.txt": [f"09300001003 {TOKEN} 16 3"],
    **{f"arm-{k}.txt": [f"09300000005 {TOKEN} store 1"] for k in recipes.DELETE_KINDS},
}


@pytest.fixture
def data(tmp_path: Path) -> Any:
    for name, lines in FILES.items():
        (tmp_path / name).write_text("".join(f"{line}\n" for line in lines))
    return recipes.Data(tmp_path, random.Random(1))


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("/web" + re.sub(r"\\\{\w+\\\}", "[0-9]+", re.escape(path)) + r"(\?.*)?")


@pytest.mark.parametrize(("method", "path"), sorted(recipes.TABLE))
def test_recipe_builds_requests_of_its_route(data: Any, method: str, path: str) -> None:
    requests = recipes.TABLE[(method, path)].build(data, 3)
    assert requests
    for got_method, target, body in requests:
        assert got_method == method
        assert _pattern(path).fullmatch(target), target
        assert (body != "") == (method == "POST")  # every POST of the contract has a form
        assert "\t" not in target + body and "\n" not in target + body


def test_variants_build_requests_of_their_routes(data: Any) -> None:
    """A variant (bench/endpoints.py VARIANTS) is another shape of a route's requests."""
    assert set(recipes.VARIANTS) <= ROUTES
    for (method, path), variants in recipes.VARIANTS.items():
        for variant in variants.values():
            assert variant.pool is None  # measured as its route is, without a pool of its own
            for got_method, target, body in variant.build(data, 3):
                assert got_method == method
                assert _pattern(path).fullmatch(target), target
                assert (body != "") == (method == "POST")


def test_requests_carry_real_logins(data: Any) -> None:
    """Each authenticated route's requests name a user and a token of the dataset."""
    auth = {(e.method, e.path) for r in ROUTERS for e in r.endpoints if e.auth}
    for key in sorted(auth):
        _, target, body = recipes.TABLE[key].build(data, 1)[0]
        assert re.search(rf"username=093\d{{8}}&token={TOKEN}", target + body), key


def test_consumed_pools_can_be_rearmed() -> None:
    dataset: Any = _load("dataset")
    pools = {r.pool for r in recipes.TABLE.values() if r.pool is not None}
    assert sorted(pools - set(dataset.ARM_POOLS)) == []
    # A pool replayed in order is sized by its rate; one drawn from at random is not.
    assert all(r.order == "sequential" or r.pool in (None, "pending-new") or r.chain
               or r.exempt for r in recipes.TABLE.values())  # fmt: skip


def test_counters_come_from_the_registry() -> None:
    dataset: Any = _load("dataset")
    statements = dataset.counter_statements()
    counted = [t for t, spec in TARGETS.items() if spec.counted]
    assert len(statements) == 3 * len(counted)  # marks, views, comments per target
    for target in counted:
        table = TARGETS[target].model.__tablename__
        mine = " ".join(s for s in statements if s.startswith(f"UPDATE {table} "))
        for spec in KINDS.values():
            assert f"{spec.counter} = " in mine
        assert f"target = '{target.value}'" in mine
