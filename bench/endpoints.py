"""How the benchmark builds realistic requests for every v1 endpoint (stdlib only).

``TABLE`` maps each route of ``hojre.web_v1.app.ROUTERS`` (method and path as declared, without
the ``/web`` prefix) to a :class:`Recipe`: a function turning the dataset's files (written by
``bench/dataset.py``, see ``Plan.write_files``) into requests, and how wrk replays them
(``bench/lua/generic.lua``). ``tests/test_bench_coverage.py`` fails when a route has no recipe,
so a new endpoint cannot be left out of ``make bench``.

Every request is meant to succeed in the contract's sense (the Lua script counts non-2xx and
``{"status":"error"`` bodies as errors): real tokens of the right kind of user, ids that exist
and that the caller may see, and a separate pool of users wherever a write would break another
endpoint's requests (see bench/dataset.py's docstring). Writes that consume something (a token
that logout ends, a pending registration, a mark or comment to delete) name a ``pool`` that
``bench/dataset.py arm`` re-creates before the endpoint's runs; they replay it in order
(``sequential``), each line once.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

PASSWORD = "hojre-bench"  # noqa: S105 (every bench user's published password)
Request = tuple[str, str, str]  # method, path with query, form body ("" for GET)
RANDOM_LINES = 10_000  # requests drawn per file for the endpoints that rotate at random

# The reason printed where a target does not apply.
ARGON2 = "argon2 by design (hashes or checks a password at the shipped cost)"


class Data:
    """The dataset's files (one folder per dataset), read once each."""

    def __init__(self, folder: Path, rng: random.Random) -> None:
        self.folder = folder
        self.rng = rng
        self._rows: dict[str, list[list[str]]] = {}

    def rows(self, name: str) -> list[list[str]]:
        if name not in self._rows:
            path = self.folder / name
            self._rows[name] = [line.split() for line in path.read_text().splitlines() if line]
            if not self._rows[name]:
                raise RuntimeError(f"{path} is empty")
        return self._rows[name]

    def pick(self, name: str) -> list[str]:
        return self.rng.choice(self.rows(name))

    def fresh_numbers(self, n: int, prefix: str = "094") -> list[str]:
        """``n`` cellphones never used on this dataset (a counter kept beside its files)."""
        counter = self.folder / "fresh-numbers.txt"
        first = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(first + n))
        return [f"{prefix}{i:08d}" for i in range(first, first + n)]


Build = Callable[[Data, int], list[Request]]


@dataclass(frozen=True, slots=True)
class Recipe:
    build: Build
    # The dataset.py arm pool the endpoint consumes (re-armed before its runs), or None.
    pool: str | None = None
    # random: each request a random line; sequential: each line once, in order, per thread.
    order: str = "random"
    # newtoken: each answer's new token is the next request's (the old one is dead).
    chain: bool = False
    # Why the endpoint's ratio target does not apply (None: it does).
    exempt: str | None = None
    # A public list that is cached (target ≥ 0.8× ping).
    cached: bool = False
    # Requests per second the pool is sized for (consumed pools only): above what the fastest
    # of them answers (delete-favorite passed 4,000 on SQLite and ran out of marks).
    rate: int = 12000


def auth(user: list[str]) -> dict[str, str]:
    return {"username": user[0], "token": user[1]}


def get(path: str, **params: str) -> Request:
    return ("GET", f"/web{path}?{urlencode(params)}" if params else f"/web{path}", "")


def post(path: str, **form: str) -> Request:
    return ("POST", f"/web{path}", urlencode(form))


def each(n: int, make: Callable[[], Request]) -> list[Request]:
    return [make() for _ in range(n)]


def random_get(path: str, **fixed: str) -> Build:
    """A GET with a random token customer's login."""
    return lambda d, n: each(n, lambda: get(path, **auth(d.pick("users.txt")), **fixed))


