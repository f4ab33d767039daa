"""Messaging refusals (API.md §4, and those designed for Hojre). ``hojre.web_v1.messages``
words each as the apps expect."""

from __future__ import annotations

from hojre.catalog.errors import StoreNotFound
from hojre.core.errors import HojreError

__all__ = [
    "BroadcastNotFound",
    "ChatFinished",
    "NoActiveSeller",
    "NoChatForYou",
    "NotSeller",
    "NotStoreManager",
    "NotYourCustomer",
    "OfferNotFound",
    "OwnStore",
    "SellerNotFound",
    "StoreMessageNotFound",
    "StoreNotFound",
]


class NoChatForYou(HojreError):
    """No such chat, or one the caller takes no part in (the same answer: ids reveal nothing)."""


class ChatFinished(HojreError):
    """A message to a finished chat."""


class SellerNotFound(HojreError):
    """The seller asked for is not an active seller of the store."""


class NoActiveSeller(HojreError):
    """The store has nobody to take a new chat."""


class OwnStore(HojreError):
    """The store's own staff may not start a chat with it."""


class StoreMessageNotFound(HojreError):
    """No such message to one of the caller's stores."""


class NotStoreManager(HojreError):
    """A store manager's action by someone else."""


class NotSeller(HojreError):
    """An offer from someone who is no seller (or manager) of a store."""


class OfferNotFound(HojreError):
    """No such offer to the caller."""


class NotYourCustomer(HojreError):
    """An offer to a customer who never interacted with the store."""


class BroadcastNotFound(HojreError):
    """No such broadcast for the caller's role."""
