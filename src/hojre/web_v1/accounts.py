"""v1 accounts endpoints (API.md §1)."""

from __future__ import annotations

from typing import Any, ClassVar

from hojre.accounts import errors, profile, service
from hojre.accounts.models import User
from hojre.accounts.schemas import PROFILE_FIELDS, ProfileChanges
from hojre.accounts.service import Caller, IssuedToken
from hojre.core.pagination import Page
from hojre.web_v1.endpoint import Call, V1Params, V1Router, param
from hojre.web_v1.envelopes import listing, ok, page_request
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
    return {"id": issued.user.id, "username": issued.user.cellphone, "token": issued.token}


@router.post(
    "/user/register",
    Credentials,
    response=Reply.register,
    summary="Register a customer; an SMS code follows",
)
async def register(call: Call[Credentials]) -> dict[str, Any]:
    user = await service.register(
        call.session,
        call.hub,
        username=call.params.username or "",
        password=call.params.password or "",
    )
    # Compatibility: the original answers id and username at the top level, without data.
    return {
        "status": "success",
        "message": "User intial register is done",
        "id": user.id,
        "username": user.cellphone,
    }


@router.post("/user/checkactivationcode", ActivationParams, summary="Activate with the SMS code")
async def check_activation_code(call: Call[ActivationParams]) -> dict[str, Any]:
    await service.check_activation_code(
        call.session, call.hub, username=call.params.username or "", code=call.params.code or ""
    )
    return ok("User is Activated")


@router.post("/user/newactivationcode", Username, summary="Send a new activation code")
async def new_activation_code(call: Call[Username]) -> dict[str, Any]:
    await service.new_activation_code_for(
        call.session, call.hub, username=call.params.username or ""
    )
    return ok("New Activation Code Generated")


@router.post("/user/login", Credentials, summary="Log in; returns a new access token")
async def login(call: Call[Credentials]) -> dict[str, Any]:
    issued = await service.login(
        call.session,
        call.hub,
        username=call.params.username or "",
        password=call.params.password or "",
    )
    return ok("Login Success", _token_data(issued))


@router.post("/user/store-login", Credentials, summary="Log in as a seller or store manager")
async def store_login(call: Call[Credentials]) -> dict[str, Any]:
    issued = await service.login(
        call.session,
        call.hub,
        username=call.params.username or "",
        password=call.params.password or "",
        staff_only=True,
    )
    return ok("Login Success", _token_data(issued))


@router.post("/user/newtoken", TokenParams, summary="Replace the given token by a new one")
async def new_token(call: Call[TokenParams]) -> dict[str, Any]:
    issued = await service.rotate_token(
        call.session, call.hub, username=call.username, token=call.token
    )
    return ok("Token Updated", _token_data(issued))


@router.post("/user/islogin", TokenParams, summary="Is this token valid?")
async def is_login(call: Call[TokenParams]) -> dict[str, Any]:
    user = await service.authenticate(call.conn, username=call.username, token=call.token)
    if user is None:
        raise errors.TokenInvalid
    return ok("Token is true")


@router.post("/user/forget", Username, summary="Send a temporary password by SMS")
async def forget(call: Call[Username]) -> dict[str, Any]:
    await service.forget_password(call.session, call.hub, username=call.params.username or "")
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
        "avatar": user.avatar,
        "gender": user.gender,
    }


class UsersParams(V1Params):
    paged: ClassVar[bool] = True


@router.get(
    "/users", UsersParams, auth=True, sql=True, summary="The caller's profile, as a one-item list"
)
async def users(call: Call[UsersParams]) -> dict[str, Any]:
    page = Page(items=[call.me], total=1, request=page_request(call.raw))
    if page.request.page > 1:
        page = Page(items=[], total=1, request=page.request)
    return listing(call.request.url, page, render_user)


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
    avatar: str | None = param("Avatar image path.")


_WIRE_TO_DOMAIN = {"telegramChannell": "telegram_channel"}


@router.post("/user/edit", ProfileParams, auth=True, summary="Edit the caller's profile")
async def edit(call: Call[ProfileParams]) -> dict[str, Any]:
    values = {
        _WIRE_TO_DOMAIN.get(name, name): value
        for name, value in call.raw.items()
        if _WIRE_TO_DOMAIN.get(name, name) in PROFILE_FIELDS
    }
    user = await call.me_for_update()
    await profile.update_profile(call.session, user=user, changes=ProfileChanges(values))
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
    summary="Change the password; every other token is revoked",
)
async def change_password(call: Call[ChangePasswordParams]) -> dict[str, Any]:
    await service.change_password(
        call.session,
        call.hub,
        user=await call.me_for_update(),
        current_token=call.token,
        old_password=call.params.oldPassword or "",
        new_password=call.params.newPassword or "",
    )
    return ok("Password Changed")