def plain(path: str) -> Build:
    return lambda d, n: [get(path)]


def by_id(path: str, file: str) -> Build:
    """GET path?id=<random id from file>, no login."""
    return lambda d, n: each(n, lambda: get(path, id=d.pick(file)[0]))


def detail(path: str, file: str) -> Build:
    """GET path/<random id from file>."""
    return lambda d, n: each(n, lambda: get(f"{path}/{quote(d.pick(file)[0])}"))


def armed(make: Callable[[list[str]], Request], pool: str) -> Build:
    """One request per line of the pool's arm file (bench/dataset.py arm), in its order."""
    return lambda d, n: [make(row) for row in d.rows(f"arm-{pool}.txt")]


# -- accounts --------------------------------------------------------------------------------


def _register(d: Data, n: int) -> list[Request]:
    return [post("/user/register", username=c, password=PASSWORD) for c in d.fresh_numbers(n)]


def _edit(d: Data, n: int) -> list[Request]:
    def make() -> Request:
        hood, city, state = d.pick("hoods.txt")
        return post(
            "/user/edit", **auth(d.pick("users.txt")), name="مریم", family="احمدی",
            state=state, city=city, hood=hood, address="تهران، خیابان ولیعصر، پلاک ۱۲",
            gender="female", age="31",
        )  # fmt: skip

    return each(n, make)


def _store_register(d: Data, n: int) -> list[Request]:
    """register with a store: fresh numbers, a place of the seeded geography, a bazaar
    category of the dataset, the store titled apart (a shared title would make each insert
    read every earlier store's numbered slug) and a point in Tehran."""

    def make(cellphone: str) -> Request:
        hood, city, state = d.pick("hoods.txt")
        return post(
            "/user/store-register", username=cellphone, password=PASSWORD,
            title=f"حجره کتاب {d.rng.randrange(10**12)}", address="تهران، خیابان انقلاب، پلاک ۱۲",
            phone="02166401234", state=state, city=city, hood=hood,
            category=d.pick("categories.txt")[0], x="51.4336", y="35.8041",
        )  # fmt: skip

    return [make(c) for c in d.fresh_numbers(n)]


ACCOUNTS: dict[tuple[str, str], Recipe] = {
    ("POST", "/user/register"): Recipe(_register, order="sequential", exempt=ARGON2, rate=300),
    ("POST", "/user/store-register"): Recipe(
        _store_register, order="sequential", exempt=ARGON2, rate=300
    ),
    ("POST", "/user/checkactivationcode"): Recipe(
        armed(lambda r: post("/user/checkactivationcode", username=r[0], code=r[1]), "pending"),
        pool="pending",
        order="sequential",
    ),
    # Pending registrations asking again: each answer a new code (the budgets are raised).
    ("POST", "/user/newactivationcode"): Recipe(
        armed(lambda r: post("/user/newactivationcode", username=r[0]), "pending-new"),
        pool="pending-new",
    ),
    ("POST", "/user/login"): Recipe(
        lambda d, n: each(
            n, lambda: post("/user/login", username=d.pick("login.txt")[0], password=PASSWORD)
        ),
        exempt=ARGON2,
    ),
    ("POST", "/user/store-login"): Recipe(
        lambda d, n: each(
            n,
            lambda: post(
                "/user/store-login", username=d.pick("staff_login.txt")[0], password=PASSWORD
            ),
        ),
        exempt=ARGON2,
    ),
    ("POST", "/user/newtoken"): Recipe(
        armed(lambda r: post("/user/newtoken", username=r[0], token=r[1]), "sessions"),
        pool="sessions",
        chain=True,
    ),
    ("POST", "/user/islogin"): Recipe(
        lambda d, n: each(n, lambda: post("/user/islogin", **auth(d.pick("users.txt"))))
    ),
    ("POST", "/user/logout"): Recipe(
        armed(lambda r: post("/user/logout", username=r[0], token=r[1]), "logout"),
        pool="logout",
        order="sequential",
    ),
    ("POST", "/user/forget"): Recipe(
        lambda d, n: each(n, lambda: post("/user/forget", username=d.pick("forget.txt")[0])),
        exempt=ARGON2,
    ),
    ("GET", "/users"): Recipe(random_get("/users")),
    ("POST", "/user/edit"): Recipe(_edit),
    # The new password is the old one: every run starts from the published password.
    ("POST", "/user/change-password"): Recipe(
        armed(
            lambda r: post(
                "/user/change-password",
                username=r[0],
                token=r[1],
                oldPassword=PASSWORD,
                newPassword=PASSWORD,
            ),
            "sessions",
        ),
        pool="sessions",
        exempt=ARGON2,
    ),
}

