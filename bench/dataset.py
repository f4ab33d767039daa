"""A large synthetic marketplace for the HTTP benchmark, loaded in bulk.

Run with the project's venv Python (bench/run.py does): ``python bench/dataset.py build
--url URL --scale S --reset --out DIR`` builds a dataset; ``python bench/dataset.py arm
--url URL --out DIR --pool NAME --n N`` re-arms what a benchmarked write consumes (tokens that
logout ends, pending registrations that an activation code activates, marks and comments that
the delete endpoints remove) just before the load runs. It is not part of the runtime package:
the server never imports it.

Scale 1.0 is 100,000 customers, 10,000 stores (each with a manager and 1–3 sellers), 50,000
products, 1,000,000 chats with 5,000,000 messages, 2,100,000 interactions (800,000 views,
800,000 likes, dislikes, favourites and follows, 500,000 comments on targets and staff),
100,000 store messages and 100,000 offers; scale 0.01 is 1% of it. The densities (chats per
customer, messages per chat, chats and comments per store) do not depend on the scale, so a big
and a small dataset differ only in size; the geography, the bazaar categories and the 30
broadcasts are the same in both.

Rows are generated deterministically (one seed) and written with PostgreSQL's COPY (asyncpg's
``copy_records_to_table``) or SQLite's ``executemany`` in one transaction per table, with the
secondary indexes dropped during the load and built afterwards. The counters on targets are
then computed from the rows with set-based UPDATEs generated from the interactions registry
(:data:`hojre.interactions.registry.KINDS` names each kind's counter column), so they equal the
rows exactly as the interactions service keeps them. Every bench user has the same password
(one argon2 hash); tokens are derived from the user id, so the load generator can be given real
tokens: see :func:`bench_token`. The files written to ``out`` are listed in
:meth:`Plan.write_files` (``users.txt``: ``cellphone token id`` of the token customers, and so
on) and ``meta.json`` (sizes and load times).

Who is used for what (so that one endpoint's writes never break another's requests): customers
``id % 5 == 1`` hold the dataset's tokens (reads and the non-destructive writes); ``== 2`` log
in, ``== 3`` ask for temporary passwords (``forget``), ``== 4`` are the pool of the endpoints
that end tokens (logout, newtoken, change-password; re-armed before each run) and ``== 0`` the
pool of the delete endpoints. Staff of every 5th store hold tokens; the other staff log in.
The managers of the "work stores" (``id % 5 == 3``) get a known token from the seller arms
(``addseller``, ``store-sellers``): a store's sellers are added, edited, dismissed and
re-activated there, so the token stores' sellers stay as they are.

The stores' customers (``store_customers``) are computed from the interactions after the load
(:func:`customer_statements`), and on PostgreSQL ``store_points`` from the stores' coordinates.
"""

# ruff: noqa: S608 (table and column names in the SQL are this module's constants)

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import random
import sqlite3
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from hojre.accounts.models import AccessToken, ActivationCode, User
from hojre.accounts.service import _code_hash
from hojre.core.migrate import upgrade_async
from hojre.core.security import hash_password, sha256_hex
from hojre.customers.models import StoreCustomer, StorePoint
from hojre.customers.service import CONTACT_KINDS, STORE_TARGETS
from hojre.interactions.models import Comment, Mark, View
from hojre.interactions.registry import (
    CATALOG_TARGETS,
    KINDS,
    MARK_KINDS,
    TARGETS,
    InteractionKind,
    TargetKind,
)
from hojre.web_v1.interactions import WIRE_TARGET

BENCH_PASSWORD: Final = "hojre-bench"  # noqa: S105 (the bench users' published password)
BENCH_SEED: Final = 20251125
# Every generated timestamp lies before this moment (chats over the year before it).
NOW: Final = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
YEAR: Final = 365 * 86400
TOKEN_USER_EVERY: Final = 5  # every 5th customer has a token (20,000 at scale 1.0)
# Customers by id % TOKEN_USER_EVERY: who is used for what (see the module's docstring).
TOKEN_CLASS, LOGIN_CLASS, FORGET_CLASS, SESSION_POOL_CLASS, DELETE_POOL_CLASS = 1, 2, 3, 4, 0
STAFF_TOKEN_STORE_EVERY: Final = 5  # the manager and sellers of every 5th store have tokens
BROADCASTS: Final = 30  # admins' announcements: as many on every dataset
CHUNK: Final = 20_000  # rows between progress updates

# Tables the load writes (their secondary indexes are dropped and rebuilt around it);
# store_customers and store_points are filled from the others (customer_statements).
LOADED_TABLES: Final = (
    "users", "bazaars", "malls", "stores", "store_sellers", "products", "media",
    "access_tokens", "marks", "views", "comments", "chats", "chat_messages", "store_messages",
    "offers", "broadcasts", "uploads", StoreCustomer.__tablename__, StorePoint.__tablename__,
)  # fmt: skip
# The image paths the recipes send (bench/endpoints.py): uploads, as an image field takes no
# other path.
UPLOADED_PATHS: Final = ("img/bench/product-gallery.jpg", "img/bench/gallery-new.jpg")
# Every PHYSICAL_EVERY-th store and customer pair (by store_id + user_id) was at the store:
# a third of each store's customers are physical, the rest virtual.
PHYSICAL_EVERY: Final = 3

FIRST_NAMES: Final = (
    "مریم", "زهرا", "فاطمه", "سارا", "نرگس", "لیلا", "مینا", "نازنین", "علی", "محمد", "رضا",
    "حسین", "مهدی", "امیر", "کاوه", "بابک", "پریسا", "شیرین", "آرش", "سینا",
)  # fmt: skip
FAMILY_NAMES: Final = (
    "احمدی", "محمدی", "رضایی", "حسینی", "کریمی", "موسوی", "جعفری", "رحیمی", "صادقی",
    "کاظمی", "نوری", "طاهری", "قاسمی", "عباسی", "شریفی", "اکبری", "یزدانی", "بهرامی",
)  # fmt: skip
PLACE_WORDS: Final = (
    "نگین", "ستاره", "آفتاب", "مهتاب", "پارسیان", "آریا", "سپهر", "البرز", "دماوند", "زاگرس",
    "الماس", "فیروزه", "یاقوت", "مروارید", "بهار", "نوروز", "پردیس", "ارغوان", "سرو", "چنار",
)  # fmt: skip
GOODS: Final = (
    "گوشی موبایل", "لپ‌تاپ", "هدفون", "کفش ورزشی", "مانتو", "کیف چرم", "فرش دستباف",
    "ظروف مسی", "زعفران", "پسته", "ساعت مچی", "عطر", "کتاب", "اسباب‌بازی", "چای",
)  # fmt: skip
MESSAGES: Final = (
    "سلام، این کالا موجود است؟", "سلام، بله موجود است.", "قیمت نهایی چند است؟",
    "ارسال به شهرستان دارید؟", "بله، با پست پیشتاز ارسال می‌کنیم.", "رنگ دیگری هم دارید؟",
    "تخفیف برای خرید عمده دارید؟", "ممنون از پاسخ شما.", "فردا به فروشگاه سر می‌زنم.",
    "گارانتی دارد؟", "بله، هجده ماه گارانتی دارد.", "ساعت کاری فروشگاه تا چند است؟",
    "تا ساعت نه شب باز هستیم.", "لطفاً عکس بیشتری بفرستید.", "سفارش من کی می‌رسد؟",
    "امروز ارسال شد.", "مرسی، خیلی خوب بود.", "اندازه بزرگ‌تر هم دارید؟",
)  # fmt: skip
COMMENTS: Final = (
    "فروشنده بسیار خوش‌برخورد بود و کالا سالم رسید.", "قیمت‌ها مناسب است ولی شلوغ است.",
    "کیفیت کالا عالی بود، پیشنهاد می‌کنم.", "ارسال کمی طول کشید اما بسته‌بندی خوب بود.",
    "تنوع اجناس زیاد است و فروشنده راهنمایی خوبی کرد.", "از خریدم راضی نبودم.",
    "محیط فروشگاه تمیز و مرتب است.", "پشتیبانی بعد از فروش خوبی دارند.",
)  # fmt: skip
PROS: Final = ("قیمت مناسب", "کیفیت خوب", "برخورد خوب", "ارسال سریع", None, None)
CONS: Final = ("شلوغی", "پارکینگ ندارد", "قیمت بالا", None, None, None)
ABOUT: Final = (
    "فروشگاه ما با بیش از ده سال سابقه، کالای اصل با ضمانت بازگشت و ارسال به سراسر کشور "
    "عرضه می‌کند. برای مشاوره پیش از خرید با فروشندگان ما گفتگو کنید."
)


