"""Account refusals (API.md §1). ``hojre.web_v1.messages`` words each as the apps expect."""

from __future__ import annotations

from hojre.core.errors import HojreError


class BlankCredentials(HojreError):
    """Registration without a username or a password."""


class CellphoneInvalid(HojreError):
    """Not an Iranian mobile number."""


class CantValidateData(HojreError):
    """A password outside the allowed lengths (registration, the CLI)."""


class RegisteredNotActivated(HojreError):
    """Registered again while pending, and no new code may go out yet."""

    keep_writes = True  # a registration with another password contests the number


class CellphoneTaken(HojreError):
    """The number belongs to an active account."""


class IncorrectCode(HojreError):
    """Not the pending registration's live code (or no pending registration)."""

    keep_writes = True  # the spent try must stay spent


class AlreadyActivated(HojreError):
    """A new code asked for an account that is active already."""


class NotRegistered(HojreError):
    """A new code asked for a number nobody registered."""


class WrongCredentials(HojreError):
    """Login: the password (or the temporary one) does not match."""


class LoginNotActivated(HojreError):
    """Login with the right password of a registration not activated yet."""


class LoginUserNotFound(HojreError):
    """Login with a number nobody registered."""


class NotStaff(HojreError):
    """Store login of an account that is neither a seller nor a store manager."""

    keep_writes = True  # the right password's attempt is given back


class TokenInvalid(HojreError):
    """The token does not authenticate the username."""


class ForgetUserNotFound(HojreError):
    """A temporary password asked for a number without an active account."""


class OldPasswordIncorrect(HojreError):
    """Change of password: the old one does not match."""
