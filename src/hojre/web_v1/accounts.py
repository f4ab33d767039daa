"""v1 accounts endpoints (API.md §1)."""

from __future__ import annotations

from typing import Any, ClassVar

from hojre.accounts import errors, profile, service
from hojre.accounts.models import User
from hojre.accounts.schemas import PROFILE_FIELDS, ProfileChanges
from hojre.accounts.service import Caller, IssuedToken
from hojre.core.errors import HojreError
from hojre.core.pagination import Page
from hojre.core.text import ascii_digits, normalize_cellphone
from hojre.web_v1.endpoint import Call, Handler, V1Params, V1Router, param
from hojre.web_v1.envelopes import avatar, listing, ok, page_request
from hojre.web_v1.openapi import Reply

router = V1Router("accounts")


class Credentials(V1Params):
    username: str | None = param(
        "Cellphone, e.g. 09121234567 (Persian digits accepted).", required=True
    )
    password: str | None = param(
        "Password (at least 6 characters).", required=True, format="password"
    )
    x: str | None = param("Longitude (optional).")
    y: str | None = param("Latitude (optional).")


class Username(V1Params):
    username: str | None = param("Cellphone.", required=True)
    x: str | None = param("Longitude (optional).")
    y: str | None = param("Latitude (optional).")


class ActivationParams(Username):
    code: str | None = param("The 5-digit code from the SMS.", required=True)


class TokenParams(Username):
    token: str | None = param("Access token (or `Authorization: Bearer`).")


def _token_data(issued: IssuedToken) -> dict[str, Any]:
    return {"id": issued.id, "username": issued.cellphone, "token": issued.token}


def _cellphone(raw: str | None, invalid: type[HojreError]) -> str:
    """The ``09…`` form of a username, or the endpoint's own error."""
    cellphone = normalize_cellphone(raw or "")
    if cellphone is None:
        raise invalid
    return cellphone


@router.post(
    "/user/register",
    Credentials,
    response=Reply.register,
    own_transactions=True,
    summary="Register a customer; an SMS code follows",
)
async def register(call: Call[Credentials]) -> dict[str, Any]:
    username, password = call.params.username or "", call.params.password or ""
    if not username.strip() or not password:
        raise errors.BlankCredentials
    cellphone = _cellphone(username, errors.CellphoneInvalid)
    if not service.MIN_PASSWORD <= len(password) <= service.MAX_PASSWORD:
        raise errors.CantValidateData
    user = await service.register(
        call.hub, cellphone=cellphone, password=password, client=call.client
    )
    # Compatibility: the original answers id and username at the top level, without data.
    return {
        "status": "success",
        "message": "User intial register is done",
        "id": user.id,
        "username": user.cellphone,
    }


@router.post(
    "/user/checkactivationcode",
    ActivationParams,
    own_transactions=True,
    summary="Activate with the SMS code",
)
async def check_activation_code(call: Call[ActivationParams]) -> dict[str, Any]:
    await service.check_activation_code(
        call.hub,
        cellphone=_cellphone(call.params.username, errors.IncorrectCode),
        code=ascii_digits(call.params.code or "").strip(),
    )
    return ok("User is Activated")


@router.post(
    "/user/newactivationcode",
    Username,
    own_transactions=True,
    summary="Send a new activation code",
)
async def new_activation_code(call: Call[Username]) -> dict[str, Any]:
    await service.new_activation_code_for(
        call.hub,
        cellphone=_cellphone(call.params.username, errors.NotRegistered),
        client=call.client,
    )
    return ok("New Activation Code Generated")


def _login(*, staff_only: bool) -> Handler:
    async def login(call: Call[Credentials]) -> dict[str, Any]:
        password = call.params.password or ""
        if not password:
            raise errors.WrongCredentials
        issued = await service.login(
            call.hub,
            cellphone=_cellphone(call.params.username, errors.WrongCredentials),
            password=password,
            client=call.client,
            staff_only=staff_only,
        )
        return ok("Login Success", _token_data(issued))

    login.__name__ = "store_login" if staff_only else "login"
    return login


for _path, _staff_only, _summary in (
    ("/user/login", False, "Log in; returns a new access token"),
    ("/user/store-login", True, "Log in as a seller or store manager"),
):
    router.post(_path, Credentials, own_transactions=True, summary=_summary)(
        _login(staff_only=_staff_only)
    )


@router.post("/user/newtoken", TokenParams, summary="Replace the given token by a new one")
async def new_token(call: Call[TokenParams]) -> dict[str, Any]:
    issued = await service.rotate_token(
        call.conn, call.hub, cellphone=normalize_cellphone(call.username), token=call.token
    )
    return ok("Token Updated", _token_data(issued))


