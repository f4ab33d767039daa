"""The ``hojre`` command: database, demo data, users, server."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from hojre.core.settings import get_settings

if TYPE_CHECKING:
    from hojre.catalog.registration import StoreDecision
    from hojre.core.hub import Hub
    from hojre.core.sql import Conn

app = typer.Typer(help="Hojre: the Hojrenama v1 backend.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
outbox_app = typer.Typer(help="The SMS outbox.", no_args_is_help=True)
broadcast_app = typer.Typer(help="Announcements by admins.", no_args_is_help=True)
comment_app = typer.Typer(help="Comment moderation.", no_args_is_help=True)
store_app = typer.Typer(help="Stores awaiting an operator's approval.", no_args_is_help=True)
media_app = typer.Typer(help="Uploaded images.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(outbox_app, name="outbox")
app.add_typer(broadcast_app, name="broadcast")
app.add_typer(comment_app, name="comment")
app.add_typer(store_app, name="store")
app.add_typer(media_app, name="media")
console = Console(stderr=True)

T = TypeVar("T")


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    return asyncio.run(main())


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the Alembic migrations (creates the SQLite file if needed)."""
    from hojre.core.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    console.print(f"[green]database at {revision}[/green]")


@app.command()
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the accounts as JSON.")] = False,
    if_empty: Annotated[bool, typer.Option(help="Load only into an empty database.")] = False,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the marketplace, when it is generated (not loaded yet)."),
    ] = None,
) -> None:
    """Load the demo data (idempotent) and print the demo accounts.

    The data: the five named accounts and a seeded marketplace (bazaars, malls, stores with
    managers and sellers, products, customers with their views, likes, comments …).
    """
    import time

    from hojre.core.db import Database
    from hojre.demo import DEMO_SEED, DemoDataError, demo_counts, existing_demo, is_empty, load_demo
    from hojre.media.storage import store_from_settings

    settings = get_settings()

    async def main() -> tuple[list[dict[str, object]], dict[str, int]]:
        db = Database(settings.database_url)
        media = store_from_settings(settings)
        try:
            if if_empty and not await is_empty(db):
                console.print("the database holds data already: demo data not loaded")
                found = await existing_demo(db, settings.demo_password)
            else:
                found = await load_demo(
                    db, settings.demo_password, media=media,
                    seed=DEMO_SEED if seed is None else seed,
                )  # fmt: skip
            return [a.as_dict() for a in found], await demo_counts(db)
        finally:
            await media.aclose()
            await db.dispose()

    started = time.perf_counter()
    try:
        accounts, counts = _run(main)
    except DemoDataError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(
        "database: " + ", ".join(f"{n} {name}" for name, n in counts.items())
        + f" ({time.perf_counter() - started:.1f}s)"
    )  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(accounts, ensure_ascii=False, indent=2) + "\n")
        return
    columns = ("id", "cellphone", "password", "role", "store")
    table = Table(title="Demo accounts")
    for column in columns:
        table.add_column(column)
    for account in accounts:
        table.add_row(*("-" if account[c] is None else str(account[c]) for c in columns))
    Console().print(table)


class RoleName(StrEnum):
    customer = "customer"
    seller = "seller"
    store_manager = "store-manager"
    admin = "admin"


def _in_transaction(work: Callable[[Conn, Hub], Awaitable[T]]) -> T:
    """Run ``work`` in one write transaction; its events go out after the commit."""
    from hojre.core.errors import HojreError
    from hojre.core.hub import Hub

    async def main() -> T:
        hub: Hub = Hub.from_settings(get_settings())
        try:
            async with hub.db.raw.connect(write=True) as conn:
                return await work(conn, hub)
        finally:
            await hub.aclose()

    try:
        return _run(main)
    except HojreError as exc:
        from hojre.web_v1.messages import render

        refusal = render(exc)  # the same words as the API's
        problems = refusal.data if isinstance(refusal.data, list) else [refusal.message.strip()]
        for problem in problems:
            console.print(f"[red]{problem}[/red]")
        raise typer.Exit(1) from exc


@user_app.command("create")
def user_create(
    cellphone: Annotated[str, typer.Option(help="Iranian mobile number.")],
    password: Annotated[str, typer.Option(help="At least 6 characters.")],
    role: Annotated[RoleName, typer.Option(help="The account's role.")] = RoleName.customer,
    store: Annotated[int | None, typer.Option(help="Store of a seller or manager.")] = None,
) -> None:
    """Create an active account (a seller or manager of --store) and print it as JSON."""
    from hojre.accounts import service
    from hojre.accounts.models import Role
    from hojre.catalog.service import assign_to_store

    async def work(conn: Conn, hub: Hub) -> dict[str, object]:
        user = await service.create_user(
            conn, cellphone=cellphone, password=password, role=Role[role.name]
        )
        if store is not None:
            await assign_to_store(conn, user_id=user.id, role=Role(user.role), store_id=store)
        return {"id": user.id, "cellphone": user.cellphone, "role": role.value,
                "roleId": user.role, "store": store}  # fmt: skip

    created = _in_transaction(work)
    sys.stdout.write(json.dumps(created, ensure_ascii=False) + "\n")


