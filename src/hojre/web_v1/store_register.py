"""v1 store registration (API.md §5): ``/web/user/store-register``."""

from __future__ import annotations

from hojre.web_v1.endpoint import V1Router

router = V1Router("accounts")
