"""A large synthetic marketplace for benchmarks (``hojre bench-data``), loaded in bulk.

Scale 1.0 is 100,000 customers, 10,000 stores (each with a manager and 1–3 sellers), 50,000
products, 1,000,000 chats with 5,000,000 messages and 2,000,000 interactions (800,000 views,
800,000 likes, dislikes, favourites and follows, 400,000 comments); scale 0.01 is 1% of it.
The densities (chats per customer, messages per chat, chats and comments per store) do not
depend on the scale, so a big and a small dataset differ only in size.

Rows are generated deterministically (one seed) and written with PostgreSQL's COPY (asyncpg's
``copy_records_to_table``) or SQLite's ``executemany`` in one transaction per table, with the
secondary indexes dropped during the load and built afterwards. The counters on targets are
then computed from the rows with set-based UPDATEs, so they equal the rows exactly as the
interactions service keeps them. Every bench user has the same password (one argon2 hash);
tokens are derived from the user id, so the load generator can be given real tokens: see
:func:`bench_token`. The files written to ``out`` are ``users.txt`` (``cellphone token id``),
``chats.txt`` (``cellphone token chat_id``: open chats of those users), ``stores.txt`` (store
ids) and ``meta.json`` (sizes and load times).
"""

# ruff: noqa: S608 (table and column names in the SQL are this module's constants)

from __future__ import annotations

import asyncio
import base64
import hashlib
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

from hojre.core.migrate import upgrade_async
from hojre.core.security import hash_password, sha256_hex

BENCH_PASSWORD: Final = "hojre-bench"  # noqa: S105 (the bench users' published password)
BENCH_SEED: Final = 20251125
# Every generated timestamp lies before this moment (chats over the year before it).
NOW: Final = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
YEAR: Final = 365 * 86400
TOKEN_USER_EVERY: Final = 5  # every 5th customer has a token (20,000 at scale 1.0)
CHUNK: Final = 20_000  # rows between progress updates

# Tables the load writes (their secondary indexes are dropped and rebuilt around it).
LOADED_TABLES: Final = (
    "users", "bazaars", "malls", "stores", "store_sellers", "products", "media",
    "access_tokens", "marks", "views", "comments", "chats", "chat_messages",
)  # fmt: skip

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


def bench_token(user_id: int, seed: int = BENCH_SEED) -> str:
    """The bench user's token: 32 URL-safe characters derived from the id (not random)."""
    digest = hashlib.sha256(f"hojre-bench:{seed}:{user_id}".encode()).digest()
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
            comments=4 * customers,
        )


