"""v1 store registration (API.md §5): ``/web/user/store-register``.

``/web/user/register`` with a store: the same checks of the username and password, the same
throttles and activation code (:func:`hojre.catalog.registration.register_store`), and the
same reply. Only the refusals are this endpoint's own words (``hojre.web_v1.messages``).
"""

from __future__ import annotations

from typing import Any

from hojre.accounts import errors as accounts
from hojre.catalog import registration
from hojre.catalog.errors import CellphoneOrEmailTaken
from hojre.catalog.registration import ManagerFields, StoreFields
from hojre.core.text import normalize_cellphone
from hojre.web_v1.endpoint import Call, V1Params, V1Router, param, parse_location
from hojre.web_v1.openapi import Reply

router = V1Router("accounts")


class StoreRegisterParams(V1Params):
    username: str | None = param(
        "The manager's cellphone, e.g. 09121234567 (Persian digits accepted).", required=True
    )
    password: str | None = param(
        "Password (at least 6 characters).", required=True, format="password"
    )
    email: str | None = param("The manager's email address (unique), also the store's.",
                              format="email")  # fmt: skip
    name: str | None = param("The manager's first name, at least 3 characters (optional).")
    family: str | None = param("The manager's family name, at least 3 characters (optional).")
    title: str | None = param("The store's name, at most 200 characters.", required=True)
    address: str | None = param("The store's address, at least 5 characters.")
    phone: str | None = param("The store's landline, 11 digits starting with 0.")
    state: str | None = param("The store's province id (GET /web/states).", type="integer")
    city: str | None = param("City id in that province (GET /web/cities?state=).",
                             type="integer")  # fmt: skip
    hood: str | None = param("Neighbourhood id in that city (GET /web/hoods?city=).",
                             type="integer")  # fmt: skip
    category: str | None = param("A bazaar category id (GET /web/bazzar-categories).",
                                 type="integer")  # fmt: skip
    bazzar: str | None = param("The bazaar the store is in (GET /web/bazzars), optional.",
                               type="integer")  # fmt: skip
    mall: str | None = param("The mall the store is in (GET /web/malls), of that bazaar.",
                             type="integer")  # fmt: skip
    certificate: str | None = param(
        "The business licence image: a path from /web/upload/imguploadSajad, or the image "
        "file itself; default img/defaults/certificateImage.png.",
        image=True,
    )
    x: str | None = param("Longitude (optional): the store's location.")
    y: str | None = param("Latitude (optional): the store's location.")


@router.post(
    "/user/store-register",
    StoreRegisterParams,
    response=Reply.register,
    own_transactions=True,
    summary="Register a store manager and their store (pending approval); an SMS code follows",
)
async def store_register(call: Call[StoreRegisterParams]) -> dict[str, Any]:
    p = call.params
    username, password = p.username or "", p.password or ""
    if not username.strip() or not password:
        raise accounts.BlankCredentials
    cellphone = normalize_cellphone(username)
    if cellphone is None:
        raise accounts.CellphoneInvalid
    where = parse_location(call.raw)
    store = StoreFields(
        title=p.title, address=p.address, phone=p.phone, state=p.state, city=p.city,
        hood=p.hood, category=p.category, bazaar=p.bazzar, mall=p.mall,
        certificate=p.certificate,
        longitude="" if where is None else str(where.longitude),
        latitude="" if where is None else str(where.latitude),
    )  # fmt: skip
    try:
        user = await registration.register_store(
            call.hub, cellphone=cellphone, password=password, client=call.client,
            manager=ManagerFields(p.name, p.family, p.email), store=store,
        )  # fmt: skip
    except accounts.CellphoneTaken as exc:  # an active account has the number
        raise CellphoneOrEmailTaken from exc
    # Compatibility: as register, id (the manager's) and username at the top level.
    return {
        "status": "success",
        "message": "User intial register is done",
        "id": user.id,
        "username": user.cellphone,
    }
