"""v1 store side (API.md §5): a store's sellers, for its manager."""

from __future__ import annotations

from hojre.web_v1.endpoint import V1Router

router = V1Router("store side")