# -- geography and catalogue -----------------------------------------------------------------

GEOGRAPHY: dict[tuple[str, str], Recipe] = {
    ("GET", "/countries"): Recipe(plain("/countries"), cached=True),
    ("GET", "/states"): Recipe(plain("/states"), cached=True),
    ("GET", "/cities"): Recipe(
        lambda d, n: each(n, lambda: get("/cities", state=d.pick("states.txt")[0])), cached=True
    ),
    ("GET", "/hoods"): Recipe(
        lambda d, n: each(n, lambda: get("/hoods", city=d.pick("hoods.txt")[1])), cached=True
    ),
}

CATALOGUE: dict[tuple[str, str], Recipe] = {
    ("GET", "/bazzar-categories"): Recipe(plain("/bazzar-categories"), cached=True),
    # The apps list by place and by parent: the densities are those of the dataset.
    ("GET", "/bazzars"): Recipe(
        lambda d, n: each(n, lambda: get("/bazzars", city=d.pick("places.txt")[0]))
    ),
    ("GET", "/malls"): Recipe(
        lambda d, n: each(n, lambda: get("/malls", bazzar=d.pick("bazaars.txt")[0]))
    ),
    ("GET", "/stores"): Recipe(
        lambda d, n: each(n, lambda: get("/stores", mall=d.pick("malls.txt")[0]))
    ),
    ("GET", "/products"): Recipe(
        lambda d, n: each(n, lambda: get("/products", store=d.pick("stores.txt")[0]))
    ),
    ("GET", "/bazzars/{id}"): Recipe(detail("/bazzars", "bazaars.txt")),
    ("GET", "/malls/{id}"): Recipe(detail("/malls", "malls.txt")),
    ("GET", "/stores/{id}"): Recipe(detail("/stores", "stores.txt")),
    ("GET", "/products/{id}"): Recipe(detail("/products", "products.txt")),
}

# -- interactions ----------------------------------------------------------------------------

WIRE_TARGETS = ("bazzar", "mall", "store", "product")
TARGET_FILES = {"bazzar": "bazaars.txt", "mall": "malls.txt", "store": "stores.txt",
                "product": "products.txt", "user": "staff.txt"}  # fmt: skip
LIST_KINDS = ("likes", "dislikes", "favorites", "notifications", "views")
ADD_KINDS = ("like", "dislike", "favorite", "notification", "view")
DELETE_KINDS = ("like", "dislike", "favorite", "notification")


def user_class(row: list[str]) -> int:
    """A token customer's id % 10 (from the cellphone, 093 + the id): 1 or 6."""
    return int(row[0][3:]) % 10


def _add(kind: str) -> Build:
    # Votes flip what is-true asks about: add-like and add-dislike use the token customers
    # that is-true leaves alone (id % 10 == 6); the other adds only add.
    users = "users.txt"

    def make(d: Data) -> Request:
        pool = d.rows(users)
        user = d.rng.choice(pool)
        while kind in ("like", "dislike") and user_class(user) != 6:
            user = d.rng.choice(pool)
        target = d.rng.choice(WIRE_TARGETS)
        return post(f"/user/add-{kind}", **auth(user), target=target,
                    id=d.pick(TARGET_FILES[target])[0])  # fmt: skip

    return lambda d, n: each(n, lambda: make(d))