def bench_token(user_id: int, seed: int = BENCH_SEED, n: int = 0) -> str:
    """The bench user's token: 32 URL-safe characters derived from the id (not random);
    ``n`` > 0: the user's n-th extra token (re-armed pools)."""
    extra = f":{n}" if n else ""
    digest = hashlib.sha256(f"hojre-bench:{seed}:{user_id}{extra}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def bench_cellphone(user_id: int) -> str:
    return f"093{user_id:08d}"


@dataclass(frozen=True, slots=True)
class Sizes:
    scale: float
    customers: int
    stores: int
    bazaars: int
    malls: int
    products: int
    chats: int
    messages: int
    views: int  # per customer: VIEW_PLAN
    marks: int
    comments: int
    store_messages: int
    offers: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        customers = max(50, round(100_000 * scale))
        stores = max(10, round(10_000 * scale))
        chats = 10 * customers
        return cls(
            scale=scale,
            customers=customers,
            stores=stores,
            bazaars=max(4, round(100 * scale)),
            malls=max(4, round(300 * scale)),
            products=5 * stores,
            chats=chats,
            messages=5 * chats,
            views=8 * customers,
            marks=8 * customers,
            comments=5 * customers,
            store_messages=customers,
            offers=customers,
        )


# Per customer: how many distinct targets of each kind get a mark, a view, a comment.
MARK_PLAN: Final = (("store", 4), ("product", 2), ("bazaar", 1), ("mall", 1))
VIEW_PLAN: Final = (("store", 4), ("product", 3), ("bazaar", 1))
COMMENT_PLAN: Final = (("store", 2), ("product", 2), ("user", 1))
MARK_ODDS: Final = (  # (kind, slot, cumulative chance)
    ("like", "vote", 0.50), ("dislike", "vote", 0.60), ("favorite", "favorite", 0.85),
    ("notification", "notification", 1.0),
)  # fmt: skip


@dataclass(slots=True)
class LoadReport:
    backend: str
    url: str
    sizes: Sizes
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "url": self.url,
            "sizes": asdict(self.sizes),
            "rows": self.rows,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "total_seconds": round(self.total_seconds, 1),
        }


Timestamp = Callable[[int], Any]  # seconds before NOW -> the driver's value (also dates)


