"""Slugs of Persian titles, and their uniqueness (-2, -3 …, the unique constraint deciding)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from hojre.catalog import service
from hojre.catalog.models import Bazaar, Mall, Product, Store
from hojre.catalog.service import Slugged, slug_insert, slugify, unique_slug
from hojre.core.db import SessionConn
from hojre.core.hub import Hub
from tests.factories import make_bazaar, make_mall, make_product, make_store

ZWNJ = "\u200c"


@pytest.mark.parametrize(
    ("parts", "slug"),
    [
        (("بازار بزرگ تجریش", "تهران"), "بازار-بزرگ-تجریش-تهران"),
        (("  پاساژ   علاءالدین  ",), "پاساژ-علاءالدین"),
        # Punctuation, Persian and Latin, separates words and never ends up in the slug;
        # the hamza above (a mark) goes with the other vowel marks.
        (("فروشگاه «آوا»، شعبهٔ ۲!",), "فروشگاه-آوا-شعبه-2"),
        (("Digital World: Mobile & Laptop",), "digital-world-mobile-laptop"),
        (("مجتمع_تجاری/کوروش?",), "مجتمع-تجاری-کوروش"),
        # Persian and Arabic-Indic digits become ASCII digits.
        (("پلاک ۱۲۳ و ١٢٣",), "پلاک-123-و-123"),
        # The zero-width non-joiner separates words: invisible characters stay out of URLs.
        ((f"طرح{ZWNJ}نما",), "طرح-نما"),
        ((f"کتاب{ZWNJ}فروشی{ZWNJ}ها",), "کتاب-فروشی-ها"),
        # Arabic yeh and kaf are the Persian letters; vowel marks and tatweel are dropped.
        (("كتاب علي",), "کتاب-علی"),
        (("مُحَمَّد",), "محمد"),
        (("بـــازار",), "بازار"),
        # NFC: a decomposed alef with madda is the composed letter.
        (("\u0627\u0653ذر",), "آذر"),
        (("!!! ؟؟ ...",), ""),
    ],
)
def test_slugify(parts: tuple[str, ...], slug: str) -> None:
    assert slugify(*parts) == slug


def test_slugify_is_nfc() -> None:
    assert slugify("\u0627\u0653ذر") == "\u0622ذر"


@pytest.mark.anyio
async def test_collisions_get_numbers(hub: Hub) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        slugs = [(await make_bazaar(session, title="بازار کفش")).slug for _ in range(3)]
        other = await make_bazaar(session, title="بازار کفش ۲")  # its own base, "…-2"
        fourth = await make_bazaar(session, title="بازار، کفش!")
        mall = await make_mall(session, title="بازار کفش")  # slugs are unique per table
    assert slugs == ["بازار-کفش", "بازار-کفش-2", "بازار-کفش-3"]
    assert other.slug == "بازار-کفش-2-2"
    assert fourth.slug == "بازار-کفش-4"
    assert mall.slug == "بازار-کفش"


@pytest.mark.anyio
async def test_extra_words_and_empty_titles(hub: Hub) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        store = await make_store(session, slug="placeholder")
        conn = SessionConn(session)
        product = {"store_id": store.id, "price": 1, "main_image": "img/p.jpg"}

        async def insert(model: type[Slugged], title: str, *extra: str, **values: Any) -> str:
            values["title"] = title
            made = await unique_slug(
                conn, model, title, *extra, insert=slug_insert(conn, model, values)
            )
            assert await session.scalar(select(model.slug).where(model.id == made.id)) == made.slug
            return made.slug

        assert await insert(Product, "؟!", **product) == "product"
        assert await insert(Product, "...", **product) == "product-2"
        mall = {"logo": "l", "main_image": "m", "location_image": "x"}
        assert await insert(Mall, "پاساژ نور", "تهران", **mall) == "پاساژ-نور-تهران"


@pytest.mark.anyio
async def test_long_titles_fit_the_column(hub: Hub) -> None:
    async with hub.db.unit_of_work(write=True) as session:
        title = "فروشگاه " * 60  # 480 characters
        first = await make_store(session, title=title[:200])
        second = await make_store(session, title=title[:200])
    assert len(first.slug) <= service.SLUG_MAX
    assert second.slug == first.slug + "-2"
    assert not first.slug.endswith("-")


@pytest.mark.anyio
async def test_the_unique_constraint_decides(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slug taken after the look-up (a parallel writer) fails the insert: the next is tried."""
    async with hub.db.unit_of_work(write=True) as session:
        await make_bazaar(session, title="بازار تره‌بار")
        await make_bazaar(session, title="بازار تره‌بار")
    # Pretend the look-up saw nothing, as when the rows were committed just after it.
    monkeypatch.setattr(service, "_free_suffix", lambda base, taken: 1)
    async with hub.db.unit_of_work(write=True) as session:
        late = await make_bazaar(session, title="بازار تره‌بار")
        assert late.slug == "بازار-تره-بار-3"
        product = await make_product(session, await make_store(session), title="سیب")
    async with hub.db.unit_of_work(write=False) as session:
        slugs = (await session.scalars(select(Bazaar.slug).order_by(Bazaar.id))).all()
        assert (await session.get_one(Product, product.id)).slug == "سیب"
        assert await session.scalar(select(Store.slug)) == "فروشگاه-آوا"
    assert slugs == ["بازار-تره-بار", "بازار-تره-بار-2", "بازار-تره-بار-3"]


