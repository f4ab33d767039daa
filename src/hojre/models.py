"""Every model, imported once so that ``Base.metadata`` is complete (Alembic, tests)."""

from hojre.accounts.models import AccessToken, ActivationCode, User
from hojre.catalog.models import Bazaar, BazaarCategory, Mall, Media, Product, Store, StoreSeller
from hojre.core.cache import PublicCacheGeneration
from hojre.core.db import Base
from hojre.core.ratelimit import RateCounter
from hojre.customers.models import StoreCustomer, StorePoint
from hojre.geo.models import City, Country, Hood, State
from hojre.interactions.models import Comment, Mark, View
from hojre.media.models import Upload
from hojre.messaging.models import Broadcast, Chat, ChatMessage, Offer, StoreMessage
from hojre.sms.models import SmsMessage

__all__ = [
    "AccessToken",
    "ActivationCode",
    "Base",
    "Bazaar",
    "BazaarCategory",
    "Broadcast",
    "Chat",
    "ChatMessage",
    "City",
    "Comment",
    "Country",
    "Hood",
    "Mall",
    "Mark",
    "Media",
    "Offer",
    "Product",
    "PublicCacheGeneration",
    "RateCounter",
    "SmsMessage",
    "State",
    "Store",
    "StoreCustomer",
    "StoreMessage",
    "StorePoint",
    "StoreSeller",
    "Upload",
    "User",
    "View",
]