class Plan:
    """Every row of the dataset, as generators of tuples (the same for both databases)."""

    def __init__(self, sizes: Sizes, *, ts: Timestamp, day: Timestamp,
                 geo: Sequence[tuple[int, int, int]], categories: Sequence[int],
                 password_hash: str, seed: int) -> None:  # fmt: skip
        self.n = sizes
        self.ts = ts
        self.day = day
        self.geo = geo  # (city, state, country)
        self.categories = categories
        self.password_hash = password_hash
        self.seed = seed
        s = sizes.stores
        # Users: customers 1..C, the store managers (store i: C + i), then the sellers.
        self.first_manager = sizes.customers + 1
        self.seller_count = array("i", (1 + (i % 3) for i in range(s)))
        self.first_seller = array("i", [0] * s)
        next_id = sizes.customers + s + 1
        for i in range(s):
            self.first_seller[i] = next_id
            next_id += self.seller_count[i]
        self.users = next_id - 1
        self.token_users = [u for u in range(1, sizes.customers + 1) if u % TOKEN_USER_EVERY == 1]
        # Staff with tokens: the manager and the sellers of every 5th store (store ids 1, 6, …).
        self.token_stores = list(range(1, s + 1, STAFF_TOKEN_STORE_EVERY))
        self.staff_tokens = [
            uid
            for st in self.token_stores
            for uid in (self.first_manager + st - 1,
                        *range(self.first_seller[st - 1],
                               self.first_seller[st - 1] + self.seller_count[st - 1]))
        ]  # fmt: skip
        # Chats: customer, store, seller, status (0 pending, 1 chatting, 2 finished).
        rng = random.Random(seed + 1)
        c = sizes.chats
        self.chat_customer = array("i", (1 + i % sizes.customers for i in range(c)))
        self.chat_store = array("i", (1 + rng.randrange(s) for _ in range(c)))
        self.chat_seller = array(
            "i",
            (
                self.first_seller[st - 1] + rng.randrange(self.seller_count[st - 1])
                for st in self.chat_store
            ),
        )
        # 10% pending (no answer yet), 10% finished, the rest chatting.
        status = array("b", [1]) * c
        for i in range(c):
            roll = rng.random()
            if roll < 0.2:
                status[i] = 0 if roll < 0.1 else 2
        self.chat_status = status
        counts = array("i", (1 + (i * 7) % 9 for i in range(c)))
        counts[-1] += max(0, sizes.messages - sum(counts))
        self.message_counts = counts

    # -- helpers ---------------------------------------------------------------------------

    def _chat_age(self, chat_index: int) -> int:
        """Seconds before NOW the chat started: ids grow with time, over a year."""
        return 3600 + (self.n.chats - chat_index) * YEAR // self.n.chats

    def _place(self, i: int) -> tuple[int, int, int, str, str, str, str]:
        city, state, country = self.geo[i % len(self.geo)]
        lat = f"{35.60 + (i * 37 % 1000) / 5000:.6f}"
        lon = f"{51.30 + (i * 53 % 1000) / 5000:.6f}"
        return (country, state, city, f"منطقه {1 + i % 22}",
                f"تهران، خیابان {PLACE_WORDS[i % len(PLACE_WORDS)]}، پلاک {1 + i % 250}",
                lon, lat)  # fmt: skip

    def targets(self, kind: str) -> int:
        return {"store": self.n.stores, "product": self.n.products,
                "bazaar": self.n.bazaars, "mall": self.n.malls,
                "user": self.users - self.n.customers}[kind]  # fmt: skip

    def target_ids(self, kind: str) -> range:
        """The ids of ``kind``'s targets: users are the staff (managers, then sellers)."""
        first = self.first_manager if kind == "user" else 1
        return range(first, first + self.targets(kind))

    # -- tables ----------------------------------------------------------------------------

    USERS: Final = ("id", "cellphone", "password_hash", "is_active", "role", "name", "family",
                    "gender", "created_at", "updated_at", "activated_at")  # fmt: skip

    def users_rows(self) -> Iterator[tuple[Any, ...]]:
        ts, pw, c, s = self.ts, self.password_hash, self.n.customers, self.n.stores
        for uid in range(1, self.users + 1):
            role = 8 if uid <= c else 6 if uid <= c + s else 7
            created = ts(2 * YEAR - uid % YEAR)
            yield (uid, bench_cellphone(uid), pw, True, role,
                   FIRST_NAMES[uid % len(FIRST_NAMES)], FAMILY_NAMES[uid % len(FAMILY_NAMES)],
                   "female" if uid % 2 else "male", created, created, created)  # fmt: skip

    SHOWCASE: Final = ("id", "title", "slug", "category_id", "logo", "main_image",
                       "location_image", "status", "country_id", "state_id", "city_id",
                       "district", "address", "longitude", "latitude", "created_at",
                       "updated_at")  # fmt: skip
    BAZAARS: Final = (*SHOWCASE, "description")
    MALLS: Final = (*SHOWCASE, "description", "bazaar_id")

    def _showcase(self, kind: str, label: str, i: int, age: int) -> tuple[Any, ...]:
        title = f"{label} {PLACE_WORDS[i % len(PLACE_WORDS)]} {i}"
        created = self.ts(age)
        return (i, title, f"bench-{kind}-{i}", self.categories[i % len(self.categories)],
                f"img/bench/{kind}-{i}-logo.jpg", f"img/bench/{kind}-{i}.jpg",
                f"img/bench/{kind}-{i}-map.jpg", "active", *self._place(i), created,
                created)  # fmt: skip

    def bazaars_rows(self) -> Iterator[tuple[Any, ...]]:
        for i in range(1, self.n.bazaars + 1):
            yield (*self._showcase("bazaar", "بازار", i, 4 * YEAR), "بازاری قدیمی و پررونق.")

    def malls_rows(self) -> Iterator[tuple[Any, ...]]:
        for i in range(1, self.n.malls + 1):
            yield (*self._showcase("mall", "پاساژ", i, 3 * YEAR), "مجتمع تجاری.",
                   1 + i % self.n.bazaars)  # fmt: skip

    STORES: Final = (*SHOWCASE, "manager_id", "parent_id", "bazaar_id", "mall_id", "phone",
                     "about", "certificate_image", "store_front_image")  # fmt: skip

    def stores_rows(self) -> Iterator[tuple[Any, ...]]:
        s = self.n.stores
        for i in range(1, s + 1):
            mall = 1 + i % self.n.malls if i % 2 else None
            bazaar = 1 + (mall % self.n.bazaars if mall else i % self.n.bazaars)
            # 3% are branches of an earlier store.
            parent = 1 + (i * 7919) % (i - 1) if i > 1 and i % 33 == 0 else None
            yield (*self._showcase("store", "فروشگاه", i, 2 * YEAR + i % 1000),
                   self.first_manager + i - 1, parent, bazaar, mall, f"021{i:08d}", ABOUT,
                   f"img/bench/store-{i}-cert.jpg", f"img/bench/store-{i}-front.jpg")  # fmt: skip

    STORE_SELLERS: Final = ("id", "store_id", "user_id", "status", "created_at")

    def store_sellers_rows(self) -> Iterator[tuple[Any, ...]]:
        created = self.ts(2 * YEAR)
        row_id = 0
        for i in range(self.n.stores):
            for k in range(self.seller_count[i]):
                row_id += 1
                yield (row_id, i + 1, self.first_seller[i] + k, "active", created)

    PRODUCTS: Final = ("id", "store_id", "title", "slug", "description", "price", "main_image",
                       "status", "created_at", "updated_at")  # fmt: skip

    def products_rows(self) -> Iterator[tuple[Any, ...]]:
        for i in range(1, self.n.products + 1):
            created = self.ts(YEAR + i % 1000)
            yield (i, 1 + i % self.n.stores, f"{GOODS[i % len(GOODS)]} مدل {i}",
                   f"bench-product-{i}", "کالای اصل با ضمانت.", 10_000 * (50 + i * 37 % 5000),
                   f"img/bench/product-{i}.jpg", "active", created, created)  # fmt: skip

    MEDIA: Final = ("id", "target", "target_id", "title", "type", "source", "order", "status",
                    "created_at", "updated_at")  # fmt: skip

    def media_rows(self) -> Iterator[tuple[Any, ...]]:
        created = self.ts(YEAR)
        for i in range(2 * self.n.stores):
            store = 1 + i // 2
            yield (i + 1, "store", store, f"تصویر {1 + i % 2}", "image",
                   f"img/bench/store-{store}-{1 + i % 2}.jpg", 1 + i % 2, "active", created,
                   created)  # fmt: skip

    ACCESS_TOKENS: Final = ("id", "user_id", "token_hash", "created_at", "last_used_at")

    def access_tokens_rows(self) -> Iterator[tuple[Any, ...]]:
        created = self.ts(86400)
        # Used just now, by the wall clock: the dataset's NOW is long past, and a token idle
        # for HOJRE_TOKEN_IDLE_DAYS no longer logs in.
        used = self.ts(-int((datetime.now(UTC) - NOW).total_seconds()))
        for n, uid in enumerate((*self.token_users, *self.staff_tokens), start=1):
            yield (n, uid, sha256_hex(bench_token(uid, self.seed)), created, used)

    MARKS: Final = ("id", "user_id", "target", "target_id", "slot", "kind", "created_at")

    def marks_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.seed + 2)
        ts, row_id = self.ts, 0
        plan = [(kind, self.targets(kind), k) for kind, k in MARK_PLAN]
        for uid in range(1, self.n.customers + 1):
            for target, n, k in plan:
                for target_id in rng.sample(range(1, n + 1), min(k, n)):
                    row_id += 1
                    roll = rng.random()
                    kind, slot, _ = next(m for m in MARK_ODDS if roll < m[2])
                    yield (row_id, uid, target, target_id, slot, kind,
                           ts(rng.randrange(60, YEAR)))  # fmt: skip

    VIEWS: Final = ("id", "user_id", "target", "target_id", "count", "created_at", "viewed_at")

    def views_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.seed + 3)
        ts, row_id = self.ts, 0
        plan = [(kind, self.targets(kind), k) for kind, k in VIEW_PLAN]
        for uid in range(1, self.n.customers + 1):
            for target, n, k in plan:
                for target_id in rng.sample(range(1, n + 1), min(k, n)):
                    row_id += 1
                    first = rng.randrange(7200, YEAR)
                    yield (row_id, uid, target, target_id, 1 + rng.randrange(4), ts(first),
                           ts(rng.randrange(3600, first)))  # fmt: skip

    COMMENTS: Final = ("id", "user_id", "target", "target_id", "text", "pros", "cons", "score",
                       "visible", "created_at")  # fmt: skip

    def comments_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.seed + 4)
        ts, row_id = self.ts, 0
        plan = [(kind, self.target_ids(kind), k) for kind, k in COMMENT_PLAN]
        for uid in range(1, self.n.customers + 1):
            for target, ids, k in plan:
                for target_id in rng.sample(ids, min(k, len(ids))):
                    row_id += 1
                    score = None if rng.random() < 0.2 else 1 + rng.randrange(5)
                    yield (row_id, uid, target, target_id, COMMENTS[row_id % len(COMMENTS)],
                           PROS[row_id % len(PROS)], CONS[row_id % len(CONS)], score,
                           rng.random() >= 0.03, ts(rng.randrange(60, YEAR)))  # fmt: skip

    CHATS: Final = ("id", "customer_id", "store_id", "seller_id", "status", "created_at",
                    "finished_at")  # fmt: skip
    STATUSES: Final = ("pending", "chatting", "finished")

    def chats_rows(self) -> Iterator[tuple[Any, ...]]:
        ts = self.ts
        for i in range(self.n.chats):
            status = self.chat_status[i]
            age = self._chat_age(i)
            yield (i + 1, self.chat_customer[i], self.chat_store[i], self.chat_seller[i],
                   self.STATUSES[status], ts(age),
                   ts(age - 600 * self.message_counts[i]) if status == 2 else None)  # fmt: skip

    CHAT_MESSAGES: Final = ("id", "chat_id", "sender_id", "text", "status", "created_at")

    def chat_messages_rows(self) -> Iterator[tuple[Any, ...]]:
        ts, texts, row_id = self.ts, MESSAGES, 0
        n_texts = len(texts)
        for i in range(self.n.chats):
            count = self.message_counts[i]
            customer, seller = self.chat_customer[i], self.chat_seller[i]
            pending = self.chat_status[i] == 0
            age = self._chat_age(i)
            for k in range(count):
                row_id += 1
                sender = customer if pending or k % 2 == 0 else seller
                yield (row_id, i + 1, sender, texts[row_id % n_texts],
                       "sent" if k == count - 1 else "seen", ts(age - 60 * k))  # fmt: skip

    STORE_MESSAGES: Final = ("id", "user_id", "store_id", "title", "text", "attachment", "read",
                             "answer", "answer_attachment", "answered_at", "answered_by",
                             "created_at")  # fmt: skip

    def store_messages_rows(self) -> Iterator[tuple[Any, ...]]:
        """One per customer, to the store of the customer's first chat: half read, a third
        answered by the store's manager."""
        ts = self.ts
        for i in range(self.n.store_messages):
            customer = 1 + i % self.n.customers
            store = self.chat_store[customer - 1]
            age = 3600 + (self.n.store_messages - i) * YEAR // self.n.store_messages
            answered = i % 3 == 0
            yield (i + 1, customer, store, f"پرسش درباره {GOODS[i % len(GOODS)]}",
                   MESSAGES[i % len(MESSAGES)], None, i % 2 == 0 or answered,
                   MESSAGES[(i + 1) % len(MESSAGES)] if answered else None, None,
                   ts(age - 600) if answered else None,
                   self.first_manager + store - 1 if answered else None, ts(age))  # fmt: skip

    OFFERS: Final = ("id", "user_id", "store_id", "sender_id", "text", "read", "created_at")

    def offers_rows(self) -> Iterator[tuple[Any, ...]]:
        """One per customer, from the store of the customer's first chat (a customer who has
        interacted with it), sent by its manager."""
        for i in range(self.n.offers):
            customer = 1 + i % self.n.customers
            store = self.chat_store[customer - 1]
            age = 3600 + (self.n.offers - i) * YEAR // self.n.offers
            yield (i + 1, customer, store, self.first_manager + store - 1,
                   f"تخفیف ویژه {GOODS[i % len(GOODS)]} برای شما", i % 2 == 0,
                   self.ts(age))  # fmt: skip

    BROADCASTS: Final = ("id", "title", "text", "user_id", "role", "day", "show", "created_at")

    def broadcasts_rows(self) -> Iterator[tuple[Any, ...]]:
        """To everyone, to customers, to store managers, to sellers in turn; one in ten hidden."""
        roles = (None, 8, 6, 7)
        for i in range(1, BROADCASTS + 1):
            age = (BROADCASTS - i) * 7 * 86400 + 3600
            yield (i, f"اطلاعیه شماره {i}", ABOUT, None, roles[i % len(roles)], self.day(age),
                   i % 10 != 0, self.ts(age))  # fmt: skip

    UPLOADS: Final = ("id", "key", "owner_id", "address", "content_type", "size", "width",
                      "height", "created_at", "used_at")  # fmt: skip

    def uploads_rows(self) -> Iterator[tuple[Any, ...]]:
        for i, key in enumerate(UPLOADED_PATHS, 1):
            yield (i, key, None, "bench", "image/jpeg", 1, 1, 1, self.ts(86400), self.ts(86400))

    def visible_broadcasts(self, role: int) -> list[int]:
        roles = (None, 8, 6, 7)
        return [i for i in range(1, BROADCASTS + 1)
                if i % 10 != 0 and roles[i % len(roles)] in (None, role)]  # fmt: skip

    def tables(self) -> list[tuple[str, tuple[str, ...], int, Callable[[], Iterator[Any]]]]:
        """(table, columns, expected rows, rows) in load order."""
        n = self.n
        per_customer = sum(k for _, k in MARK_PLAN), sum(k for _, k in VIEW_PLAN)
        return [
            ("users", self.USERS, self.users, self.users_rows),
            ("bazaars", self.BAZAARS, n.bazaars, self.bazaars_rows),
            ("malls", self.MALLS, n.malls, self.malls_rows),
            ("stores", self.STORES, n.stores, self.stores_rows),
            ("store_sellers", self.STORE_SELLERS, sum(self.seller_count),
             self.store_sellers_rows),
            ("products", self.PRODUCTS, n.products, self.products_rows),
            ("media", self.MEDIA, 2 * n.stores, self.media_rows),
            ("access_tokens", self.ACCESS_TOKENS,
             len(self.token_users) + len(self.staff_tokens), self.access_tokens_rows),
            ("marks", self.MARKS, per_customer[0] * n.customers, self.marks_rows),
            ("views", self.VIEWS, per_customer[1] * n.customers, self.views_rows),
            ("comments", self.COMMENTS, n.comments, self.comments_rows),
            ("chats", self.CHATS, n.chats, self.chats_rows),
            ("chat_messages", self.CHAT_MESSAGES, sum(self.message_counts),
             self.chat_messages_rows),
            ("store_messages", self.STORE_MESSAGES, n.store_messages, self.store_messages_rows),
            ("offers", self.OFFERS, n.offers, self.offers_rows),
            ("broadcasts", self.BROADCASTS, BROADCASTS, self.broadcasts_rows),
            ("uploads", self.UPLOADS, len(UPLOADED_PATHS), self.uploads_rows),
        ]  # fmt: skip

    # -- files for the load generator ------------------------------------------------------

    def _manager_products(self) -> Iterator[str]:
        """``cellphone token product``: the products of each token store, with its manager
        (product i is in store 1 + i % stores, as products_rows makes them)."""
        stores = self.n.stores
        for st in self.token_stores:
            m = self.first_manager + st - 1
            for i in range(st - 1 or stores, self.n.products + 1, stores):
                yield f"{bench_cellphone(m)} {bench_token(m, self.seed)} {i}"

    def write_files(self, out: Path, geo: GeoIds) -> None:
        """The load generator's files: one line per row, fields separated by spaces.

        users.txt ``cellphone token id`` (token customers); chats.txt ``cellphone token chat``
        (their open chats but every 10th) and finish.txt (every 10th: finish-chat's);
        stores/products/bazaars/malls.txt ``id``; staff.txt ``id``; managers.txt and
        sellers.txt ``cellphone token id store`` (staff with tokens); manager_products.txt
        ``cellphone token product`` (the products of those managers' stores); login.txt, forget.txt
        and staff_login.txt ``cellphone``; marks.txt ``cellphone token target id kind`` (token
        customers' marks, views and comments, wire target names); offers.txt ``cellphone
        token offer``; offer_targets.txt ``cellphone token store customer`` (a seller, one of
        its stores, a customer who chatted with it); store_messages.txt ``cellphone token
        message`` (a manager and a message to their store); broadcasts.txt ``id`` (visible to
        customers); countries.txt ``id``, states.txt ``id country``, cities.txt ``id state``,
        hoods.txt ``id city state``; places.txt ``city state`` (where the showcases are) and
        categories.txt ``id`` (bazaar categories); points.txt ``store longitude latitude``
        (every store's point, as stores_rows places them).
        """
        out.mkdir(parents=True, exist_ok=True)
        c = self.n.customers
        tokens = {uid: bench_token(uid, self.seed) for uid in self.token_users}

        def write(name: str, lines: Iterator[str] | list[str]) -> None:
            with (out / name).open("w") as f:
                f.writelines(f"{line}\n" for line in lines)

        write("users.txt", (f"{bench_cellphone(u)} {t} {u}" for u, t in tokens.items()))
        open_chats = [
            (i + 1, self.chat_customer[i])
            for i in range(self.n.chats)
            if self.chat_customer[i] in tokens and self.chat_status[i] != 2
        ]
        write("chats.txt", (f"{bench_cellphone(u)} {tokens[u]} {chat}"
                            for n, (chat, u) in enumerate(open_chats) if n % 10))  # fmt: skip
        write("finish.txt", (f"{bench_cellphone(u)} {tokens[u]} {chat}"
                             for n, (chat, u) in enumerate(open_chats) if n % 10 == 0))  # fmt: skip
        for kind, name in (("store", "stores"), ("product", "products"), ("bazaar", "bazaars"),
                           ("mall", "malls"), ("user", "staff")):  # fmt: skip
            write(f"{name}.txt", (str(i) for i in self.target_ids(kind)))
        managers, sellers = [], []
        for st in self.token_stores:
            m = self.first_manager + st - 1
            managers.append(f"{bench_cellphone(m)} {bench_token(m, self.seed)} {m} {st}")
            first = self.first_seller[st - 1]
            for uid in range(first, first + self.seller_count[st - 1]):
                sellers.append(f"{bench_cellphone(uid)} {bench_token(uid, self.seed)} {uid} {st}")
        write("managers.txt", managers)
        write("sellers.txt", sellers)
        write("manager_products.txt", self._manager_products())
        write("login.txt", (bench_cellphone(u) for u in range(1, c + 1)
                            if u % TOKEN_USER_EVERY == LOGIN_CLASS))  # fmt: skip
        write("forget.txt", (bench_cellphone(u) for u in range(1, c + 1)
                             if u % TOKEN_USER_EVERY == FORGET_CLASS))  # fmt: skip
        token_staff = set(self.staff_tokens)
        write("staff_login.txt", (bench_cellphone(u) for u in range(self.first_manager,
                                  self.users + 1) if u not in token_staff))  # fmt: skip
        # Offers and store messages: row i + 1 belongs to customer 1 + i % customers.
        write("offers.txt", (f"{bench_cellphone(1 + i % c)} {tokens[1 + i % c]} {i + 1}"
                             for i in range(self.n.offers) if 1 + i % c in tokens))  # fmt: skip
        token_store = set(self.token_stores)
        write("store_messages.txt", (
            f"{bench_cellphone(m)} {bench_token(m, self.seed)} {i + 1}"
            for i in range(self.n.store_messages)
            if (st := self.chat_store[i % c]) in token_store
            and (m := self.first_manager + st - 1)
        ))  # fmt: skip
        seller_of = {int(line.split()[3]): line.split()[:2] for line in sellers}
        write("offer_targets.txt", (
            f"{seller_of[self.chat_store[i]][0]} {seller_of[self.chat_store[i]][1]} "
            f"{self.chat_store[i]} {self.chat_customer[i]}"
            for i in range(self.n.chats) if self.chat_store[i] in seller_of
        ))  # fmt: skip
        write("broadcasts.txt", (str(i) for i in self.visible_broadcasts(8)))
        write("marks.txt", self._interactions_of(tokens))
        write("places.txt", (f"{city} {state}" for city, state, _ in self.geo))
        write("categories.txt", (str(i) for i in self.categories))
        write("points.txt", (f"{i} {self._place(i)[5]} {self._place(i)[6]}"
                             for i in range(1, self.n.stores + 1)))  # fmt: skip
        write("countries.txt", (str(i) for i in geo.countries))
        write("states.txt", (f"{i} {country}" for i, country in geo.states))
        write("cities.txt", (f"{i} {state}" for i, state in geo.cities))
        write("hoods.txt", (f"{i} {city} {state}" for i, city, state in geo.hoods))
        write_upload(out)

    def _interactions_of(self, tokens: dict[int, str]) -> Iterator[str]:
        """The token customers' marks, views and comments (for is-true), regenerated with the
        same seeds as the rows."""
        for rows, kind_at in ((self.marks_rows(), 5), (self.views_rows(), None),
                              (self.comments_rows(), None)):  # fmt: skip
            for row in rows:
                uid = row[1]
                if uid not in tokens:
                    continue
                kind = row[kind_at] if kind_at else ("view" if len(row) == 7 else "comment")
                if kind == "comment" and not row[8]:
                    continue  # hidden comments do not count
                target = WIRE_TARGET[TargetKind(row[2])]
                if target == "user":
                    continue  # is-true asks about catalogue targets only
                yield f"{bench_cellphone(uid)} {tokens[uid]} {target} {row[3]} {kind}"