def _add_comment(d: Data, n: int) -> list[Request]:
    def make() -> Request:
        target = d.rng.choice((*WIRE_TARGETS, "user"))
        return post(
            "/user/add-comment", **auth(d.pick("users.txt")), target=target,
            id=d.pick(TARGET_FILES[target])[0], text="کیفیت خوب بود و ارسال سریع انجام شد.",
            pros="قیمت مناسب", cons="", score=str(d.rng.randint(1, 5)),
        )  # fmt: skip

    return each(n, make)


def _is_true(d: Data, n: int) -> list[Request]:
    # Marks of id % 10 == 1 customers (add-like/add-dislike never touch them), their views
    # and comments: each answers the kind's "yes".
    rows = [r for r in d.rows("marks.txt") if r[4] not in ("like", "dislike") or
            user_class(r) == 1]  # fmt: skip

    def make() -> Request:
        cell, token, target, target_id, kind = d.rng.choice(rows)
        return post("/user/is-true", username=cell, token=token, target=target, id=target_id,
                    type=kind)  # fmt: skip

    return each(n, make)


def _delete(kind: str) -> Build:
    """Marks of the delete pool, each removed once (re-armed before the runs)."""

    def make(r: list[str]) -> Request:
        return post(f"/user/delete-{kind}", username=r[0], token=r[1], target=r[2], id=r[3])

    return armed(make, kind)


INTERACTIONS: dict[tuple[str, str], Recipe] = {
    **{
        ("GET", f"/{t}-user-comments"): Recipe(by_id(f"/{t}-user-comments", TARGET_FILES[t]))
        for t in (*WIRE_TARGETS, "user")
    },
    **{
        ("GET", f"/{t}-user-{k}"): Recipe(random_get(f"/{t}-user-{k}"))
        for t in WIRE_TARGETS
        for k in LIST_KINDS
    },
    ("POST", "/user/add-comment"): Recipe(_add_comment),
    **{("POST", f"/user/add-{k}"): Recipe(_add(k)) for k in ADD_KINDS},
    **{
        ("POST", f"/user/delete-{k}"): Recipe(_delete(k), pool=k, order="sequential")
        for k in DELETE_KINDS
    },
    ("POST", "/user/delete-comment"): Recipe(
        armed(
            lambda r: post(
                "/user/delete-comment", username=r[0], token=r[1], id=r[2], target="store"
            ),
            "comments",
        ),
        pool="comments",
        order="sequential",
    ),
    ("POST", "/user/is-true"): Recipe(_is_true),
}

# -- messaging -------------------------------------------------------------------------------


def _main_chats(d: Data, n: int) -> list[Request]:
    # The first read of a chat marks its messages seen (a write); later reads only read. The
    # same number of chats on every dataset keeps that mix the same, so big ÷ small compares
    # data size alone (over all of its chats the big dataset made nearly every request a
    # first read, the small one's were each read about twenty times).
    rows = d.rows("chats.txt")[:2000]
    return each(n, lambda: (lambda c: get("/main-chats", **auth(c), id=c[2]))(d.rng.choice(rows)))


def _send_chat_message(d: Data, n: int) -> list[Request]:
    return [
        (
            lambda c: post(
                "/user/send-chat-message", **auth(c), id=c[2], text=f"سلام، این کالا موجود است؟ {i}"
            )
        )(d.pick("chats.txt"))
        for i in range(n)
    ]


def _finish_chat(d: Data, n: int) -> list[Request]:
    # Finishing a finished chat answers "Chat Finished" again: idempotent, as clients retry.
    return each(n, lambda: (lambda c: post("/user/finish-chat", **auth(c), id=c[2]))(
        d.pick("finish.txt")))  # fmt: skip


