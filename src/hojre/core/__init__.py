"""Shared kit: settings, database, errors, security primitives."""
