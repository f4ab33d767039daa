"""v1 store side (API.md §5): a store's sellers, for its manager.

``addseller``, ``mysellers``, ``deleteseller`` and ``active-seller`` act on one of the
caller's stores (``store``, default the first by id, as statistics); ``edit-seller`` names a
seller of any of them. ``seller`` is the seller's user id (``id`` of ``mysellers``).
"""

from __future__ import annotations

from typing import Any

from hojre.catalog import sellers
from hojre.catalog.sellers import SellerFields, SellerListItem
from hojre.web_v1.endpoint import Call, Handler, V1Params, V1Router, param
from hojre.web_v1.envelopes import avatar, ok
from hojre.web_v1.params import wire_id
from hojre.web_v1.store_side import StoreParams, store_of

router = V1Router("store side")


class SellerFieldParams(V1Params):
    name: str | None = param("`Seller[name]`: first name, at least 3 characters.")
    family: str | None = param("`Seller[family]`: family name, at least 3 characters.")
    cellPhone: str | None = param(
        "`Seller[cellPhone]`: the seller's mobile number and login (Persian digits accepted);"
        " a number that has an account already is refused."
    )
    avatar: str | None = param(
        "`Seller[avatar]`: a path from an upload endpoint, or the image file itself.", image=True
    )
    password: str | None = param(
        "`Seller[password]`: the seller's password, 6 to 128 characters.", format="password"
    )
    email: str | None = param("`Seller[email]`: an email address (unique).", format="email")


class AddSellerParams(StoreParams, SellerFieldParams):
    pass


class SellerIdParams(V1Params):
    seller: str | None = param("The seller's user id (`id` of mysellers).", required=True,
                               type="integer")  # fmt: skip


class EditSellerParams(SellerIdParams, SellerFieldParams):
    pass


class SellerStatusParams(StoreParams, SellerIdParams):
    pass


def seller_fields(params: SellerFieldParams) -> SellerFields:
    return SellerFields(
        name=params.name,
        family=params.family,
        cellphone=params.cellPhone,
        avatar=params.avatar,
        password=params.password,
        email=params.email,
    )


def render_seller(item: SellerListItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "fmaily": item.family,  # the contract's spelling
        "avatar": avatar(item.avatar),
        "onlineStatus": "online" if item.online else "offline",
        "status": item.status,
    }


# Hashes the password: its own transactions (hojre.web_v1.endpoint.Endpoint.own_transactions).
@router.post("/store-manager/addseller", AddSellerParams, auth=True, own_transactions=True,
             summary="Create a seller's account for one of the caller's stores")  # fmt: skip
async def add_seller(call: Call[AddSellerParams]) -> dict[str, Any]:
    user_id = await sellers.add_seller(
        call.hub, caller=call.me, sent=seller_fields(call.params), store_id=store_of(call)
    )
    return ok("Seller Created", {"id": user_id})


# Reads only: no write transaction (nor SQLite's write lock).
@router.post("/store-manager/mysellers", StoreParams, auth=True, write=False,
             summary="The sellers of one of the caller's stores, dismissed ones too")  # fmt: skip
async def my_sellers(call: Call[StoreParams]) -> dict[str, Any]:
    items = await sellers.list_sellers(
        call.conn, caller=call.me, online_seconds=call.hub.settings.online_seconds,
        store_id=store_of(call),
    )  # fmt: skip
    return ok("sellers", [render_seller(item) for item in items])


@router.post("/store-manager/edit-seller", EditSellerParams, auth=True, own_transactions=True,
             summary="Change a seller of the caller's stores (only the fields sent)")  # fmt: skip
async def edit_seller(call: Call[EditSellerParams]) -> dict[str, Any]:
    await sellers.edit_seller(
        call.hub, caller=call.me, seller_id=wire_id(call.params.seller),
        sent=seller_fields(call.params),
    )  # fmt: skip
    return ok("Seller Edited")


# deleteseller and active-seller: one handler, the status and the contract's words apart.
_STATUS_ROUTES = (
    ("deleteseller", False, "Seller Successfully Deactived",  # the contract's spelling
     "Dismiss a seller of one of the caller's stores (history kept)"),
    ("active-seller", True, "Seller Successfully activated",
     "Re-activate a dismissed seller of one of the caller's stores"),
)  # fmt: skip


def _set_status(active: bool, message: str) -> Handler:
    async def handler(call: Call[SellerStatusParams]) -> dict[str, Any]:
        await sellers.set_seller_status(
            call.conn, caller=call.me, seller_id=wire_id(call.params.seller), active=active,
            store_id=store_of(call),
        )  # fmt: skip
        return ok(message)

    handler.__name__ = "activate_seller" if active else "dismiss_seller"
    return handler


for _name, _active, _message, _summary in _STATUS_ROUTES:
    router.post(f"/store-manager/{_name}", SellerStatusParams, auth=True,
                summary=_summary)(_set_status(_active, _message))  # fmt: skip