@broadcast_app.command("send")
def broadcast_send(
    title: Annotated[str, typer.Option(help="The broadcast's title.")],
    text: Annotated[str, typer.Option(help="The broadcast's text.")],
    role: Annotated[int | None, typer.Option(help="Only this role (8, 7, 6 or 1).")] = None,
) -> None:
    """Publish a broadcast to everyone or to one role (live sockets hear it through Redis)."""
    from hojre.accounts.models import Role
    from hojre.messaging.service import create_broadcast

    try:
        audience = None if role is None else Role(role)
    except ValueError:
        known = ", ".join(str(int(r)) for r in Role)
        raise typer.BadParameter(f"{role} is not a role ({known})", param_hint="--role") from None

    async def work(conn: Conn, hub: Hub) -> dict[str, object]:
        sent = await create_broadcast(conn, hub.events, title=title, text=text, role=audience)
        return {"id": sent.id, "title": sent.title, "role": sent.role,
                "date": sent.day.isoformat()}  # fmt: skip

    sys.stdout.write(json.dumps(_in_transaction(work), ensure_ascii=False) + "\n")


@comment_app.command("hide")
def comment_hide(comment_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Hide a comment (moderation): out of every list, counter and score."""
    from hojre.interactions.service import hide_comment

    async def work(conn: Conn, hub: Hub) -> bool:
        return await hide_comment(conn, comment_id=comment_id)

    if not _in_transaction(work):
        console.print(f"[red]no visible comment {comment_id}[/red]")
        raise typer.Exit(1)
    console.print(f"comment {comment_id} hidden")


@media_app.command("gc")
def media_gc() -> None:
    """Remove the uploads no record refers to: anonymous ones after
    HOJRE_ANONYMOUS_UPLOAD_TTL_HOURS, an account's after HOJRE_UNUSED_UPLOAD_TTL_DAYS (every
    server process also does this hourly)."""
    from hojre.core.hub import Hub

    async def main() -> int:
        hub = Hub.from_settings(get_settings())
        try:
            return await hub.media.collect()
        finally:
            await hub.aclose()

    console.print(f"removed {_run(main)} unused uploads")


# -- store approval ----------------------------------------------------------------------------


def _store_decision(store_id: int, verb: str, work: Callable[[Conn, Hub], Awaitable[T]]) -> T:
    """Run an approval or rejection; no such store, or one not in a state it moves from, is
    exit status 2 (other refusals: 1, as every command)."""
    from hojre.catalog.errors import StoreNotFound, StoreStatusUnchanged

    async def guarded(conn: Conn, hub: Hub) -> T:
        try:
            return await work(conn, hub)
        except StoreNotFound:
            console.print(f"[red]no store {store_id}[/red]")
        except StoreStatusUnchanged as exc:
            console.print(f"[red]store {store_id} is {exc.status}: not {verb}[/red]")
        raise typer.Exit(2)

    return _in_transaction(guarded)


def _print_decision(decided: StoreDecision) -> None:
    told = f"SMS to {decided.cellphone}" if decided.cellphone else "no manager to tell"
    console.print(
        f"store {decided.id} ({decided.title}): {decided.before} → {decided.after}, {told}"
    )


@store_app.command("approve")
def store_approve(store_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Approve a pending (or rejected) store: customers see it; its manager gets an SMS."""
    from hojre.catalog.registration import approve_store

    async def work(conn: Conn, hub: Hub) -> StoreDecision:
        return await approve_store(conn, hub, store_id=store_id)

    _print_decision(_store_decision(store_id, "approved", work))


@store_app.command("reject")
def store_reject(
    store_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why, for the manager's SMS (required).")],
) -> None:
    """Reject a pending (or active) store: customers no longer see it, its manager still
    does (to fix it and ask again) and gets an SMS with the reason."""
    from hojre.catalog.registration import REASON_MAX, reject_store
    from hojre.core.text import plain_text

    clean = plain_text(reason)
    if not clean or len(clean) > REASON_MAX:
        raise typer.BadParameter(
            f"a reason of 1 to {REASON_MAX} characters is required", param_hint="--reason"
        )

    async def work(conn: Conn, hub: Hub) -> StoreDecision:
        return await reject_store(conn, hub, store_id=store_id, reason=clean)

    _print_decision(_store_decision(store_id, "rejected", work))


@store_app.command("pending")
def store_pending() -> None:
    """List the stores awaiting approval, oldest first."""
    from hojre.catalog.registration import pending_stores

    async def work(conn: Conn, hub: Hub) -> list[tuple[str, ...]]:
        return [
            (str(s.id), s.title, s.cellphone or "-", f"{s.created_at:%Y-%m-%d %H:%M}")
            for s in await pending_stores(conn)
        ]

    rows = _in_transaction(work)
    table = Table(title="Stores awaiting approval")
    for column in ("id", "title", "manager", "registered (UTC)"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@outbox_app.command("deliver")
def outbox_deliver() -> None:
    """Deliver due SMS messages once (retries, leftovers of a crashed server)."""
    from hojre.core.hub import Hub

    async def main() -> int:
        hub = Hub.from_settings(get_settings())
        try:
            return await hub.outbox.deliver_due(limit=1000)
        finally:
            await hub.aclose()

    console.print(f"delivered {_run(main)} message(s)")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    reload: bool = False,
    access_log: Annotated[
        bool | None, typer.Option(help="The access log (default: HOJRE_ACCESS_LOG, on).")
    ] = None,
) -> None:
    """Serve the API with uvicorn (tokens redacted from every log line)."""
    import uvicorn

    from hojre.core.logging import log_config

    settings = get_settings()
    logged = settings.access_log if access_log is None else access_log
    uvicorn.run(
        # The app writes the access log itself (hojre.core.logging.AccessLog), in uvicorn's
        # format at a fraction of its cost; uvicorn's own is off, or every line would be twice.
        "hojre.web_v1.asgi:logged_app" if logged else "hojre.web_v1.asgi:app",
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_config=log_config(settings.log_level),
        access_log=False,
        # The app reads X-Forwarded-* itself (trusting HOJRE_FORWARDED_ALLOW_IPS only).
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    app()
