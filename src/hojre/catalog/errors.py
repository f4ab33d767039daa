"""Catalogue refusals. ``hojre.web_v1.messages`` words each as the apps (and the CLI) say it."""

from __future__ import annotations

from hojre.core.errors import HojreError


class StoreNotFound(HojreError):
    """No such store (or, where only active stores count, not an active one)."""


class NotStoreStaffRole(HojreError):
    """Only sellers and store managers belong to a store (an administrator's assignment)."""


class ProductNotFound(HojreError):
    """No such product among the caller's stores' (another store's, deleted, or none)."""


class MediaNotFound(HojreError):
    """No such image or video in the caller's stores' galleries (another store's, or none)."""
