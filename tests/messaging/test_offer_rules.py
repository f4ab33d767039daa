"""Who may receive an offer: customers who showed interest in the store, nobody else."""

from __future__ import annotations

import pytest

from tests.messaging.conftest import Cast, err

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("path", "extra"),
    [("/user/add-dislike", {}), ("/user/add-notification", {})],
)
async def test_dislikes_and_follows_are_no_invitation(
    cast: Cast, path: str, extra: dict[str, str]
) -> None:
    shop = await cast.shop()
    customer = await cast.customer()
    await customer.post(path, target="store", id=str(shop.id), **extra)
    body = await shop.seller.post("/seller/send-offer", user=str(customer.id), text="تخفیف")
    assert body == err("User has not interacted with your store")
    await customer.post("/user/add-favorite", target="store", id=str(shop.id))
    body = await shop.seller.post("/seller/send-offer", user=str(customer.id), text="تخفیف")
    assert body["message"] == "Offer Sent"


async def test_staff_of_another_store_get_no_offers(cast: Cast) -> None:
    shop, other = await cast.shop(), await cast.shop()
    await other.seller.post("/user/add-view", target="store", id=str(shop.id))
    body = await shop.seller.post("/seller/send-offer", user=str(other.seller.id), text="تخفیف")
    assert body == err("User has not interacted with your store")
