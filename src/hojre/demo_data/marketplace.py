"""The seeded demo marketplace: bazaars, malls, stores with their staff, products, customers
and what those customers did (views, likes, dislikes, favourites, follows, comments), and
their conversations with the stores (chats, messages to stores, offers; see
:mod:`.conversations`) and the admin's broadcasts.

The same seed gives the same rows: one ``random.Random`` and one seeded Faker drive every
choice, every timestamp is counted back from :data:`BASE_TIME`, and nothing depends on the
ids the database hands out. Bazaars and malls (the operators' own, which no endpoint makes)
are added in bulk; stores are opened as store-register opens them and given their profile by
their manager's edit-store, and products (with their gallery) are added by the manager's
add-product, each through its service, then dated back to their planned time; interactions go
through the interactions service, so the counters equal the rows exactly as in production,
and conversations through the messaging service. The caller
owns the unit of work (one transaction for the whole marketplace).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple, TypeVar, cast

from faker import Faker
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hojre.accounts.models import Role, User
from hojre.catalog import products as store_products
from hojre.catalog import registration, store_admin
from hojre.catalog.models import (
    Bazaar,
    BazaarCategory,
    Mall,
    Media,
    Product,
    Status,
    Store,
    StoreSeller,
)
from hojre.catalog.products import ProductFields
from hojre.catalog.registration import StoreFields
from hojre.catalog.service import StoreSide, slugify
from hojre.catalog.store_admin import StoreChanges
from hojre.core.db import SessionConn
from hojre.demo_data import conversations, phrases, words
from hojre.demo_data.phrases import CommentWords
from hojre.demo_data.pictures import SQUARE, Pictures
from hojre.geo.models import City, Hood, State
from hojre.interactions import service as interactions
from hojre.interactions.models import Comment, Mark, View
from hojre.interactions.registry import CATALOG_TARGETS, KINDS, InteractionKind, TargetKind
from hojre.media.storage import MediaStore

T = TypeVar("T")

DEMO_SEED: Final = 1403
# The demo's "now": every generated timestamp lies before it, so a reload is identical.
# Bazaars opened 900-1500 days before it, malls, stores, branches and products after them
# (products at least ~190 days before it); interactions happened in its last 90 days.
BASE_TIME: Final = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

FLAGSHIP_TITLE: Final = "بازار بزرگ حجره"
FLAGSHIP_CATEGORY: Final = 1

BAZAARS_PER_CITY: Final = (7, 5)
MALLS: Final = 10
STORES: Final = 100
BRANCHES: Final = 6  # of the STORES: second shops of a store, under its manager
PRODUCTS: Final = 500
CUSTOMERS: Final = 50  # besides the named demo customers
MIN_STORES_PER_BAZAAR: Final = 4
MIN_PRODUCTS_PER_STORE: Final = 2
SELLERS_WEIGHTS: Final = (2, 4, 4, 2, 1)  # 1 … 5 sellers per store


@dataclass(frozen=True, slots=True)
class DemoCity:
    title: str
    state_id: int
    latitude: float
    longitude: float
    area_code: str
    districts: int


DEMO_CITIES: Final = (
    DemoCity("تهران", 1, 35.6892, 51.3890, "021", 22),
    DemoCity("اصفهان", 2, 32.6546, 51.6680, "031", 15),
)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Chances that a customer who viewed a target also does each of these."""

    like: float
    dislike: float
    favorite: float
    notification: float
    comment: float


BEHAVIOUR: Final[dict[TargetKind, Behaviour]] = {
    TargetKind.bazaar: Behaviour(0.35, 0.07, 0.15, 0.15, 0.12),
    TargetKind.mall: Behaviour(0.35, 0.07, 0.15, 0.12, 0.12),
    TargetKind.store: Behaviour(0.40, 0.08, 0.20, 0.20, 0.15),
    TargetKind.product: Behaviour(0.30, 0.06, 0.12, 0.03, 0.10),
}
HIDDEN_COMMENTS: Final = 0.03  # share of other customers' comments hidden by moderation


class DemoDataError(RuntimeError):
    """The database cannot take the demo marketplace (missing geography, taken numbers)."""


# -- text helpers ----------------------------------------------------------------------------

_ARABIC_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
SLUG_BASE_MAX: Final = 240  # of the 250 a slug may have: room for "-<n>"


def persian(text: str) -> str:
    """Persian letters for the Arabic ones Faker's fa_IR lists sometimes use."""
    return text.translate(_ARABIC_LETTERS)


def fa_number(value: int) -> str:
    return str(value).translate(_PERSIAN_DIGITS)


def round_price(value: float) -> int:
    """Rials as a shop writes them: three significant digits, in steps of five (1,250,000)."""
    digits = len(str(int(value)))
    step = max(10_000, 5 * 10 ** (digits - 3))
    return int(max(step, round(value / step) * step))


def demo_cellphone(role: Role, number: int) -> str:
    """The reserved numbers of generated users: 09121, the role's last digit, 5 digits
    (store managers 091216…, sellers 091217…, customers 091218…); never a named account."""
    if not 0 < number < 100_000:
        raise ValueError(f"demo user number out of range: {number}")
    return f"09121{int(role) % 10}{number:05d}"


MARKER_SLUG: Final = slugify(FLAGSHIP_TITLE, DEMO_CITIES[0].title)


# -- what the caller passes and gets ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NamedUsers:
    """Ids of the named demo accounts that take part in the marketplace."""

    customers: tuple[int, ...]  # the demo customer first
    seller: int | None
    manager: int | None
    admin: int | None = None  # the author of the broadcasts


