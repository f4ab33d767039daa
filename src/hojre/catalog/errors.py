"""Catalogue refusals. ``hojre.web_v1.messages`` words each as the apps (and the CLI) say it."""

from __future__ import annotations

from hojre.core.errors import HojreError, ValidationFailed


class StoreNotFound(HojreError):
    """No such store (or, where only active stores count, not an active one)."""


class NotStoreStaffRole(HojreError):
    """Only sellers and store managers belong to a store (an administrator's assignment)."""


class ProductNotFound(HojreError):
    """No such product among the caller's stores' (another store's, deleted, or none)."""


class MediaNotFound(HojreError):
    """No such image or video in the caller's stores' galleries (another store's, or none)."""


class StoreHasError(ValidationFailed):
    """A store registration's store fields break rules (every failed rule at once)."""


class ManagerInvalid(ValidationFailed):
    """A store registration's account fields (password, name, family, email) break rules."""


class CellphoneOrEmailTaken(HojreError):
    """A store registration of a number or an email that an account has already."""


class StoreStatusUnchanged(HojreError):
    """An operator's approval or rejection of a store that is not in a state it moves from."""

    def __init__(self, store_id: int, status: str) -> None:
        super().__init__(store_id, status)
        self.store_id = store_id
        self.status = status


class SellerNotFound(HojreError):
    """No such seller among the caller's stores' (another store's, not a seller, or none)."""
