"""Logging that never shows a secret: tokens, passwords and codes are redacted on every handler."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

_SECRET = re.compile(r"(?i)\b(token|password|oldPassword|newPassword|code)(=|%3D)[^&\s\"']*")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_.~+/]+=*")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _BEARER.sub(r"\1" + REDACTED, _SECRET.sub(r"\1\2" + REDACTED, text))


class RedactFilter(logging.Filter):
    """Rewrites the message and its arguments (uvicorn's access log passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own logging config with the redaction filter on every handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "hojre.core.logging.RedactFilter"}}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact")
    config["loggers"]["hojre"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    # httpx logs request URLs at INFO; the Kavenegar URL holds the API key.
    config["loggers"]["httpx"] = {"handlers": ["default"], "level": "WARNING", "propagate": False}
    return config


def install_redaction() -> None:
    """For processes not started by ``hojre serve`` (tests, other ASGI servers)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())
    logging.getLogger("httpx").setLevel(logging.WARNING)