def _store_side(path: str, file: str, message: str = "id", **extra: str) -> Build:
    """A store manager's (or seller's) request on a row of ``file`` (store_messages.txt: the
    message's id as ``message``, the parameter's name)."""

    def make(row: list[str]) -> Request:
        params = {**auth(row), **extra}
        if file == "store_messages.txt":
            params[message] = row[2]
        return post(path, **params)

    return lambda d, n: each(n, lambda: make(d.pick(file)))


def _send_offer(d: Data, n: int) -> list[Request]:
    def make() -> Request:
        cell, token, store, customer = d.pick("offer_targets.txt")
        return post("/seller/send-offer", username=cell, token=token, store=store,
                    user=customer, text="۲۰٪ تخفیف ویژه تا آخر هفته")  # fmt: skip

    return each(n, make)


MESSAGING: dict[tuple[str, str], Recipe] = {
    ("GET", "/chats"): Recipe(random_get("/chats")),
    ("GET", "/main-chats"): Recipe(_main_chats),
    ("POST", "/user/start-chat"): Recipe(
        lambda d, n: each(
            n,
            lambda: post(
                "/user/start-chat", **auth(d.pick("users.txt")), store=d.pick("stores.txt")[0]
            ),
        )
    ),
    ("POST", "/user/send-chat-message"): Recipe(_send_chat_message),
    ("POST", "/user/finish-chat"): Recipe(_finish_chat),
    ("POST", "/user/submit-store-message"): Recipe(
        lambda d, n: each(
            n,
            lambda: post(
                "/user/submit-store-message",
                **auth(d.pick("users.txt")),
                store=d.pick("stores.txt")[0],
                title="پرسش درباره ارسال",
                text="سلام، ارسال به شهرستان دارید؟",
            ),
        )
    ),
    ("GET", "/store-messages"): Recipe(random_get("/store-messages")),
    ("POST", "/store-manager/store-messages"): Recipe(
        _store_side("/store-manager/store-messages", "managers.txt")
    ),
    ("POST", "/store-manager/unique-store-message"): Recipe(
        _store_side("/store-manager/unique-store-message", "store_messages.txt")
    ),
    ("POST", "/store-manager/answer-store-message"): Recipe(
        _store_side(
            "/store-manager/answer-store-message",
            "store_messages.txt",
            message="message",  # the store-manager document's name (§4's id still works)
            answer="بله، با پست پیشتاز ارسال می‌کنیم.",
        )
    ),
    ("GET", "/offers"): Recipe(random_get("/offers")),
    ("POST", "/user/read-offer"): Recipe(
        lambda d, n: each(
            n,
            lambda: (lambda r: post("/user/read-offer", **auth(r), id=r[2]))(d.pick("offers.txt")),
        )
    ),
    ("POST", "/seller/send-offer"): Recipe(_send_offer),
    ("POST", "/store-manager/offers"): Recipe(_store_side("/store-manager/offers", "managers.txt")),
    ("GET", "/broadcasts"): Recipe(random_get("/broadcasts")),
    ("GET", "/broadcasts/{id}"): Recipe(
        lambda d, n: each(
            n,
            lambda: get(f"/broadcasts/{d.pick('broadcasts.txt')[0]}", **auth(d.pick("users.txt"))),
        )
    ),
}

# -- the store side --------------------------------------------------------------------------


def _own_store(path: str, file: str, **fields: str) -> Build:
    """A staff member's request about their own store (a row of ``file``: managers.txt or
    sellers.txt, ``cellphone token id store``), with ``fields``."""
    return lambda d, n: each(
        n, lambda: (lambda r: post(path, **auth(r), store=r[3], **fields))(d.pick(file))
    )


STORE_SIDE: dict[tuple[str, str], Recipe] = {
    ("POST", "/store-manager/statistics"): Recipe(
        _own_store("/store-manager/statistics", "managers.txt")
    ),
    ("POST", "/seller/statistics"): Recipe(_own_store("/seller/statistics", "sellers.txt")),
}


