"""Hojre: the backend of Hojrenama, serving the v1 mobile contract."""

__version__ = "0.1.0"
