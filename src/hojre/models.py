"""Every model, imported once so that ``Base.metadata`` is complete (Alembic, tests)."""

from hojre.accounts.models import AccessToken, ActivationCode, User
from hojre.core.db import Base
from hojre.core.ratelimit import RateCounter
from hojre.geo.models import City, Country, Hood, State
from hojre.sms.models import SmsMessage

__all__ = [
    "AccessToken",
    "ActivationCode",
    "Base",
    "City",
    "Country",
    "Hood",
    "RateCounter",
    "SmsMessage",
    "State",
    "User",
]