# Per customer: how many distinct targets of each kind get a mark, a view, a comment.
MARK_PLAN: Final = (("store", 4), ("product", 2), ("bazaar", 1), ("mall", 1))
VIEW_PLAN: Final = (("store", 4), ("product", 3), ("bazaar", 1))
COMMENT_PLAN: Final = (("store", 2), ("product", 2))
MARK_KINDS: Final = (  # (kind, slot, cumulative chance)
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


Timestamp = Callable[[int], Any]  # seconds before NOW -> the driver's value


class Plan:
    """Every row of the dataset, as generators of tuples (the same for both databases)."""

    def __init__(self, sizes: Sizes, *, ts: Timestamp, geo: Sequence[tuple[int, int, int]],
                 categories: Sequence[int], password_hash: str, seed: int) -> None:  # fmt: skip
        self.n = sizes
        self.ts = ts
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
                "bazaar": self.n.bazaars, "mall": self.n.malls}[kind]  # fmt: skip

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
        for n, uid in enumerate(self.token_users, start=1):
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
                    kind, slot, _ = next(m for m in MARK_KINDS if roll < m[2])
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
        plan = [(kind, self.targets(kind), k) for kind, k in COMMENT_PLAN]
        for uid in range(1, self.n.customers + 1):
            for target, n, k in plan:
                for target_id in rng.sample(range(1, n + 1), min(k, n)):
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
            ("access_tokens", self.ACCESS_TOKENS, len(self.token_users),
             self.access_tokens_rows),
            ("marks", self.MARKS, per_customer[0] * n.customers, self.marks_rows),
            ("views", self.VIEWS, per_customer[1] * n.customers, self.views_rows),
            ("comments", self.COMMENTS, n.comments, self.comments_rows),
            ("chats", self.CHATS, n.chats, self.chats_rows),
            ("chat_messages", self.CHAT_MESSAGES, sum(self.message_counts),
             self.chat_messages_rows),
        ]  # fmt: skip

    # -- files for the load generator ------------------------------------------------------

    def write_files(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        tokens = {uid: bench_token(uid, self.seed) for uid in self.token_users}
        with (out / "users.txt").open("w") as f:
            for uid, token in tokens.items():
                f.write(f"{bench_cellphone(uid)} {token} {uid}\n")
        with (out / "chats.txt").open("w") as f:
            for i in range(self.n.chats):
                uid = self.chat_customer[i]
                if uid in tokens and self.chat_status[i] != 2:
                    f.write(f"{bench_cellphone(uid)} {tokens[uid]} {i + 1}\n")
        with (out / "stores.txt").open("w") as f:
            f.writelines(f"{i}\n" for i in range(1, self.n.stores + 1))


# -- counters from the rows ------------------------------------------------------------------

COUNTED: Final = (("bazaars", "bazaar"), ("malls", "mall"), ("stores", "store"),
                  ("products", "product"))  # fmt: skip


def counter_statements() -> list[str]:
    """Set-based UPDATEs giving each target the counters the interactions service keeps."""
    statements = []
    for table, target in COUNTED:
        statements += [
            f"UPDATE {table} SET liked = m.liked, disliked = m.disliked, "
            f"favorite_count = m.favorite, notification_count = m.notification FROM ("
            "SELECT target_id, "
            "sum(CASE WHEN kind = 'like' THEN 1 ELSE 0 END) AS liked, "
            "sum(CASE WHEN kind = 'dislike' THEN 1 ELSE 0 END) AS disliked, "
            "sum(CASE WHEN kind = 'favorite' THEN 1 ELSE 0 END) AS favorite, "
            "sum(CASE WHEN kind = 'notification' THEN 1 ELSE 0 END) AS notification "
            f"FROM marks WHERE target = '{target}' GROUP BY target_id) AS m "
            f"WHERE {table}.id = m.target_id",
            f"UPDATE {table} SET viewed = v.viewed FROM (SELECT target_id, sum(count) AS viewed "
            f"FROM views WHERE target = '{target}' GROUP BY target_id) AS v "
            f"WHERE {table}.id = v.target_id",
            f"UPDATE {table} SET comments_count = c.n, score_total = c.total, "
            "score_count = c.scored FROM (SELECT target_id, count(*) AS n, "
            "coalesce(sum(score), 0) AS total, count(score) AS scored FROM comments "
            f"WHERE target = '{target}' AND visible GROUP BY target_id) AS c "
            f"WHERE {table}.id = c.target_id",
        ]
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
            geo = [(r[0], r[1], r[2]) for r in cities]
            categories = [r[0] for r in await pg.fetch("SELECT id FROM bazaar_categories")]
            epoch = NOW

            def ts(seconds_before: int) -> datetime:
                return epoch - timedelta(seconds=seconds_before)

            plan = Plan(sizes, ts=ts, geo=geo, categories=categories,
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
        plan.write_files(out)
    report.total_seconds = time.perf_counter() - started
    return report


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise SystemExit("bench-data needs a SQLite file")
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
        epoch = NOW.replace(tzinfo=None)

        def ts(seconds_before: int) -> str:
            # SQLAlchemy's SQLite DATETIME storage format (UTC, naive).
            return (epoch - timedelta(seconds=seconds_before)).isoformat(" ", "microseconds")

        plan = Plan(sizes, ts=ts, geo=geo, categories=categories,
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
        with console.status("building indexes"):
            for _, ddl in indexes:
                db.execute(ddl)
        t = lap("indexes", t)
        with console.status("counters"):
            db.execute("BEGIN")
            for statement in counter_statements():
                db.execute(statement.replace("AND visible", "AND visible = 1"))
            db.execute("COMMIT")
        t = lap("counters", t)
        with console.status("ANALYZE"):
            db.execute("ANALYZE")
            db.execute("PRAGMA journal_mode = WAL")
        t = lap("analyze", t)
    finally:
        db.close()
    if out is not None:
        plan.write_files(out)
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
