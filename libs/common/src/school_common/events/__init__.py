"""Events: CloudEvents over NATS JetStream, written through an outbox, consumed through an inbox."""

from school_common.events.cloudevents import Event
from school_common.events.consumer import ConsumerRunner, Subscription
from school_common.events.outbox import Outbox
from school_common.events.relay import Relay

__all__ = ["ConsumerRunner", "Event", "Outbox", "Relay", "Subscription"]