def _add_product(path: str, file: str) -> Build:
    """A product in the staff member's store, titled apart (a shared title would make each
    insert read every earlier product's numbered slug)."""

    def build(d: Data, n: int) -> list[Request]:
        def make() -> Request:
            r = d.pick(file)
            return post(path, **auth(r), store=r[3], price="۱۲۵۰۰۰۰", top="yes",
                        title=f"کیف چرمی {d.rng.randrange(10**12)}",
                        description="چرم طبیعی، دوخت دستی.",
                        **{"Gallery[1]": "img/bench/product-gallery.jpg"})  # fmt: skip

        return each(n, make)

    return build


def _product_pool(path: str, pool: str, **fields: str) -> Recipe:
    """A request about a product made for it (bench/dataset.py arm: ``cellphone token
    product``), each once: delete-product consumes them, edit-product shares the recipe."""
    return Recipe(
        armed(lambda r: post(path, **auth(r), product=r[2], **fields), pool),
        pool=pool,
        order="sequential",
    )


for _side, _file in (("store-manager", "managers.txt"), ("seller", "sellers.txt")):
    _pool_name = f"products-{'manager' if _side == 'store-manager' else 'seller'}"
    STORE_SIDE |= {
        # A screenful: add-product's runs and the arms grow the token stores' lists.
        ("POST", f"/{_side}/products"): Recipe(
            _own_store(f"/{_side}/products", _file, perPage="20")
        ),
        ("POST", f"/{_side}/add-product"): Recipe(_add_product(f"/{_side}/add-product", _file)),
        ("POST", f"/{_side}/edit-product"): _product_pool(
            f"/{_side}/edit-product", _pool_name, price="990000", top="no"
        ),
        ("POST", f"/{_side}/delete-product"): _product_pool(f"/{_side}/delete-product", _pool_name),
        # A screenful of the store's customers (bench/dataset.py customer_statements).
        **{
            ("POST", f"/{_side}/{kind}-customers"): Recipe(
                _own_store(f"/{_side}/{kind}-customers", _file, perPage="20")
            )
            for kind in ("physical", "virtual")
        },
    }

# A store's sellers, for its manager. mysellers (not paged) lists the token stores' sellers;
# the writes act in the work stores (bench/dataset.py WORK_STORE_CLASS), whose managers the
# arms give tokens: addseller adds the numbers its arm names (and that arm takes the sellers
# earlier runs added out of their stores), the others act on the arm's own sellers of those
# stores with requests that may be repeated (the same names; dismissed or active again), so
# sellers.txt's sellers stay active for the /seller/* endpoints.
_SELLER_NAMES = {"Seller[name]": "فروشنده", "Seller[family]": "آزمایشی"}


def _seller_pool(path: str, *, store: bool, **fields: str) -> Recipe:
    """A request about a work store's seller (``cellphone token seller store``)."""
    return Recipe(
        armed(
            lambda r: post(path, **auth(r), seller=r[2], **({"store": r[3]} if store else {}),
                           **fields),
            "store-sellers",
        ),
        pool="store-sellers",
        order="sequential",
    )  # fmt: skip


def _add_seller(r: list[str]) -> Request:
    """A new seller (``cellphone token store new-cellphone``)."""
    return post("/store-manager/addseller", **auth(r), store=r[2], **_SELLER_NAMES,
                **{"Seller[cellPhone]": r[3], "Seller[password]": PASSWORD})  # fmt: skip


