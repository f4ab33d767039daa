"""Who is asking, as far as throttles can tell: the client's network address."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.types import Scope

UNKNOWN = "unknown"


@lru_cache(maxsize=4096)
def address_key(host: str) -> str:
    """The throttle key of a client address.

    An IPv6 client usually holds a whole /64 and can pick any address in it, so its /64 is
    the client; an IPv4-mapped IPv6 address is its IPv4 address. Anything else (a Unix socket
    name, a test client's host name) is kept as it is.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_key(scope: Scope) -> str:
    """The client of a request. Behind a trusted proxy, ``scope["client"]`` already holds the
    address it reported (uvicorn's ProxyHeadersMiddleware, see hojre.web_v1.app)."""
    client = scope.get("client")
    return address_key(client[0]) if client else UNKNOWN