@pytest.mark.anyio
async def test_on_a_driver_connection(hub: Hub) -> None:
    """The services' path (hojre.core.sql): the row gets its columns' defaults."""
    values = {"title": "پاساژ نور", "logo": "l", "main_image": "m", "location_image": "x"}
    made = []
    for _ in range(2):
        async with hub.db.raw.connect(write=True) as conn:
            insert = slug_insert(conn, Mall, values)
            made.append(await unique_slug(conn, Mall, "پاساژ نور", insert=insert))
    assert [row.slug for row in made] == ["پاساژ-نور", "پاساژ-نور-2"]
    async with hub.db.unit_of_work(write=False) as session:
        mall = await session.get_one(Mall, made[1].id)
    assert (mall.slug, mall.status, mall.viewed, mall.longitude) == ("پاساژ-نور-2", "active", 0, "")
    assert mall.created_at == mall.updated_at


@pytest.mark.anyio
async def test_gives_up_when_every_try_is_taken(hub: Hub) -> None:
    tried: list[str] = []

    async def taken(slug: str) -> int | None:
        tried.append(slug)
        return None

    async with hub.db.raw.connect(write=False) as conn:
        with pytest.raises(service.SlugTaken):
            await unique_slug(conn, Store, "آوا", insert=taken)
    assert tried == ["آوا", "آوا-2", "آوا-3", "آوا-4", "آوا-5"]


@pytest.mark.anyio
@pytest.mark.parametrize("model", [Bazaar, Mall, Store, Product])
async def test_the_slugs_in_use_are_read_from_the_index(hub: Hub, model: type[Slugged]) -> None:
    """Adding a product reads its title's slugs from the unique index, never the table: a LIKE
    read a third of a million products for each product added on the benchmark's big data."""
    from sqlalchemy import text

    query = service._slugs_in_use(model)
    dialect = hub.db.engine.dialect
    bound = query.statement(dialect).params(base="کیف-چرمی", upper="کیف-چرمی.")  # type: ignore[attr-defined]
    compiled = bound.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    async with hub.db.engine.connect() as conn:
        if dialect.name == "sqlite":
            plan = (await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
            details = " ".join(str(row[-1]) for row in plan)
            assert "SEARCH" in details and "SCAN" not in details, details
        else:
            await conn.execute(text("SET enable_seqscan = off"))  # an empty table: no shortcut
            plan = (await conn.execute(text(f"EXPLAIN {compiled}"))).all()
            details = " ".join(str(row[0]) for row in plan)
            assert "Index" in details and "Seq Scan" not in details, details