@dataclass(frozen=True, slots=True)
class Summary:
    bazaars: int
    malls: int
    stores: int
    products: int
    users: int
    views: int
    marks: int
    comments: int
    chats: int = 0
    chat_messages: int = 0
    store_messages: int = 0
    offers: int = 0
    broadcasts: int = 0


async def exists(session: AsyncSession) -> bool:
    """Whether the demo marketplace is loaded (its flagship bazaar is there)."""
    return await session.scalar(select(Bazaar.id).where(Bazaar.slug == MARKER_SLUG)) is not None


async def create(
    session: AsyncSession, *, seed: int, password_hash: str, named: NamedUsers, media: MediaStore
) -> Summary:
    """Add the whole marketplace in the caller's transaction (flushes, never commits); its
    pictures go to ``media``."""
    pictures = Pictures(SessionConn(session), media)
    return await _Generator(session, seed, password_hash, named, pictures).run()


# -- the generator ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _City:
    spec: DemoCity
    id: int
    state_id: int
    country_id: int
    hoods: tuple[tuple[int | None, str], ...]


@dataclass(slots=True)
class _Site:
    """A bazaar or mall while it is generated."""

    number: int
    title: str
    category: int
    city: _City
    hood: tuple[int | None, str]
    created: datetime
    host: int | None = None  # a mall's bazaar (index)
    address: str = ""
    id: int = 0


@dataclass(slots=True)
class _StorePlan:
    number: int  # 1-based: images and ordering, never the database id
    category: int
    city: _City
    hood: tuple[int | None, str]
    bazaar: int | None  # index into bazaars; None for a street shop
    mall: int | None
    parent: int | None  # index of the main store of a branch
    sellers: int
    manager: int | None = None  # user id
    seller_ids: list[int] = field(default_factory=list)
    title: str = ""
    created: datetime = BASE_TIME
    id: int = 0


# What a store's manager writes with edit-store (the rest came with the store's form).
_PROFILE: Final = ("about", "email", "instagram", "logo", "main_image", "store_front_image",
                   "location_image")  # fmt: skip


class _Actor(NamedTuple):
    """A store's manager, as the store side's service sees its caller."""

    id: int
    role: int


class _Product(NamedTuple):
    """A product the demo added: what the later steps read of it."""

    id: int
    store_id: int
    title: str
    price: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class _Event:
    at: datetime
    user_id: int
    target: TargetKind
    target_id: int
    kind: InteractionKind
    comment: interactions.CommentInput | None = None


Key = tuple[int, TargetKind, int, str]  # user, target, target id, slot ("view", "comment")


def _slot(kind: InteractionKind) -> str:
    return KINDS[kind].slot or kind.value


