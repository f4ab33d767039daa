"""Messaging errors with the v1 messages (documented ones, and those designed for Hojre)."""

from __future__ import annotations

from hojre.core.errors import HojreError


class NoChatForYou(HojreError):
    message = "there is no chat for u"


class ChatFinished(HojreError):
    message = "Chat is finished"


class StoreNotFound(HojreError):
    message = "Store Not Found"


class SellerNotFound(HojreError):
    message = "Seller Not Found"


class NoActiveSeller(HojreError):
    message = "Store has no active seller"


class OwnStore(HojreError):
    message = "You cannot chat with your own store"


class StoreMessageNotFound(HojreError):
    message = "Message Not Found"


class NotStoreManager(HojreError):
    message = "You are not store manager"


class NotSeller(HojreError):
    message = "You are not seller"


class OfferNotFound(HojreError):
    message = "Offer Not Found"


class NotYourCustomer(HojreError):
    message = "User has not interacted with your store"


class BroadcastNotFound(HojreError):
    message = "Broadcast Not Found"
