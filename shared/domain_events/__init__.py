"""Domain events between subgraphs: typed events, an outbox in the mutation's transaction,
one Redis stream per producing domain, and consumer groups run by the worker."""

from shared.domain_events.consumers import Consumer, ConsumerRunner, consumer_context
from shared.domain_events.outbox import (
    after_commit,
    emit,
    publish,
    publish_pending,
    repair,
    repair_outbox,
    transaction,
)
from shared.domain_events.status import GroupStatus, StreamStatus, gauges, stream_status
from shared.domain_events.types import (
    EVENT_TYPES,
    DomainEvent,
    EventPayload,
    SecretInPayload,
    dead_letter_stream,
    stream_of,
)

__all__ = [
    "EVENT_TYPES",
    "Consumer",
    "ConsumerRunner",
    "DomainEvent",
    "EventPayload",
    "GroupStatus",
    "SecretInPayload",
    "StreamStatus",
    "after_commit",
    "consumer_context",
    "dead_letter_stream",
    "emit",
    "gauges",
    "publish",
    "publish_pending",
    "repair",
    "repair_outbox",
    "stream_of",
    "stream_status",
    "transaction",
]