SELLERS: dict[tuple[str, str], Recipe] = {
    ("POST", "/store-manager/addseller"): Recipe(
        armed(_add_seller, "addseller"),
        pool="addseller",
        order="sequential",
        exempt=ARGON2,
        rate=300,
    ),
    ("POST", "/store-manager/mysellers"): Recipe(
        _own_store("/store-manager/mysellers", "managers.txt")
    ),
    # No password: nothing hashed, no session ended.
    ("POST", "/store-manager/edit-seller"): _seller_pool(
        "/store-manager/edit-seller", store=False, **_SELLER_NAMES
    ),
    ("POST", "/store-manager/deleteseller"): _seller_pool(
        "/store-manager/deleteseller", store=True
    ),
    ("POST", "/store-manager/active-seller"): _seller_pool(
        "/store-manager/active-seller", store=True
    ),
}

# The store's profile and gallery (store managers). add-store-gallery adds rows to the token
# stores' galleries (they run after every public read of the table); the gallery arm deletes
# them with its own leftovers (bench/dataset.py GALLERY_ADDED, GALLERY_ARM).
_ABOUT = {"Store[about]": "فروش و تعمیر گوشی همراه.", "Store[telegram]": "avashop"}
STORE_PROFILE: dict[tuple[str, str], Recipe] = {
    ("POST", "/store-manager/edit-store"): Recipe(
        _own_store("/store-manager/edit-store", "managers.txt", **_ABOUT)
    ),
    ("POST", "/store-manager/add-store-gallery"): Recipe(
        _own_store(
            "/store-manager/add-store-gallery",
            "managers.txt",
            source="img/bench/gallery-new.jpg",
            type="image",
            order="3",
        )
    ),
    ("POST", "/store-manager/delete-store-gallery"): Recipe(
        armed(lambda r: post("/store-manager/delete-store-gallery", **auth(r), id=r[2]), "gallery"),
        pool="gallery",
        order="sequential",
    ),
    ("POST", "/store-manager/list-gallery"): Recipe(
        _own_store("/store-manager/list-gallery", "managers.txt", perPage="20")
    ),
    ("POST", "/store-manager/unique-product"): Recipe(
        lambda d, n: each(
            n,
            lambda: (lambda r: post("/store-manager/unique-product", **auth(r), id=r[2]))(
                d.pick("manager_products.txt")
            ),
        )
    ),
}

# -- uploads and images ----------------------------------------------------------------------

# The multipart body bench/dataset.py writes (write_upload). A request's body names it as
# ``@multipart:<file>``, then ``&``-joined fields sent as parts before the file's (a login);
# generic.lua and bench/run.py's checks expand it (multipart_body).
UPLOAD_BODY = "upload.multipart"
MULTIPART = "@multipart:"
# Decoding and re-encoding a 1280x960 photo is CPU-bound (Pillow, ~20-60 ms a request on the
# server's thread pool): no route-sized ratio to /web/ping can hold for it.
REENCODE = "decodes and re-encodes an image by design (Pillow, tens of ms of CPU a request)"
# The images GET /img serves: written by bench/run.py (seed_images) after uploading them to
# the running server, one key a line.
IMAGES = "images.txt"


def upload(path: str, **fields: str) -> Request:
    extra = "".join(f"&{k}={quote(v, safe='')}" for k, v in fields.items())
    return ("POST", f"/web{path}", f"{MULTIPART}{UPLOAD_BODY}{extra}")


def multipart_body(folder: Path, body: str) -> tuple[bytes, str]:
    """The bytes and Content-Type of a ``@multipart:`` body (as generic.lua sends them)."""
    name, *pairs = body.removeprefix(MULTIPART).split("&")
    raw = (folder / name).read_bytes()
    boundary = raw.split(b"\r\n", 1)[0][2:]
    fields = b"".join(
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + k.encode()
        + b'"\r\n\r\n' + unquote(v).encode() + b"\r\n"
        for k, v in (pair.split("=", 1) for pair in pairs)
    )  # fmt: skip
    return fields + raw, f"multipart/form-data; boundary={boundary.decode()}"