@dataclass(frozen=True, slots=True)
class GeoIds:
    """The seeded geography's ids, read from the database."""

    countries: list[int]
    states: list[tuple[int, int]]  # id, country
    cities: list[tuple[int, int]]  # id, state
    hoods: list[tuple[int, int, int]]  # id, city, state


GEO_SQL: Final = (
    "SELECT id FROM countries ORDER BY id",
    "SELECT id, country_id FROM states ORDER BY id",
    "SELECT id, state_id FROM cities ORDER BY id",
    "SELECT h.id, h.city_id, c.state_id FROM hoods h JOIN cities c ON c.id = h.city_id "
    "ORDER BY h.id",
)


def geo_ids(rows: Sequence[Sequence[Sequence[Any]]]) -> GeoIds:
    countries, states, cities, hoods = rows
    return GeoIds([int(r[0]) for r in countries], [(int(a), int(b)) for a, b in states],
                  [(int(a), int(b)) for a, b in cities],
                  [(int(a), int(b), int(c)) for a, b, c in hoods])  # fmt: skip


# -- counters from the rows ------------------------------------------------------------------


def _sum_of(kind: InteractionKind) -> str:
    return f"sum(CASE WHEN kind = '{kind.value}' THEN 1 ELSE 0 END)"


def counter_statements(visible: str = "visible") -> list[str]:
    """Set-based UPDATEs giving each counted target the counters the interactions service
    keeps, generated from the registry: every counted target (``TARGETS``) × every kind
    (``KINDS``, whose ``counter`` is the column). Marks (kinds with a slot) count their rows,
    views their ``count``, visible comments their rows; comments also carry the score columns
    (``score_total``, ``score_count``) that the service keeps beside the comment counter.
    ``visible``: the dialect's test of the comment flag (``visible = 1`` on SQLite).
    """
    marks, views, comments = Mark.__tablename__, View.__tablename__, Comment.__tablename__
    mark_kinds = list(MARK_KINDS)
    statements = []
    for target, spec in TARGETS.items():
        if not spec.counted:
            continue
        table = spec.model.__tablename__
        sets = ", ".join(f"{KINDS[k].counter} = m.{KINDS[k].counter}" for k in mark_kinds)
        sums = ", ".join(f"{_sum_of(k)} AS {KINDS[k].counter}" for k in mark_kinds)
        viewed = KINDS[InteractionKind.view].counter
        commented = KINDS[InteractionKind.comment].counter
        statements += [
            f"UPDATE {table} SET {sets} FROM (SELECT target_id, {sums} FROM {marks} "
            f"WHERE target = '{target.value}' GROUP BY target_id) AS m "
            f"WHERE {table}.id = m.target_id",
            f"UPDATE {table} SET {viewed} = v.n FROM (SELECT target_id, sum(count) AS n "
            f"FROM {views} WHERE target = '{target.value}' GROUP BY target_id) AS v "
            f"WHERE {table}.id = v.target_id",
            f"UPDATE {table} SET {commented} = c.n, score_total = c.total, "
            "score_count = c.scored FROM (SELECT target_id, count(*) AS n, "
            "coalesce(sum(score), 0) AS total, count(score) AS scored "
            f"FROM {comments} WHERE target = '{target.value}' AND {visible} "
            f"GROUP BY target_id) AS c WHERE {table}.id = c.target_id",
        ]
    return statements