class _Generator:
    def __init__(
        self, session: AsyncSession, seed: int, password_hash: str, named: NamedUsers,
        pictures: Pictures,
    ) -> None:  # fmt: skip
        self.session = session
        self.pictures = pictures
        self.rng = random.Random(seed)
        self.fake = Faker("fa_IR")
        self.fake.seed_instance(seed)
        self.password_hash = password_hash
        self.named = named
        self.slugs: dict[type[Any], set[str]] = {}
        self.names: list[str] = []
        self.numbers: dict[Role, int] = {}
        self.users = 0
        # Interactions: the plan, one event per key, so a user never holds two marks of a slot.
        self.events: list[_Event] = []
        self.times: dict[Key, datetime] = {}
        self.comment_times: list[tuple[int, datetime]] = []  # (comment id, planned time)
        self.targets: dict[TargetKind, list[int]] = {}
        self.popularity: dict[TargetKind, list[float]] = {}

    async def run(self) -> Summary:
        cities = await self._cities()
        categories = await self._categories()
        for model in (Bazaar, Mall, Store, Product):
            self.slugs[model] = set((await self.session.scalars(select(model.slug))).all())

        bazaars = self._bazaars(cities, categories)
        await self._insert(bazaars, [self._bazaar_row(b) for b in bazaars])
        malls = self._malls(bazaars)
        await self._insert(malls, [self._mall_row(m, bazaars) for m in malls])
        stores = self._plan_stores(cities, bazaars, malls)
        customers = await self._users(stores, cities)
        await self._stores(stores, bazaars, malls)
        products = await self._products(stores)
        self._media(bazaars, malls, stores)
        await self.pictures.flush()
        await self.session.flush()
        # The catalogue is written: keep plain ids only, so that the counter updates of the
        # interactions service have no identity map of hundreds of objects to walk.
        self.session.expunge_all()

        self.targets = {
            TargetKind.bazaar: [b.id for b in bazaars],
            TargetKind.mall: [m.id for m in malls],
            TargetKind.store: [s.id for s in stores],
            TargetKind.product: [p.id for p in products],
        }
        self.popularity = {
            kind: [self.rng.paretovariate(1.3) for _ in ids] for kind, ids in self.targets.items()
        }
        staff = self._staff(stores)
        # The flagship bazaar, its first mall and store (the named staff's) and that store's
        # first product: the demo customer's favourites, so their pages show comments too.
        showcase = {
            TargetKind.bazaar: bazaars[0].id,
            TargetKind.mall: malls[0].id,
            TargetKind.store: stores[0].id,
            TargetKind.product: products[0].id,
        }
        self._plan_demo_customer(showcase, staff)
        for user_id in (*self.named.customers[1:], *customers):
            self._plan_customer(user_id, staff)
        counts = await self._play()
        talk = await self._conversations(stores, products, customers)
        await self._settle_timestamps(bazaars, malls, stores, products)
        return Summary(
            bazaars=len(bazaars),
            malls=len(malls),
            stores=len(stores),
            products=len(products),
            users=self.users,
            views=counts.get(InteractionKind.view, 0),
            marks=sum(n for kind, n in counts.items() if KINDS[kind].slot is not None),
            comments=counts.get(InteractionKind.comment, 0),
            chats=talk.chats,
            chat_messages=talk.chat_messages,
            store_messages=talk.store_messages,
            offers=talk.offers,
            broadcasts=talk.broadcasts,
        )

    # -- small helpers ---------------------------------------------------------------------

    def _ago(self, low_days: float, high_days: float) -> datetime:
        seconds = self.rng.randint(int(low_days * 86400), int(high_days * 86400))
        return BASE_TIME - timedelta(seconds=seconds)

    def _pick(self, values: Sequence[T]) -> T:
        return self.rng.choice(values)

    def _slug(self, model: type[Any], title: str, city: _City) -> str:
        """The catalogue's slug (title and city, -2, -3 … when taken), without a query each."""
        taken = self.slugs[model]
        base = slugify(title, city.spec.title)[:SLUG_BASE_MAX].strip("-")
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        return slug

    def _street(self, city: _City, hood: str) -> str:
        street = f"{self._pick(words.STREET_KINDS)} {persian(self.fake.last_name())}"
        plate = fa_number(self.rng.randint(1, 250))
        return f"{city.spec.title}، {hood}، {street}، پلاک {plate}"

    def _geo(self, city: _City, hood: tuple[int | None, str]) -> dict[str, Any]:
        spec = city.spec
        return {
            "country_id": city.country_id,
            "state_id": city.state_id,
            "city_id": city.id,
            "hood_id": hood[0],
            "district": f"منطقه {fa_number(self.rng.randint(1, spec.districts))}",
            "latitude": f"{spec.latitude + self.rng.uniform(-0.06, 0.06):.6f}",
            "longitude": f"{spec.longitude + self.rng.uniform(-0.08, 0.08):.6f}",
        }

    async def _insert(self, items: Sequence[_Site | _StorePlan], rows: Sequence[Any]) -> None:
        """Insert in one flush and copy the new ids back into the plan."""
        self.session.add_all(rows)
        await self.session.flush()
        for item, row in zip(items, rows, strict=True):
            item.id = row.id

    # -- reference data --------------------------------------------------------------------

    async def _cities(self) -> list[_City]:
        found: list[_City] = []
        for spec in DEMO_CITIES:
            row = (
                await self.session.execute(
                    select(City.id, City.state_id, State.country_id)
                    .join(State, State.id == City.state_id)
                    .where(City.state_id == spec.state_id, City.title == spec.title)
                    .order_by(City.id)
                    .limit(1)
                )
            ).first()
            if row is None:
                raise DemoDataError(f"city {spec.title!r} not found: run `hojre db upgrade`")
            hoods = (
                await self.session.execute(
                    select(Hood.id, Hood.title).where(Hood.city_id == row[0]).order_by(Hood.id)
                )
            ).all()
            hood_list: tuple[tuple[int | None, str], ...] = tuple((h[0], h[1]) for h in hoods) or (
                (None, "مرکز شهر"),
            )
            found.append(_City(spec, row[0], row[1], row[2], hood_list))
        return found

    async def _categories(self) -> list[int]:
        ids = await self.session.scalars(select(BazaarCategory.id).order_by(BazaarCategory.id))
        usable = [i for i in ids.all() if i in words.CATEGORY_WORDS]
        if len(usable) < 5:
            raise DemoDataError("the bazaar categories are missing: run `hojre db upgrade`")
        return usable

    # -- bazaars and malls -----------------------------------------------------------------

    def _bazaars(self, cities: list[_City], categories: list[int]) -> list[_Site]:
        rng = self.rng
        flagship = FLAGSHIP_CATEGORY if FLAGSHIP_CATEGORY in categories else categories[0]
        # Each city draws from its own shuffled deck, so its bazaars differ in category.
        decks: list[list[int]] = []
        for count in BAZAARS_PER_CITY:
            deck: list[int] = []
            while len(deck) < count:
                deck += rng.sample(categories, len(categories))
            decks.append(deck[:count])
        first = decks[0]
        first.insert(0, first.pop(first.index(flagship)) if flagship in first else flagship)
        del first[BAZAARS_PER_CITY[0] :]
        self.names = rng.sample(words.NAME_WORDS, len(words.NAME_WORDS))
        titles: set[str] = set()
        sites: list[_Site] = []
        for city, deck in zip(cities, decks, strict=True):
            for category in deck:
                number = len(sites) + 1
                hood = self._pick(city.hoods)
                goods = words.CATEGORY_WORDS[category].goods
                title = FLAGSHIP_TITLE if number == 1 else ""
                while not title or title in titles:
                    prefix = self._pick(words.BAZAAR_PREFIXES)
                    name = hood[1] if prefix == "راسته" else self.names.pop()
                    title = f"{prefix} {self._pick(goods)} {name}"
                titles.add(title)
                sites.append(_Site(number, title, category, city, hood, self._ago(900, 1500)))
        return sites

    def _showcase(
        self, kind: str, site: _Site, intros: Sequence[str], count: tuple[int, int, int]
    ) -> tuple[str, dict[str, Any]]:
        """The intro and the fields bazaars and malls share (sets ``site.address``).

        Place fields come after the caller's own draws, keeping the seeded data as it was.
        """
        intro = self._pick(intros).format(
            title=site.title,
            goods=self._pick(words.CATEGORY_WORDS[site.category].goods),
            hood=site.hood[1],
            city=site.city.spec.title,
            count=fa_number(self.rng.randrange(*count)),
        )
        site.address = self._street(site.city, site.hood[1])
        n = site.number
        fields: dict[str, Any] = {
            "title": site.title,
            "category_id": site.category,
            "logo": self.pictures.want(f"img/demo/{kind}-{n}-logo.jpg", site.title, SQUARE),
            "main_image": self.pictures.want(f"img/demo/{kind}-{n}.jpg", site.title),
            "location_image": self.pictures.want(f"img/demo/{kind}-{n}-map.jpg", site.title),
            "status": Status.active,
            "address": site.address,
            "created_at": site.created,
            "updated_at": site.created,
        }
        return intro, fields

    def _bazaar_row(self, site: _Site) -> Bazaar:
        intro, fields = self._showcase("bazaar", site, phrases.BAZAAR_INTROS, (50, 400, 10))
        return Bazaar(
            slug=self._slug(Bazaar, site.title, site.city),
            description=" ".join((intro, *self.rng.sample(phrases.BAZAAR_NOTES, 2))),
            **fields,
            **self._geo(site.city, site.hood),  # after the notes: the seeded order of draws
        )

    def _malls(self, bazaars: list[_Site]) -> list[_Site]:
        # The flagship bazaar holds two malls, eight other bazaars one each.
        hosts = [0, 0, *sorted(self.rng.sample(range(1, len(bazaars)), MALLS - 2))]
        malls: list[_Site] = []
        for host in hosts:
            bazaar = bazaars[host]
            title = f"{self._pick(words.MALL_PREFIXES)} {self.names.pop()}"
            hood = bazaar.hood if self.rng.random() < 0.5 else self._pick(bazaar.city.hoods)
            created = bazaar.created + timedelta(days=self.rng.randint(30, 200))
            number = len(malls) + 1
            malls.append(
                _Site(number, title, bazaar.category, bazaar.city, hood, created, host=host)
            )
        return malls

    def _mall_row(self, site: _Site, bazaars: list[_Site]) -> Mall:
        assert site.host is not None
        intro, fields = self._showcase("mall", site, phrases.MALL_INTROS, (40, 200, 5))
        return Mall(
            slug=self._slug(Mall, site.title, site.city),
            bazaar_id=bazaars[site.host].id,
            description=" ".join((intro, self._pick(phrases.MALL_NOTES))),
            **fields,
            **self._geo(site.city, site.hood),
        )

    # -- stores and their people -----------------------------------------------------------

    def _plan_stores(
        self, cities: list[_City], bazaars: list[_Site], malls: list[_Site]
    ) -> list[_StorePlan]:
        rng = self.rng
        main = STORES - BRANCHES
        per_bazaar = [MIN_STORES_PER_BAZAAR] * len(bazaars)
        weights = [3.0 if i == 0 else 1.0 for i in range(len(bazaars))]
        for _ in range(main - sum(per_bazaar)):
            per_bazaar[rng.choices(range(len(bazaars)), weights)[0]] += 1
        plans: list[_StorePlan] = []
        for index, count in enumerate(per_bazaar):
            own = [m for m, mall in enumerate(malls) if mall.host == index]
            for j in range(count):
                # Every mall gets two stores first; then half of the rest are in a mall.
                if j < 2 * len(own):
                    mall: int | None = own[j % len(own)]
                elif own and rng.random() < 0.5:
                    mall = self._pick(own)
                else:
                    mall = None
                site = bazaars[index] if mall is None else malls[mall]
                sellers = rng.choices(range(1, 6), SELLERS_WEIGHTS)[0]
                plans.append(
                    _StorePlan(
                        len(plans) + 1, site.category, site.city, site.hood, index, mall, None,
                        sellers,
                    )
                )  # fmt: skip
        # Branches: street shops of a store, in either city. The first store (the named
        # manager's) has one, five random stores one each.
        parents = [0, *rng.sample(range(1, main), BRANCHES - 1)]
        for parent in parents:
            city = self._pick(cities)
            hood = self._pick(city.hoods)
            sellers = rng.choices(range(1, 4), (3, 3, 1))[0]
            category = plans[parent].category
            plans.append(
                _StorePlan(len(plans) + 1, category, city, hood, None, None, parent, sellers)
            )
        return plans

    def _user(self, role: Role, city: _City) -> User:
        rng = self.rng
        number = self.numbers[role] = self.numbers.get(role, 0) + 1
        self.users += 1
        gender = self._pick(("male", "female"))
        name = self.fake.first_name_male() if gender == "male" else self.fake.first_name_female()
        hood = self._pick(city.hoods)
        created = self._ago(95, 700)
        return User(
            cellphone=demo_cellphone(role, number),
            password_hash=self.password_hash,
            is_active=True,
            role=int(role),
            name=persian(name),
            family=persian(self.fake.last_name()),
            gender=gender,
            age=rng.randint(19, 64),
            country_id=city.country_id,
            state_id=city.state_id,
            city_id=city.id,
            hood_id=hood[0],
            address=self._street(city, hood[1]) if rng.random() < 0.4 else None,
            avatar=(
                self.pictures.want(f"img/demo/user-{self.users}.jpg", persian(name), SQUARE)
                if rng.random() < 0.6
                else None
            ),
            created_at=created,
            updated_at=created,
            activated_at=created + timedelta(minutes=rng.randint(1, 30)),
        )

    async def _users(self, stores: list[_StorePlan], cities: list[_City]) -> list[int]:
        """Managers of the main stores, sellers of every store, customers; returns customers."""
        named = self.named
        managers: list[tuple[_StorePlan, User]] = []
        sellers: list[tuple[_StorePlan, User]] = []
        for plan in stores:
            if plan.parent is None:
                if plan.number == 1 and named.manager is not None:
                    plan.manager = named.manager
                else:
                    managers.append((plan, self._user(Role.store_manager, plan.city)))
        for plan in stores:
            count = plan.sellers
            if plan.number == 1 and named.seller is not None:
                plan.seller_ids.append(named.seller)
                count -= 1
            for _ in range(count):
                sellers.append((plan, self._user(Role.seller, plan.city)))
        customers = [
            self._user(Role.customer, cities[0] if self.rng.random() < 0.65 else cities[1])
            for _ in range(CUSTOMERS)
        ]
        rows = [u for _, u in managers] + [u for _, u in sellers] + customers
        phones = [u.cellphone for u in rows]
        taken = (
            await self.session.scalars(select(User.cellphone).where(User.cellphone.in_(phones)))
        ).all()
        if taken:
            raise DemoDataError(
                f"the demo's reserved cellphones are taken already: {', '.join(sorted(taken))}"
            )
        self.session.add_all(rows)
        await self.session.flush()
        for plan, user in managers:
            plan.manager = user.id
        for plan, user in sellers:
            plan.seller_ids.append(user.id)
        for plan in stores:
            if plan.parent is not None:
                plan.manager = stores[plan.parent].manager
        return [u.id for u in customers]

    def _store_values(
        self, plan: _StorePlan, stores: list[_StorePlan], site: _Site | None
    ) -> dict[str, Any]:
        """What the store's manager fills in, by column name. ``site``: the mall or bazaar
        the store is in (None for a street shop)."""
        rng = self.rng
        city, hood = plan.city, plan.hood
        cw = words.CATEGORY_WORDS[plan.category]
        if plan.parent is None:
            assert site is not None
            titles = {s.title for s in stores}
            while not plan.title or plan.title in titles:
                shop = self._pick(cw.shops)
                roll = rng.random()
                if roll < 0.5:
                    plan.title = f"{shop} {self._pick(words.NAME_WORDS)}"
                elif roll < 0.8:
                    plan.title = f"{shop} {persian(self.fake.last_name())}"
                else:
                    plan.title = f"{shop} برادران {persian(self.fake.last_name())}"
            plan.created = site.created + timedelta(days=rng.randint(10, 300))
        else:
            parent = stores[plan.parent]
            plan.title = f"{parent.title} {words.BRANCH} {hood[1]}"
            plan.created = parent.created + timedelta(days=rng.randint(20, 120))
        if site is None:
            address = self._street(city, hood[1])
        else:
            floor, unit = self._pick(words.FLOORS), fa_number(rng.randint(1, 180))
            address = f"{city.spec.title}، {hood[1]}، {site.title}، {floor}، واحد {unit}"
        about = self._pick(phrases.STORE_INTROS).format(
            title=plan.title,
            goods=self._pick(cw.goods),
            city=city.spec.title,
            year=fa_number(rng.randint(1365, 1400)),
            count=fa_number(rng.randint(3, 30)),
        )
        n = plan.number
        return dict(
            title=plan.title,
            category_id=plan.category,
            phone=f"{city.spec.area_code}{rng.randint(22_000_000, 88_999_999)}",
            email=f"store{n}@example.com" if rng.random() < 0.4 else None,
            instagram=f"hojre_demo_store{n}" if rng.random() < 0.5 else None,
            about=" ".join((about, *rng.sample(phrases.STORE_NOTES, 2))),
            logo=self.pictures.want(f"img/demo/store-{n}-logo.jpg", plan.title, SQUARE),
            main_image=self.pictures.want(f"img/demo/store-{n}.jpg", plan.title),
            certificate_image=self.pictures.want(f"img/demo/store-{n}-certificate.jpg", plan.title),
            store_front_image=self.pictures.want(f"img/demo/store-{n}-front.jpg", plan.title),
            location_image=self.pictures.want(f"img/demo/store-{n}-map.jpg", plan.title),
            address=address,
            **self._geo(city, hood),
        )

    async def _stores(
        self, stores: list[_StorePlan], bazaars: list[_Site], malls: list[_Site]
    ) -> None:
        """Each store opened as store-register opens one (its form checked by
        :func:`registration.check_store`, then :func:`registration.open_store`), active at once
        (the demo's operator approved them all), its profile written by its manager's
        ``edit-store`` (:func:`store_admin.edit_store`); then dated back to its plan and, for a
        branch, linked to its main store (no endpoint makes branches)."""
        conn = SessionConn(self.session)
        main = [p for p in stores if p.parent is None]
        branches = [p for p in stores if p.parent is not None]
        settled: list[dict[str, Any]] = []
        for group in (main, branches):  # a branch needs its main store's id
            for plan in group:
                assert plan.manager is not None  # every store has one (_users)
                bazaar = bazaars[plan.bazaar] if plan.bazaar is not None else None
                mall = malls[plan.mall] if plan.mall is not None else None
                v = self._store_values(plan, stores, mall or bazaar)
                form = StoreFields(
                    title=v["title"], address=v["address"], phone=v["phone"],
                    state=str(v["state_id"]), city=str(v["city_id"]),
                    hood=None if v["hood_id"] is None else str(v["hood_id"]),
                    category=str(v["category_id"]),
                    bazaar=None if bazaar is None else str(bazaar.id),
                    mall=None if mall is None else str(mall.id),
                    certificate=v["certificate_image"],
                    longitude=v["longitude"], latitude=v["latitude"],
                )  # fmt: skip
                await self.pictures.flush()  # the store's pictures, before its form is checked
                checked = await registration.check_store(conn, form)
                plan.id = await registration.open_store(
                    conn, manager_id=plan.manager, values=checked, status=Status.active
                )
                profile = {name: v[name] for name in _PROFILE if v[name] is not None}
                await store_admin.edit_store(
                    conn, caller=_Actor(plan.manager, int(Role.store_manager)),
                    changes=StoreChanges(profile), store_id=plan.id,
                )  # fmt: skip
                settled.append({
                    "id": plan.id, "created_at": plan.created, "updated_at": plan.created,
                    "district": v["district"],
                    "parent_id": None if plan.parent is None else stores[plan.parent].id,
                })  # fmt: skip
        # The services stamp "now": back to the plan (and the branches to their main store).
        await self.session.execute(update(Store), settled)
        self.session.add_all(
            StoreSeller(
                store_id=plan.id,
                user_id=user_id,
                status=Status.active,
                created_at=plan.created + timedelta(days=self.rng.randint(0, 60)),
            )
            for plan in stores
            for user_id in plan.seller_ids
        )

    # -- products and media ----------------------------------------------------------------

    async def _products(self, stores: list[_StorePlan]) -> list[_Product]:
        """Each store's products, added by its manager through the store side's service
        (``add-product``, its gallery in ``Gallery[n]``), then dated back to their plan."""
        rng = self.rng
        conn = SessionConn(self.session)
        counts = [MIN_PRODUCTS_PER_STORE] * len(stores)
        weights = [rng.uniform(0.5, 2.0) * (0.5 if p.parent is not None else 1) for p in stores]
        for _ in range(PRODUCTS - sum(counts)):
            counts[rng.choices(range(len(stores)), weights)[0]] += 1
        rows: list[_Product] = []
        for plan, count in zip(stores, counts, strict=True):
            assert plan.manager is not None  # every store has one (_users)
            manager = _Actor(plan.manager, int(Role.store_manager))
            cw = words.CATEGORY_WORDS[plan.category]
            titles: set[str] = set()
            for _ in range(count):
                title = ""
                for _attempt in range(8):
                    kind = self._pick(cw.products)
                    parts = (kind.noun, self._pick(cw.lines), self._pick((*kind.variants, "")))
                    title = " ".join(p for p in parts if p)
                    if title not in titles:
                        break
                titles.add(title)
                price = round_price(math.exp(rng.uniform(math.log(kind.low), math.log(kind.high))))
                created = plan.created + timedelta(days=rng.randint(1, 90))
                number = len(rows) + 1
                pictures = rng.randint(1, 3)
                gallery = [
                    self.pictures.want(f"img/demo/product-{number}-{n}.jpg", title)
                    for n in range(1, pictures + 1)
                ]
                main_image = self.pictures.want(f"img/demo/product-{number}.jpg", title)
                await self.pictures.flush()  # add-product checks its pictures are uploads
                sent = ProductFields(
                    title=title,
                    main_image=main_image,
                    category=str(plan.category),
                    description=" ".join(rng.sample(cw.features, 2)),
                    price=str(price),
                    media=(*gallery, *[None] * (3 - pictures), None),
                )
                product_id = await store_products.add_product(
                    conn, caller=manager, side=StoreSide.manager, store_id=plan.id, sent=sent
                )
                rows.append(_Product(product_id, plan.id, title, price, created))
        await self._date_products(rows)
        return rows

    async def _date_products(self, rows: list[_Product]) -> None:
        """The service stamps "now": each product and its gallery back to the planned time."""
        await self.session.execute(
            update(Product), [{"id": p.id, "created_at": p.created_at,
                               "updated_at": p.created_at} for p in rows]
        )  # fmt: skip
        media = cast(Table, Media.__table__)
        await self.session.execute(
            update(media)
            .where(
                media.c.target == TargetKind.product.value, media.c.target_id == bindparam("pid")
            )
            .values(created_at=bindparam("at"), updated_at=bindparam("at")),
            [{"pid": p.id, "at": p.created_at} for p in rows],
        )

    def _media(
        self,
        bazaars: list[_Site],
        malls: list[_Site],
        stores: list[_StorePlan],
    ) -> None:
        """The galleries of bazaars, malls and stores (a product's came with it)."""
        items: list[tuple[TargetKind, int, str, datetime, int]] = [
            *((TargetKind.bazaar, b.id, b.title, b.created, 3) for b in bazaars),
            *((TargetKind.mall, m.id, m.title, m.created, 2) for m in malls),
            *((TargetKind.store, s.id, s.title, s.created, 2) for s in stores),
        ]
        numbers = dict.fromkeys(CATALOG_TARGETS, 0)
        rows: list[Media] = []
        for kind, target_id, title, created, count in items:
            numbers[kind] += 1
            for order in range(1, count + 1):
                rows.append(
                    Media(
                        target=kind.value,
                        target_id=target_id,
                        title=f"{title} - تصویر {fa_number(order)}",
                        type="image",
                        source=self.pictures.want(
                            f"img/demo/{kind.value}-{numbers[kind]}-{order}.jpg", title
                        ),
                        order=order,
                        status=Status.active,
                        created_at=created,
                        updated_at=created,
                    )
                )
        self.session.add_all(rows)

    # -- interactions: plan ----------------------------------------------------------------

    def _staff(self, stores: list[_StorePlan]) -> list[tuple[int, float]]:
        """Sellers and managers customers may comment on; the named ones more often."""
        people: dict[int, float] = {}
        mine = {self.named.seller, self.named.manager}
        for plan in stores:
            for user_id in (plan.manager, *plan.seller_ids):
                if user_id is not None:
                    people[user_id] = 6.0 if user_id in mine else 1.0
        return list(people.items())

    def _sample(
        self, target: TargetKind, k: int, exclude: frozenset[int] = frozenset()
    ) -> list[int]:
        """k distinct targets, popular ones likelier (weighted sampling without replacement)."""
        keyed = [
            (self.rng.random() ** (1.0 / weight), target_id)
            for target_id, weight in zip(self.targets[target], self.popularity[target], strict=True)
            if target_id not in exclude
        ]
        keyed.sort(reverse=True)
        return [target_id for _, target_id in keyed[:k]]

    def _plan(
        self,
        at: datetime,
        user_id: int,
        target: TargetKind,
        target_id: int,
        kind: InteractionKind,
        comment: interactions.CommentInput | None = None,
    ) -> None:
        key = (user_id, target, target_id, _slot(kind))
        if key in self.times:
            return
        self.times[key] = at
        self.events.append(_Event(at, user_id, target, target_id, kind, comment))

    def _later(self, at: datetime) -> datetime:
        return at + timedelta(seconds=self.rng.randint(30, 1800))

    def _comment(self, target: TargetKind, mood: str) -> interactions.CommentInput:
        rng = self.rng
        group: CommentWords = (
            phrases.PRODUCT
            if target is TargetKind.product
            else phrases.PERSON
            if target is TargetKind.user
            else phrases.PLACE
        )
        if mood == "good":
            said = rng.sample(group.good, rng.randint(1, 2))
            ending = self._pick(phrases.GOOD_ENDINGS)
            score = self._pick((4, 5, 5))
            pros, cons = rng.randint(1, 3), rng.randint(0, 1)
        elif mood == "bad":
            said = rng.sample(group.bad, rng.randint(1, 2))
            ending = self._pick(phrases.BAD_ENDINGS)
            score = self._pick((1, 2, 2))
            pros, cons = rng.randint(0, 1), rng.randint(1, 2)
        else:
            said = [self._pick(group.good), phrases.BUT + self._pick(group.bad)]
            ending, score = "", 3
            pros, cons = rng.randint(1, 2), rng.randint(1, 2)
        text = self._pick(phrases.OPENERS) + " ".join(s for s in (*said, ending) if s)
        return interactions.check_comment(
            text,
            "\n".join(rng.sample(group.pros, pros)) or None,
            "\n".join(rng.sample(group.cons, cons)) or None,
            None if rng.random() < 0.1 else score,
        )

    def _plan_demo_customer(
        self, showcase: dict[TargetKind, int], staff: list[tuple[int, float]]
    ) -> None:
        """The demo customer has a few of everything, so each of their lists shows items."""
        if not self.named.customers:
            return
        user = self.named.customers[0]
        like, dislike = InteractionKind.like, InteractionKind.dislike
        favorite, follow = InteractionKind.favorite, InteractionKind.notification
        for target in CATALOG_TARGETS:
            first = showcase[target]
            ids = [first, *self._sample(target, 6, frozenset({first}))]
            times = sorted(self._ago(0.1, 60) for _ in ids)
            for target_id, at in zip(ids, times, strict=True):
                self._plan(at, user, target, target_id, InteractionKind.view)
            plan: list[tuple[int, InteractionKind, str | None]] = [
                (0, like, None), (1, like, None), (2, like, None), (3, dislike, None),
                (0, favorite, None), (4, favorite, None), (0, follow, None), (5, follow, None),
                (0, InteractionKind.comment, "good"), (3, InteractionKind.comment, "bad"),
                (6, InteractionKind.comment, "mixed"),
            ]  # fmt: skip
            for index, kind, mood in plan:
                if index >= len(ids):
                    continue
                comment = self._comment(target, mood) if mood else None
                at = self._later(times[index])
                self._plan(at, user, target, ids[index], kind, comment)
        people = [p for p in (self.named.seller, self.named.manager) if p is not None]
        others = [p for p, _ in staff if p not in people]
        for person, mood in zip(
            (*people, self._pick(others)), ("good", "mixed", "good"), strict=False
        ):
            comment = self._comment(TargetKind.user, mood)
            self._plan(
                self._ago(1, 60), user, TargetKind.user, person, InteractionKind.comment, comment
            )

    def _plan_customer(self, user: int, staff: list[tuple[int, float]]) -> None:
        rng = self.rng
        activity = rng.uniform(0.2, 1.0)
        visits = {
            TargetKind.bazaar: rng.randint(0, 1),
            TargetKind.mall: rng.randint(0, 2),
            TargetKind.store: rng.randint(1, 4),
            TargetKind.product: 1 + int(activity * 16),
        }
        for target in CATALOG_TARGETS:
            for target_id in self._sample(target, visits[target]):
                self._visit(user, target, target_id)
        if rng.random() < 0.25:
            person = rng.choices([p for p, _ in staff], [w for _, w in staff])[0]
            mood = self._pick(("good", "good", "good", "mixed", "bad"))
            comment = self._comment(TargetKind.user, mood)
            self._plan(
                self._ago(1, 90), user, TargetKind.user, person, InteractionKind.comment, comment
            )

    def _visit(self, user: int, target: TargetKind, target_id: int) -> None:
        rng = self.rng
        odds = BEHAVIOUR[target]
        at = self._ago(0.05, 90)
        self._plan(at, user, target, target_id, InteractionKind.view)
        roll = rng.random()
        vote = (
            InteractionKind.like
            if roll < odds.like
            else InteractionKind.dislike
            if roll < odds.like + odds.dislike
            else None
        )
        if vote is not None:
            self._plan(self._later(at), user, target, target_id, vote)
        if rng.random() < odds.favorite:
            self._plan(self._later(at), user, target, target_id, InteractionKind.favorite)
        if rng.random() < odds.notification:
            self._plan(self._later(at), user, target, target_id, InteractionKind.notification)
        if rng.random() < odds.comment:
            if vote is InteractionKind.like:
                mood = "good"
            elif vote is InteractionKind.dislike:
                mood = "bad"
            else:
                mood = self._pick(("good", "good", "mixed", "bad"))
            comment = self._comment(target, mood)
            at = self._later(at)
            self._plan(at, user, target, target_id, InteractionKind.comment, comment)

    # -- interactions: play ----------------------------------------------------------------

    async def _play(self) -> dict[InteractionKind, int]:
        """Replay the plan in time order through the interactions service."""
        session = self.session
        counts: dict[InteractionKind, int] = {}
        others: list[int] = []
        demo_customer = self.named.customers[0] if self.named.customers else None
        for event in sorted(self.events, key=lambda e: e.at):
            user, target, target_id = event.user_id, event.target, event.target_id
            if event.kind is InteractionKind.view:
                done = await interactions.add_view(
                    SessionConn(session), user_id=user, target=target, target_id=target_id
                )
            elif event.comment is not None:
                row = await interactions.add_comment(
                    SessionConn(session),
                    user_id=user,
                    target=target,
                    target_id=target_id,
                    comment=event.comment,
                )
                self.comment_times.append((row.id, event.at))
                if user != demo_customer:
                    others.append(row.id)
                done = True
            else:
                done = await interactions.add_mark(
                    SessionConn(session),
                    user_id=user,
                    target=target,
                    target_id=target_id,
                    kind=event.kind,
                )
            if not done:
                raise DemoDataError(f"demo interaction not recorded: {event}")
            counts[event.kind] = counts.get(event.kind, 0) + 1
        # A few comments were taken down by moderation: hidden, out of lists and counters.
        for comment_id in sorted(self.rng.sample(others, round(len(others) * HIDDEN_COMMENTS))):
            await interactions.hide_comment(SessionConn(session), comment_id=comment_id)
        return counts

    # -- conversations ---------------------------------------------------------------------

    async def _conversations(
        self, stores: list[_StorePlan], products: list[_Product], customers: list[int]
    ) -> conversations.Counts:
        """Chats, messages to stores, offers and broadcasts, after the interactions (offers
        go to customers who visited the store)."""
        goods: dict[int, list[tuple[str, int]]] = {plan.id: [] for plan in stores}
        for product in products:
            goods[product.store_id].append((product.title, product.price))
        shops = [
            conversations.Shop(
                id=plan.id,
                title=plan.title,
                goods=words.CATEGORY_WORDS[plan.category].goods,
                manager=plan.manager,
                sellers=tuple(plan.seller_ids),
                products=tuple(goods[plan.id]),
            )
            for plan in stores
        ]
        visits: dict[int, list[tuple[datetime, int]]] = {}
        for (user, target, target_id, slot), at in self.times.items():
            if target is TargetKind.store and slot == "view":
                visits.setdefault(user, []).append((at, target_id))
        for seen in visits.values():
            seen.sort()
        named = self.named
        people = conversations.People(
            customer=named.customers[0] if named.customers else None,
            customers=(*named.customers[1:], *customers),
            regulars=named.customers[1:],
            seller=named.seller,
            admin=named.admin,
        )
        return await conversations.create(
            self.session, self.rng, now=BASE_TIME, shops=shops, people=people, visits=visits
        )

    async def _settle_timestamps(
        self,
        bazaars: list[_Site],
        malls: list[_Site],
        stores: list[_StorePlan],
        products: list[_Product],
    ) -> None:
        """Give every interaction its planned time (the service stamps "now")."""
        session = self.session
        actors = sorted({e.user_id for e in self.events})
        marks = await session.execute(
            select(Mark.id, Mark.user_id, Mark.target, Mark.target_id, Mark.slot).where(
                Mark.user_id.in_(actors)
            )
        )
        mark_times = [
            {"id": row[0], "created_at": at}
            for row in marks
            if (at := self.times.get((row[1], TargetKind(row[2]), row[3], row[4]))) is not None
        ]
        views = await session.execute(
            select(View.id, View.user_id, View.target, View.target_id).where(
                View.user_id.in_(actors)
            )
        )
        view_times = [
            {"id": row[0], "created_at": at, "viewed_at": at}
            for row in views
            if (at := self.times.get((row[1], TargetKind(row[2]), row[3], "view"))) is not None
        ]
        comment_times = [{"id": i, "created_at": at} for i, at in self.comment_times]
        for model, params in ((Mark, mark_times), (View, view_times), (Comment, comment_times)):
            if params:
                await session.execute(update(model), params)
        # Counter updates stamped updated_at with "now" too: back to the generated time.
        for target, ids in (
            (Bazaar, [b.id for b in bazaars]),
            (Mall, [m.id for m in malls]),
            (Store, [s.id for s in stores]),
            (Product, [p.id for p in products]),
        ):
            await session.execute(
                update(target)
                .where(target.id.in_(ids))
                .values(updated_at=target.created_at)
                .execution_options(synchronize_session=False)
            )