def _manager_upload(d: Data, n: int) -> list[Request]:
    # A few logins only: generic.lua keeps one ~200 KB request per distinct line.
    return each(
        min(n, 20), lambda: upload("/upload/imguploadSajad", **auth(d.pick("managers.txt")))
    )


UPLOADS: dict[tuple[str, str], Recipe] = {
    # Anonymous (a customer app before login): the bench server's throttles are raised.
    ("POST", "/upload/imgupload"): Recipe(
        lambda d, n: [upload("/upload/imgupload")], exempt=REENCODE
    ),
    ("POST", "/upload/imguploadSajad"): Recipe(
        lambda d, n: [upload("/upload/imguploadSajad")], exempt=REENCODE
    ),
}


def images(suffix: str = "") -> Build:
    """GET one of the seeded uploads (``?w=``: its thumbnail, which the warm-up makes)."""
    return lambda d, n: each(n, lambda: ("GET", f"/{d.pick(IMAGES)[0]}{suffix}", ""))


# GET /img/…: an ASGI layer in front of the v1 dispatch, not a route (bench/run.py adds them
# beside ping: key, label, recipe).
IMG: dict[str, tuple[str, Recipe]] = {
    "img": ("GET /img/<upload> (the original)", Recipe(images())),
    "img+thumb": ("GET /img/<upload>?w=256 (a kept thumbnail)", Recipe(images("?w=256"))),
    "img+default": (
        "GET /img/defaults/product.png (shipped)",
        Recipe(lambda d, n: [("GET", "/img/defaults/product.png", "")]),
    ),
}

# -- variants --------------------------------------------------------------------------------


def _users_at_a_store(d: Data, n: int) -> list[Request]:
    """GET /web/users from a token customer at a store: ``x``/``y`` a few metres from a
    random store's point (bench/dataset.py points.txt), a new point each request (a point
    that did not move writes nothing), so every request writes, after its commit, the new
    location and the visit of the stores within the radius (hojre.customers.service
    visits_at, in hojre.accounts.service.record_location's transaction)."""

    def make() -> Request:
        _, lon, lat = d.pick("points.txt")
        # Up to ±0.0001° (11 m north-south, 9 m east-west here): inside the 50 m radius.
        x = float(lon) + d.rng.uniform(-1e-4, 1e-4)
        y = float(lat) + d.rng.uniform(-1e-4, 1e-4)
        return get("/users", **auth(d.pick("users.txt")), x=f"{x:.7f}", y=f"{y:.7f}")

    return each(n, make)


# Requests of a route in another shape, measured as endpoints of their own beside the route's
# (bench/run.py: key ``<route's key>+<name>``, the route's read or write kind and target).
VARIANTS: dict[tuple[str, str], dict[str, Recipe]] = {
    ("GET", "/users"): {"visit": Recipe(_users_at_a_store)},
    ("POST", "/upload/imguploadSajad"): {"manager": Recipe(_manager_upload, exempt=REENCODE)},
}

# -- the table -------------------------------------------------------------------------------

PING = ("GET", "/ping")
TABLE: dict[tuple[str, str], Recipe] = {
    PING: Recipe(plain("/ping")),
    **ACCOUNTS,
    **GEOGRAPHY,
    **INTERACTIONS,
    **CATALOGUE,
    **MESSAGING,
    **STORE_SIDE,
    **STORE_PROFILE,
    **SELLERS,
    **UPLOADS,
}


def key_of(method: str, path: str) -> str:
    """The short name of an endpoint in options and reports: its path without the leading
    slash (no two v1 routes share a path)."""
    return path.lstrip("/")


def requests_for(recipe: Recipe, data: Data, n: int) -> list[Request]:
    return recipe.build(data, n)


def write_requests(path: Path, requests: list[Request]) -> None:
    """One request a line: method, path with query, form body, separated by tabs."""
    with path.open("w") as f:
        f.writelines(f"{m}\t{target}\t{body}\n" for m, target, body in requests)