@router.post("/user/islogin", TokenParams, summary="Is this token valid?")
async def is_login(call: Call[TokenParams]) -> dict[str, Any]:
    user = await service.authenticate(
        call.conn,
        cellphone=normalize_cellphone(call.username),
        token=call.token,
        idle_days=call.hub.settings.token_idle_days,
    )
    if user is None:
        raise errors.TokenInvalid
    return ok("Token is true")


@router.post(
    "/user/logout",
    TokenParams,
    auth=True,
    summary="End this token's session (designed here; its live sockets close)",
)
async def logout(call: Call[TokenParams]) -> dict[str, Any]:
    await service.logout(call.conn, call.hub, user=call.me, token=call.token)
    return ok("Logged Out")


@router.post(
    "/user/forget",
    Username,
    own_transactions=True,
    summary="Send a temporary password by SMS",
)
async def forget(call: Call[Username]) -> dict[str, Any]:
    await service.forget_password(
        call.hub,
        cellphone=_cellphone(call.params.username, errors.ForgetUserNotFound),
        client=call.client,
    )
    return ok("New Password generated and sent ")


def render_user(user: User | Caller) -> dict[str, Any]:
    """The v1 user record (``cellPhone``, ``telegramChannell`` as the apps spell them)."""
    return {
        "id": user.id,
        "cellPhone": user.cellphone,
        "email": user.email,
        "name": user.name,
        "family": user.family,
        "phone": user.phone,
        "address": user.address,
        "city": user.city_id,
        "state": user.state_id,
        "role": user.role,
        "country": user.country_id,
        "hood": user.hood_id,
        "instagram": user.instagram,
        "telegramChannell": user.telegram_channel,
        "telegram": user.telegram,
        "linkedin": user.linkedin,
        "facebook": user.facebook,
        "twitter": user.twitter,
        "googleplus": user.googleplus,
        "website": user.website,
        "avatar": avatar(user.avatar),  # never set: the default (API.md §5)
        "gender": user.gender,
    }


class UsersParams(V1Params):
    paged: ClassVar[bool] = True


@router.get("/users", UsersParams, auth=True, summary="The caller's profile, as a one-item list")
async def users(call: Call[UsersParams]) -> dict[str, Any]:
    page = Page(items=[call.me], total=1, request=page_request(call.raw))
    if page.request.page > 1:
        page = Page(items=[], total=1, request=page.request)
    return listing(call.request, page, render_user)


class ProfileParams(V1Params):
    name: str | None = param("First name, at least 3 characters.", required=True)
    family: str | None = param("Family name, at least 3 characters.", required=True)
    phone: str | None = param("Landline, 11 digits starting with 0.")
    email: str | None = param("Email address (unique).", format="email")
    state: str | None = param("Province id (GET /web/states).")
    city: str | None = param("City id in that province (GET /web/cities?state=).")
    hood: str | None = param("Neighbourhood id in that city (GET /web/hoods?city=).")
    address: str | None = param("Address, at least 5 characters.")
    age: str | None = param("Age in years.", pattern="^[0-9]+$")
    gender: str | None = param("male or female.", enum=["male", "female"])
    telegram: str | None = param("Telegram id.")
    telegramChannell: str | None = param("Telegram channel (the contract's spelling).")
    twitter: str | None = param("Twitter id.")
    linkedin: str | None = param("LinkedIn id.")
    facebook: str | None = param("Facebook id.")
    instagram: str | None = param("Instagram id.")
    googleplus: str | None = param("Google+ id.")
    website: str | None = param("Website URL.")
    avatar: str | None = param(
        "The avatar: a path from an upload endpoint, or the image file itself.", image=True
    )


_WIRE_TO_DOMAIN = {"telegramChannell": "telegram_channel"}


@router.post("/user/edit", ProfileParams, auth=True, summary="Edit the caller's profile")
async def edit(call: Call[ProfileParams]) -> dict[str, Any]:
    values = {
        _WIRE_TO_DOMAIN.get(name, name): value
        for name, value in call.raw.items()
        if _WIRE_TO_DOMAIN.get(name, name) in PROFILE_FIELDS
    }
    await profile.update_profile(call.conn, user=call.me, changes=ProfileChanges(values))
    return ok("updated successfully")


class ChangePasswordParams(V1Params):
    oldPassword: str | None = param("Current password.", required=True, format="password")
    newPassword: str | None = param(
        "New password, at least 6 characters.", required=True, format="password"
    )


@router.post(
    "/user/change-password",
    ChangePasswordParams,
    auth=True,
    own_transactions=True,
    summary="Change the password; every other token is revoked",
)
async def change_password(call: Call[ChangePasswordParams]) -> dict[str, Any]:
    await service.change_password(
        call.hub,
        user=call.me,
        current_token=call.token,
        old_password=call.params.oldPassword or "",
        new_password=call.params.newPassword or "",
    )
    return ok("Password Changed")
