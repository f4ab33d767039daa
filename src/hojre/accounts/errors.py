"""Account errors with the exact v1 messages (spelling and spaces as the apps expect)."""

from __future__ import annotations

from hojre.core.errors import HojreError


class BlankCredentials(HojreError):
    message = "Username or Password cannot be blank."


class CellphoneInvalid(HojreError):
    message = "Cellphone is not validated"


class CantValidateData(HojreError):
    message = "Cant Validate Data"


class RegisteredNotActivated(HojreError):
    message = "Cellphone already registered but not activatad"
    data = -1
    keep_writes = True  # a registration with another password contests the number


class CellphoneTaken(HojreError):
    message = "Cellphone already existed"


class IncorrectCode(HojreError):
    message = "Incorrect Code"
    keep_writes = True  # the spent try must stay spent


class AlreadyActivated(HojreError):
    message = "User is Activated"


class NotRegistered(HojreError):
    message = "User is not registered"


class WrongCredentials(HojreError):
    message = "Username or Password is incorrect"


class LoginNotActivated(HojreError):
    message = " Cellphone already registered but not activatad "
    data = -1


class LoginUserNotFound(HojreError):
    message = " User not found "


class NotStaff(HojreError):
    message = "You are not seller or store manager"
    keep_writes = True  # the right password's attempt is given back


class TokenInvalid(HojreError):
    message = "Token is not valid"


class ForgetUserNotFound(HojreError):
    message = "User Not Found"


class OldPasswordIncorrect(HojreError):
    message = "Old Password is incorrect"


class LoggedOut(HojreError):
    """Not an error: the message of a successful logout (kept with the others of §1)."""

    message = "Logged Out"
