"""Process metrics (Prometheus): what operators alert on.

Counters are this process's own; ``GET /metrics`` (with ``HOJRE_METRICS_TOKEN``) shows them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

REGISTRY = CollectorRegistry(auto_describe=True)

THROTTLED = Counter(
    "hojre_throttled_total",
    "Requests answered 'Too Many Attempts', by the rule that stopped them.",
    ["rule"],
    registry=REGISTRY,
)
SMS_REFUSED = Counter(
    "hojre_sms_refused_total",
    "SMS not sent because a budget was spent, by budget (global_daily: alert on it).",
    ["budget"],
    registry=REGISTRY,
)
SMS_QUEUED = Counter(
    "hojre_sms_queued_total",
    "SMS written to the outbox, by kind.",
    ["kind"],
    registry=REGISTRY,
)