def bump_statement(target: TargetKind, kind: InteractionKind) -> str:
    """One more ``kind`` on a target (``?``: its id), as the service counts a new row."""
    table = TARGETS[target].model.__tablename__
    column = KINDS[kind].counter
    return f"UPDATE {table} SET {column} = {column} + 1 WHERE id = ?"


def customer_statements(visible: str = "visible", *, points: bool) -> list[str]:
    """The stores' customers from the rows, as the customers service would have kept them
    (:func:`hojre.customers.service.note_interaction`): each customer's contacts
    (:data:`CONTACT_KINDS` on a store or one of its products) give one row per store, its
    ``last_seen_at`` the latest of them; every :data:`PHYSICAL_EVERY`-th pair was also at the
    store (``visits`` 1 to 4, the last visit at the last contact). Chats and store messages
    also make customers in the service; they are left out to keep the load short (the lists
    read the same index either way). ``points``: also ``store_points`` from the stores'
    coordinates (PostgreSQL: the load's ``session_replication_role = replica`` keeps the
    trigger that fills it off; SQLite's triggers fire during the load)."""
    marks, views, comments = Mark.__tablename__, View.__tablename__, Comment.__tablename__
    kinds = ", ".join(f"'{k.value}'" for k in MARK_KINDS if k in CONTACT_KINDS)
    sources = []
    for target in sorted(STORE_TARGETS, key=lambda t: t.value):
        if target is TargetKind.store:
            store, join = "x.target_id", ""
        else:
            store, join = "p.store_id", " JOIN products p ON p.id = x.target_id"
        where = f"x.target = '{target.value}'"
        if kinds:
            sources.append(f"SELECT {store} AS store_id, x.user_id, x.created_at AS at FROM "
                           f"{marks} x{join} WHERE {where} AND x.kind IN ({kinds})")  # fmt: skip
        if InteractionKind.view in CONTACT_KINDS:
            sources.append(f"SELECT {store} AS store_id, x.user_id, x.viewed_at AS at FROM "
                           f"{views} x{join} WHERE {where}")  # fmt: skip
        if InteractionKind.comment in CONTACT_KINDS:
            sources.append(f"SELECT {store} AS store_id, x.user_id, x.created_at AS at FROM "
                           f"{comments} x{join} WHERE {where} AND x.{visible}")  # fmt: skip
    physical = f"(store_id + user_id) % {PHYSICAL_EVERY} = 0"
    statements = [
        f"INSERT INTO {StoreCustomer.__tablename__} (store_id, user_id, visits, last_visit_at, "
        f"last_seen_at) SELECT store_id, user_id, CASE WHEN {physical} THEN 1 + "
        f"(store_id + user_id) % 4 ELSE 0 END, CASE WHEN {physical} THEN max(at) END, max(at) "
        f"FROM ({' UNION ALL '.join(sources)}) AS contacts GROUP BY store_id, user_id"
    ]
    if points:
        statements.append(
            f"INSERT INTO {StorePoint.__tablename__} (store_id, latitude, longitude) SELECT id, "
            "CAST(latitude AS double precision), CAST(longitude AS double precision) FROM "
            "stores WHERE latitude <> '' AND longitude <> ''"
        )
    return statements


# -- the loaders -----------------------------------------------------------------------------


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _counted(rows: Iterator[Any], progress: Progress, task: TaskID) -> Iterator[Any]:
    """The rows, moving the task's bar every CHUNK rows."""
    started = time.perf_counter()
    for n, row in enumerate(rows, start=1):
        yield row
        if n % CHUNK == 0:
            rate = n / max(time.perf_counter() - started, 1e-6)
            progress.update(task, completed=n, rate=f"{rate / 1000:,.0f}k rows/s")


def _pg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _check_resettable(name: str) -> None:
    if "bench" not in name:
        raise SystemExit(f"--reset refuses to drop {name!r}: its name must contain 'bench'")


async def _pg_reset(url: str) -> None:
    target = make_url(url)
    name = target.database or ""
    _check_resettable(name)
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            await raw.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await raw.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.dispose()


async def load_postgres(
    url: str, sizes: Sizes, *, reset: bool, out: Path | None, seed: int, console: Console
) -> LoadReport:
    report = LoadReport("postgresql", url, sizes)
    started = time.perf_counter()

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        report.seconds[name] = now - since
        return now

    t = started
    if reset:
        await _pg_reset(url)
    await upgrade_async(url)
    t = lap("schema", t)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            pg = (await conn.get_raw_connection()).driver_connection
            assert pg is not None
            if await pg.fetchval("SELECT count(*) FROM users") != 0:
                raise SystemExit("the database holds users already: load with --reset")
            cities = await pg.fetch(
                "SELECT c.id, c.state_id, s.country_id FROM cities c "
                "JOIN states s ON s.id = c.state_id ORDER BY c.state_id, c.id LIMIT 20"
            )
            geo_rows = geo_ids([await pg.fetch(sql) for sql in GEO_SQL])
            geo = [(r[0], r[1], r[2]) for r in cities]
            categories = [r[0] for r in await pg.fetch("SELECT id FROM bazaar_categories")]
            epoch = NOW

            def ts(seconds_before: int) -> datetime:
                return epoch - timedelta(seconds=seconds_before)

            plan = Plan(sizes, ts=ts, day=lambda s: ts(s).date(), geo=geo, categories=categories,
                        password_hash=hash_password(BENCH_PASSWORD), seed=seed)  # fmt: skip
            t = lap("plan", t)
            await pg.execute("SET session_replication_role = replica")  # no FK triggers
            await pg.execute("SET synchronous_commit = off")
            await pg.execute("SET maintenance_work_mem = '1GB'")
            indexes = await pg.fetch(
                "SELECT i.indexrelid::regclass::text AS name, "
                "pg_get_indexdef(i.indexrelid) AS ddl FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = ANY($1::text[]) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                list(LOADED_TABLES),
            )
            for index in indexes:
                await pg.execute(f"DROP INDEX {index['name']}")
            with _progress(console) as progress:
                for table, columns, expected, rows in plan.tables():
                    task = progress.add_task(table, total=expected, rate="")
                    t0 = time.perf_counter()
                    await pg.copy_records_to_table(
                        table, records=_counted(rows(), progress, task), columns=list(columns)
                    )
                    report.rows[table] = await pg.fetchval(f"SELECT count(*) FROM {table}")
                    progress.update(task, completed=report.rows[table])
                    report.seconds[f"copy {table}"] = time.perf_counter() - t0
                    if "id" in columns:
                        await pg.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                        )
            t = lap("copy", t)
            with console.status("store customers and points"):
                for statement in customer_statements(points=True):
                    await pg.execute(statement)
                for table in (StoreCustomer.__tablename__, StorePoint.__tablename__):
                    report.rows[table] = await pg.fetchval(f"SELECT count(*) FROM {table}")
            t = lap("store customers", t)
            with console.status("building indexes"):
                for index in indexes:
                    await pg.execute(index["ddl"])
            t = lap("indexes", t)
            with console.status("counters"):
                for statement in counter_statements():
                    await pg.execute(statement)
            t = lap("counters", t)
            await pg.execute("SET session_replication_role = DEFAULT")
            with console.status("VACUUM ANALYZE"):
                await pg.execute("VACUUM (ANALYZE)")
            t = lap("vacuum analyze", t)
    finally:
        await engine.dispose()
    if out is not None:
        plan.write_files(out, geo_rows)
    report.total_seconds = time.perf_counter() - started
    return report


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise SystemExit("the bench dataset needs a SQLite file")
    return Path(path)


