"""Prometheus metrics, served at /metrics."""

from prometheus_client import Counter, Histogram

DELIVERIES = Counter(
    "swarm_webhook_deliveries_total",
    "Webhook deliveries answered by the ingress, by event and outcome",
    ["event", "outcome"],
)
HANDLED = Counter(
    "swarm_webhook_handled_total",
    "Recorded deliveries processed by their handlers, by event and outcome",
    ["event", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "swarm_webhook_handler_seconds",
    "Time spent in the handlers of one delivery",
    ["event"],
)
