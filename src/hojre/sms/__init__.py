"""Outgoing SMS through a transactional outbox and a pluggable gateway."""
