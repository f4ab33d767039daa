"""v1 store side (API.md §5): a store's physical and virtual customers."""

from __future__ import annotations

from hojre.web_v1.endpoint import V1Router

router = V1Router("store side")