def load_sqlite(
    url: str, sizes: Sizes, *, reset: bool, out: Path | None, seed: int, console: Console
) -> LoadReport:
    report = LoadReport("sqlite", url, sizes)
    started = t = time.perf_counter()

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        report.seconds[name] = now - since
        return now

    path = _sqlite_path(url)
    if reset:
        _check_resettable(path.name)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(upgrade_async(url))
    t = lap("schema", t)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        if db.execute("SELECT count(*) FROM users").fetchone()[0] != 0:
            raise SystemExit("the database holds users already: load with --reset")
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -1000000",
                       "temp_store = MEMORY", "foreign_keys = OFF"):  # fmt: skip
            db.execute(f"PRAGMA {pragma}")
        geo = db.execute(
            "SELECT c.id, c.state_id, s.country_id FROM cities c JOIN states s "
            "ON s.id = c.state_id ORDER BY c.state_id, c.id LIMIT 20"
        ).fetchall()
        categories = [r[0] for r in db.execute("SELECT id FROM bazaar_categories")]
        geo_rows = geo_ids([db.execute(sql).fetchall() for sql in GEO_SQL])
        epoch = NOW.replace(tzinfo=None)

        def ts(seconds_before: int) -> str:
            # SQLAlchemy's SQLite DATETIME storage format (UTC, naive).
            return (epoch - timedelta(seconds=seconds_before)).isoformat(" ", "microseconds")

        plan = Plan(sizes, ts=ts, day=lambda s: ts(s)[:10], geo=geo, categories=categories,
                    password_hash=hash_password(BENCH_PASSWORD), seed=seed)  # fmt: skip
        t = lap("plan", t)
        marks = ",".join("?" * len(LOADED_TABLES))
        indexes = db.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            LOADED_TABLES,
        ).fetchall()
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        with _progress(console) as progress:
            for table, columns, expected, rows in plan.tables():
                task = progress.add_task(table, total=expected, rate="")
                t0 = time.perf_counter()
                names = ", ".join(f'"{c}"' for c in columns)
                holes = ", ".join("?" * len(columns))
                db.execute("BEGIN")
                db.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({holes})",
                    _counted(rows(), progress, task),
                )
                db.execute("COMMIT")
                report.rows[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                progress.update(task, completed=report.rows[table])
                report.seconds[f"insert {table}"] = time.perf_counter() - t0
        t = lap("insert", t)
        with console.status("store customers"):
            db.execute("BEGIN")
            for statement in customer_statements("visible = 1", points=False):
                db.execute(statement)
            db.execute("COMMIT")
            for table in (StoreCustomer.__tablename__, StorePoint.__tablename__):
                report.rows[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        t = lap("store customers", t)
        with console.status("building indexes"):
            for _, ddl in indexes:
                db.execute(ddl)
        t = lap("indexes", t)
        with console.status("counters"):
            db.execute("BEGIN")
            for statement in counter_statements(visible="visible = 1"):
                db.execute(statement)
            db.execute("COMMIT")
        t = lap("counters", t)
        with console.status("ANALYZE"):
            db.execute("ANALYZE")
            db.execute("PRAGMA journal_mode = WAL")
        t = lap("analyze", t)
    finally:
        db.close()
    if out is not None:
        plan.write_files(out, geo_rows)
    report.total_seconds = time.perf_counter() - started
    return report


def run(
    url: str,
    *,
    scale: float,
    reset: bool,
    out: Path | None,
    seed: int = BENCH_SEED,
    console: Console | None = None,
) -> LoadReport:
    """Load the dataset at ``scale`` into ``url``; write the load generator's files to ``out``."""
    console = console or Console(stderr=True)
    sizes = Sizes.at(scale)
    console.print(
        f"bench data at scale {scale}: {sizes.customers:,} customers, {sizes.stores:,} stores, "
        f"{sizes.chats:,} chats, {sizes.messages:,} messages, "
        f"{sizes.views + sizes.marks + sizes.comments:,} interactions"
    )
    if url.startswith("sqlite"):
        report = load_sqlite(url, sizes, reset=reset, out=out, seed=seed, console=console)
    elif url.startswith("postgresql"):
        report = asyncio.run(
            load_postgres(url, sizes, reset=reset, out=out, seed=seed, console=console)
        )
    else:
        raise SystemExit(f"unsupported database: {url}")
    if out is not None:
        (out / "meta.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    phases = ", ".join(
        f"{name} {seconds:.1f}s" for name, seconds in report.seconds.items()
        if not name.startswith(("copy ", "insert "))
    )  # fmt: skip
    console.print(f"loaded in {report.total_seconds:.1f}s ({phases})")
    return report


# -- re-arming what a benchmarked write consumes -----------------------------------------------

ARM_TEXT: Final = "نظر آزمایشی برای حذف"  # the comments that delete-comment removes
# edit-product's and delete-product's pools: products made for them in the stores of the
# managers.txt / sellers.txt staff.
PRODUCT_POOLS: Final = {"products-manager": "managers.txt", "products-seller": "sellers.txt"}
ARM_POOLS: Final = ("logout", "sessions", "pending", "pending-new", *MARK_KINDS, "comments",
                    *PRODUCT_POOLS, "gallery", "addseller", "store-sellers")  # fmt: skip
PENDING_PREFIX: Final = {"pending": "096", "pending-new": "095"}


class _Db:
    """The few statements the arms run, with ``?`` placeholders, on either driver."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pg: Any = None
        self.lite: sqlite3.Connection | None = None

    async def __aenter__(self) -> _Db:
        if self.url.startswith("postgresql"):
            import asyncpg

            self.pg = await asyncpg.connect(_pg_url(self.url))
        else:
            self.lite = sqlite3.connect(_sqlite_path(self.url), isolation_level=None)
            self.lite.execute("PRAGMA busy_timeout = 30000")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.pg is not None:
            await self.pg.close()
        if self.lite is not None:
            self.lite.close()

    @staticmethod
    def _numbered(sql: str) -> str:
        parts = sql.split("?")
        return "".join(f"{p}${i}" for i, p in enumerate(parts[:-1], start=1)) + parts[-1]

    def now(self) -> Any:
        now = datetime.now(UTC)
        return now if self.pg is not None else now.replace(tzinfo=None).isoformat(" ")

    def later(self, seconds: int) -> Any:
        then = datetime.now(UTC) + timedelta(seconds=seconds)
        return then if self.pg is not None else then.replace(tzinfo=None).isoformat(" ")

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.pg is not None:
            return [tuple(r) for r in await self.pg.fetch(self._numbered(sql), *args)]
        assert self.lite is not None
        return self.lite.execute(sql, args).fetchall()

    async def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One transaction (SQLite takes the write lock once, the server's writers wait)."""
        if not rows:
            return
        if self.pg is not None:
            await self.pg.executemany(self._numbered(sql), rows)
            return
        assert self.lite is not None
        self.lite.execute("BEGIN IMMEDIATE")
        self.lite.executemany(sql, rows)
        self.lite.execute("COMMIT")


def _meta_sizes(out: Path) -> Sizes:
    meta = json.loads((out / "meta.json").read_text())
    return Sizes(**meta["sizes"])


def _pool(sizes: Sizes, klass: int) -> list[int]:
    return [u for u in range(1, sizes.customers + 1) if u % TOKEN_USER_EVERY == klass]


_TOKEN_SQL: Final = (
    f"INSERT INTO {AccessToken.__tablename__} (user_id, token_hash, created_at, last_used_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (token_hash) DO UPDATE SET last_used_at = "
    "excluded.last_used_at"
)


async def _fresh_tokens(db: _Db, users: list[int], per_user: int, seed: int) -> list[str]:
    """Each user's tokens replaced by ``per_user`` known ones; ``cellphone token`` lines."""
    await db.many(f"DELETE FROM {AccessToken.__tablename__} WHERE user_id = ?",
                  [(u,) for u in users])  # fmt: skip
    now = db.now()
    rows, lines = [], []
    for j in range(1, per_user + 1):
        for u in users:
            token = bench_token(u, seed, j)
            rows.append((u, sha256_hex(token), now, now))
            lines.append(f"{bench_cellphone(u)} {token}")
    await db.many(_TOKEN_SQL, rows)
    return lines


async def _arm_pending(db: _Db, prefix: str, n: int) -> list[str]:
    """``n`` pending registrations (``prefix`` + 8 digits) each with a live known code."""
    users = User.__tablename__
    (password_hash,) = (await db.fetch(f"SELECT password_hash FROM {users} WHERE id = 1"))[0]
    now = db.now()
    await db.many(
        f"INSERT INTO {users} (cellphone, password_hash, is_active, role, created_at, "
        "updated_at) VALUES (?, ?, ?, 8, ?, ?) ON CONFLICT (cellphone) DO UPDATE SET "
        "is_active = excluded.is_active, activated_at = NULL, temp_password_hash = NULL, "
        "temp_password_expires_at = NULL",
        [(f"{prefix}{i:08d}", password_hash, False, now, now) for i in range(n)],
    )
    found = await db.fetch(
        f"SELECT id, cellphone FROM {users} WHERE cellphone >= ? AND cellphone <= ? ORDER BY id",
        f"{prefix}{0:08d}", f"{prefix}{n - 1:08d}",
    )  # fmt: skip
    codes = ActivationCode.__tablename__
    await db.many(f"DELETE FROM {codes} WHERE user_id = ?", [(r[0],) for r in found])
    expires = db.later(86400)
    rows, lines = [], []
    for uid, cellphone in found:
        code = str(10000 + uid % 90000)
        rows.append((uid, _code_hash(uid, code), 0, expires, now, False))
        lines.append(f"{cellphone} {code}")
    await db.many(
        f"INSERT INTO {codes} (user_id, code_hash, tries, expires_at, created_at, contested) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    return lines


async def _arm_marks(db: _Db, sizes: Sizes, kind: InteractionKind, n: int, seed: int) -> list[str]:
    """``n`` marks of ``kind`` by the delete pool, counted on their targets as the service
    counts a new mark (the ones already there stay, whatever removed the others)."""
    users = _pool(sizes, DELETE_POOL_CLASS)
    await _fresh_tokens(db, users, 0, seed)  # only the pool's own token (below)
    now = db.now()
    await db.many(_TOKEN_SQL, [(u, sha256_hex(bench_token(u, seed)), now, now) for u in users])
    slot = KINDS[kind].slot
    marks = Mark.__tablename__
    existing = {
        (u, t, i): k
        for u, t, i, k in await db.fetch(
            f"SELECT user_id, target, target_id, kind FROM {marks} WHERE slot = ? "
            "AND user_id % 5 = ? AND user_id <= ?",
            slot, DELETE_POOL_CLASS, sizes.customers,
        )
    }  # fmt: skip
    counts = {t: {"bazaar": sizes.bazaars, "mall": sizes.malls, "store": sizes.stores,
                  "product": sizes.products}[t.value] for t in CATALOG_TARGETS}  # fmt: skip
    offset = MARK_KINDS.index(kind) * 1009
    new: dict[tuple[int, str, int], None] = {}
    have = sum(1 for k in existing.values() if k == kind.value)
    # Small datasets have few bazaars and malls: draw until n distinct marks (or give up).
    for i in range(20 * n):
        if have + len(new) >= n:
            break
        u, j = users[i % len(users)], i // len(users)
        target = CATALOG_TARGETS[(u + j) % len(CATALOG_TARGETS)]
        key = (u, target.value, 1 + (u * 7919 + j * 104729 + offset) % counts[target])
        if key not in existing:
            new[key] = None
    await db.many(
        f"INSERT INTO {marks} (user_id, target, target_id, slot, kind, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(u, t, i, slot, kind.value, now) for u, t, i in new],
    )
    for target in CATALOG_TARGETS:
        await db.many(bump_statement(target, kind),
                      [(i,) for u, t, i in new if t == target.value])  # fmt: skip
    mine = [key for key, k in existing.items() if k == kind.value] + list(new)
    random.Random(seed).shuffle(mine)
    return [f"{bench_cellphone(u)} {bench_token(u, seed)} {WIRE_TARGET[TargetKind(t)]} {i}"
            for u, t, i in mine]  # fmt: skip


async def _arm_comments(db: _Db, sizes: Sizes, n: int, seed: int) -> list[str]:
    """At least ``n`` visible comments of the delete pool (text ARM_TEXT), counted."""
    users = _pool(sizes, DELETE_POOL_CLASS)
    now = db.now()
    await db.many(_TOKEN_SQL, [(u, sha256_hex(bench_token(u, seed)), now, now) for u in users])
    comments = Comment.__tablename__
    select_mine = (
        f"SELECT id, user_id FROM {comments} WHERE text = ? AND visible = ? AND user_id % 5 = ? "
        "AND user_id <= ? ORDER BY id"
    )
    args = (ARM_TEXT, True, DELETE_POOL_CLASS, sizes.customers)
    have = len(await db.fetch(select_mine, *args))
    stores = sizes.stores
    rows = []
    for i in range(have, n):
        u = users[i % len(users)]
        rows.append((u, TargetKind.store.value, 1 + (u * 7919 + i) % stores, ARM_TEXT, True, now))
    await db.many(
        f"INSERT INTO {comments} (user_id, target, target_id, text, visible, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    await db.many(bump_statement(TargetKind.store, InteractionKind.comment),
                  [(r[2],) for r in rows])  # fmt: skip
    mine = await db.fetch(select_mine, *args)
    lines = [f"{bench_cellphone(u)} {bench_token(u, seed)} {cid}" for cid, u in mine]
    random.Random(seed).shuffle(lines)
    return lines


def _lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines() if line]


async def _armed(
    db: _Db, people: list[list[str]], rows: list[tuple[Any, ...]], *, insert: str, ids: str,
    pattern: str, key: int,
) -> list[str]:  # fmt: skip
    """Insert ``rows`` (row i for ``people[i % len(people)]``) and say each as ``cellphone
    token id`` of its person: ``ids`` selects (unique key, id) for the keys LIKE ``pattern``,
    ``key`` is the key's place in a row."""
    await db.many(insert, rows)
    found = dict(await db.fetch(ids, pattern))
    return [f"{people[i % len(people)][0]} {people[i % len(people)][1]} {found[row[key]]}"
            for i, row in enumerate(rows)]  # fmt: skip


async def _arm_products(db: _Db, people: list[list[str]], pool: str, n: int) -> list[str]:
    """``n`` new products, each in the store of one of ``people`` (managers.txt or
    sellers.txt lines, ``cellphone token id store``, in turn), for them to edit and delete:
    ``cellphone token product``."""
    now, prefix = db.now(), f"arm-{pool}-{int(time.time() * 1000)}-"
    rows = [(int(people[i % len(people)][3]), f"کالای آزمایشی {i}", f"{prefix}{i}", 10_000,
             "img/bench/product.jpg", "active", "no", now, now) for i in range(n)]  # fmt: skip
    return await _armed(
        db, people, rows, key=2, pattern=f"{prefix}%",
        insert="INSERT INTO products (store_id, title, slug, price, main_image, status, top, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ids="SELECT slug, id FROM products WHERE slug LIKE ?",
    )  # fmt: skip


# The store galleries' bench items: delete-store-gallery's pool and add-store-gallery's own.
GALLERY_ARM: Final = "img/bench/arm-gallery-"
GALLERY_ADDED: Final = "img/bench/gallery-new.jpg"


async def _arm_gallery(db: _Db, people: list[list[str]], n: int) -> list[str]:
    """``n`` new gallery items, each in the store of one of ``people`` (managers.txt lines,
    ``cellphone token id store``, in turn), for that manager to delete: ``cellphone token
    media``. The items earlier arms and add-store-gallery's runs left go first, so the token
    stores' galleries stay small."""
    await db.many("DELETE FROM media WHERE target = ? AND (source LIKE ? OR source = ?)",
                  [("store", f"{GALLERY_ARM}%", GALLERY_ADDED)])  # fmt: skip
    now = db.now()
    stamp = int(time.time() * 1000)
    rows = [("store", int(people[i % len(people)][3]), "تصویر آزمایشی", "image",
             f"{GALLERY_ARM}{stamp}-{i}.jpg", 9, "active", now, now) for i in range(n)]  # fmt: skip
    return await _armed(
        db, people, rows, key=4, pattern=f"{GALLERY_ARM}{stamp}-%",
        insert='INSERT INTO media (target, target_id, title, type, source, "order", status, '
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ids="SELECT source, id FROM media WHERE source LIKE ?",
    )  # fmt: skip


# A store's sellers (addseller, edit-seller, deleteseller, active-seller) are managed in the
# "work stores" (id % 5 == WORK_STORE_CLASS), whose managers the arms give a known token:
# mysellers lists the token stores' sellers (not paged), which these writes leave alone.
WORK_STORE_CLASS: Final = 3
# addseller's new sellers: "098" + 8 digits, counted on from the highest one there.
ADDSELLER_PREFIX: Final = "098"
# The sellers that edit-seller, deleteseller and active-seller act on: SELLERS_PER_WORK_STORE
# per work store, "097" + the store (7 digits) + 0..SELLERS_PER_WORK_STORE - 1.
WORK_SELLER_PREFIX: Final = "097"
SELLERS_PER_WORK_STORE: Final = 5


async def _work_managers(db: _Db, sizes: Sizes, seed: int) -> list[tuple[str, str, int]]:
    """The work stores' managers with their known token: ``(cellphone, token, store)``. The
    token is added beside theirs (store-login's tokens stay)."""
    managers = [(sizes.customers + st, st)
                for st in range(1, sizes.stores + 1)
                if st % STAFF_TOKEN_STORE_EVERY == WORK_STORE_CLASS]  # fmt: skip
    now = db.now()
    await db.many(_TOKEN_SQL, [(u, sha256_hex(bench_token(u, seed)), now, now)
                               for u, _ in managers])  # fmt: skip
    return [(bench_cellphone(u), bench_token(u, seed), st) for u, st in managers]


def _prefixed(prefix: str) -> tuple[str, str]:
    """The bounds of the cellphones starting with ``prefix`` (an index range, not LIKE)."""
    return prefix + "0" * (11 - len(prefix)), prefix + "9" * (11 - len(prefix))


async def _arm_addseller(db: _Db, sizes: Sizes, n: int, seed: int) -> list[str]:
    """``n`` new sellers to add, each to a work store by its manager: ``cellphone token store
    new-cellphone``. The sellers earlier runs added leave their stores first (their accounts
    stay: deleting users would check every table that refers to them), so the work stores'
    lists stay small; the numbers go on from the highest one taken."""
    managers = await _work_managers(db, sizes, seed)
    low, high = _prefixed(ADDSELLER_PREFIX)
    users = User.__tablename__
    await db.many(
        f"DELETE FROM store_sellers WHERE user_id IN (SELECT id FROM {users} "
        "WHERE cellphone >= ? AND cellphone <= ?)",
        [(low, high)],
    )
    ((top,),) = await db.fetch(
        f"SELECT max(cellphone) FROM {users} WHERE cellphone >= ? AND cellphone <= ?", low, high
    )
    first = 0 if top is None else int(top[len(ADDSELLER_PREFIX) :]) + 1
    lines = []
    for i in range(n):
        cell, token, store = managers[i % len(managers)]
        lines.append(f"{cell} {token} {store} {ADDSELLER_PREFIX}{first + i:08d}")
    return lines


async def _arm_store_sellers(db: _Db, sizes: Sizes, n: int, seed: int) -> list[str]:
    """The work stores' own sellers, active, with their names (edit-seller sets the same ones
    again), for their managers to edit, dismiss and re-activate: ``cellphone token seller
    store`` with the manager's login, ``n`` lines over them in turn. Each request is one that
    may be repeated (the same fields, the same status), so the lines cycle."""
    managers = await _work_managers(db, sizes, seed)
    users = User.__tablename__
    (password_hash,) = (await db.fetch(f"SELECT password_hash FROM {users} WHERE id = 1"))[0]
    now = db.now()
    wanted = {f"{WORK_SELLER_PREFIX}{store:07d}{k}": store for _, _, store in managers
              for k in range(SELLERS_PER_WORK_STORE)}  # fmt: skip
    await db.many(
        f"INSERT INTO {users} (cellphone, password_hash, is_active, role, name, family, "
        "created_at, updated_at, activated_at) VALUES (?, ?, ?, 7, ?, ?, ?, ?, ?) "
        "ON CONFLICT (cellphone) DO UPDATE SET is_active = excluded.is_active, role = 7, "
        "name = excluded.name, family = excluded.family",
        [(cell, password_hash, True, "فروشنده", "آزمایشی", now, now, now) for cell in wanted],
    )
    low, high = _prefixed(WORK_SELLER_PREFIX)
    ids = dict(await db.fetch(
        f"SELECT cellphone, id FROM {users} WHERE cellphone >= ? AND cellphone <= ?", low, high
    ))  # fmt: skip
    await db.many(
        "INSERT INTO store_sellers (store_id, user_id, status, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (store_id, user_id) DO UPDATE SET status = excluded.status",
        [(store, ids[cell], "active", now) for cell, store in wanted.items()],
    )
    manager_of = {store: (cell, token) for cell, token, store in managers}
    lines = [f"{manager_of[store][0]} {manager_of[store][1]} {ids[cell]} {store}"
             for cell, store in wanted.items()]  # fmt: skip
    random.Random(seed).shuffle(lines)
    return [lines[i % len(lines)] for i in range(n)]


async def arm(url: str, *, out: Path, pool: str, n: int, seed: int = BENCH_SEED) -> Path:
    """Re-arm ``pool`` for ``n`` requests; its request data goes to ``out/arm-<pool>.txt``."""
    sizes = _meta_sizes(out)
    async with _Db(url) as db:
        if pool == "logout":
            users = _pool(sizes, SESSION_POOL_CLASS)
            lines = await _fresh_tokens(db, users, max(1, -(-n // len(users))), seed)
        elif pool == "sessions":
            lines = await _fresh_tokens(db, _pool(sizes, SESSION_POOL_CLASS), 1, seed)
        elif pool in PENDING_PREFIX:
            lines = await _arm_pending(db, PENDING_PREFIX[pool], n)
        elif pool == "comments":
            lines = await _arm_comments(db, sizes, n, seed)
        elif pool == "gallery":
            lines = await _arm_gallery(db, _lines(out / "managers.txt"), n)
        elif pool in PRODUCT_POOLS:
            lines = await _arm_products(db, _lines(out / PRODUCT_POOLS[pool]), pool, n)
        elif pool == "addseller":
            lines = await _arm_addseller(db, sizes, n, seed)
        elif pool == "store-sellers":
            lines = await _arm_store_sellers(db, sizes, n, seed)
        elif pool in {k.value for k in MARK_KINDS}:
            lines = await _arm_marks(db, sizes, InteractionKind(pool), n, seed)
        else:
            raise SystemExit(f"unknown pool {pool!r}: one of {', '.join(ARM_POOLS)}")
    path = out / f"arm-{pool}.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


# -- uploads --------------------------------------------------------------------------------

# The upload endpoints' requests (bench/endpoints.py UPLOAD_BODY): one multipart body, the
# ``submit`` file part and the closing boundary, that bench/lua/generic.lua reads once (its
# first line names the boundary; a request's own fields go in front of it).
UPLOAD_BODY = "upload.multipart"
UPLOAD_BOUNDARY = "----hojre-bench-4f1c9a2e7d"


def phone_photo(width: int = 1280, height: int = 960) -> bytes:
    """A JPEG as a phone app sends one (~200 KB): a gradient under coarse noise, the same bytes
    every time (a seeded generator), which does not compress to nothing as a flat image would
    and so costs the decoder and the encoder what a photo costs."""
    from PIL import Image

    rng = random.Random(13)
    small = (width // 8, height // 8)
    noise = Image.frombytes("RGB", small, rng.randbytes(small[0] * small[1] * 3))
    ramp = Image.linear_gradient("L")
    gradient = Image.merge("RGB", (ramp.resize((width, height)),
                                   ramp.rotate(90).resize((width, height)),
                                   Image.new("L", (width, height), 128)))  # fmt: skip
    photo = Image.blend(gradient, noise.resize((width, height), Image.Resampling.BICUBIC), 0.35)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=85)
    return out.getvalue()


def write_upload(out: Path) -> Path:
    """``out/upload.multipart``: the ``submit`` part holding :func:`phone_photo`."""
    head = (
        f"--{UPLOAD_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="submit"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    path = out / UPLOAD_BODY
    path.write_bytes(head.encode() + phone_photo() + f"\r\n--{UPLOAD_BOUNDARY}--\r\n".encode())
    return path


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a dataset (see the module's docstring)")
    b.add_argument("--url", required=True)
    b.add_argument("--scale", type=float, default=1.0)
    b.add_argument("--reset", action="store_true", help="drop and recreate (name holds 'bench')")
    b.add_argument("--out", type=Path, required=True)
    a = sub.add_parser("arm", help="re-arm what a benchmarked write consumes")
    a.add_argument("--url", required=True)
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--pool", required=True, choices=ARM_POOLS)
    a.add_argument("--n", type=int, required=True)
    u = sub.add_parser("upload", help="write the upload endpoints' multipart body only")
    u.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "upload":
        print(f"wrote {write_upload(args.out)}")
    elif args.command == "build":
        run(args.url, scale=args.scale, reset=args.reset, out=args.out)
    else:
        path = asyncio.run(arm(args.url, out=args.out, pool=args.pool, n=args.n))
        print(f"armed {path} ({sum(1 for _ in path.open())} lines)")


if __name__ == "__main__":
    main()
