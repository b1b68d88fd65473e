"""What the collaboration subgraph runs with beyond the platform: the workspace event
streams and the hub that fans them out to this process's subscribers."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import EventStreams, StreamHub
from shared.runtime import NoSettings, SubgraphRuntime


@dataclass
class CollaborationServices:
    event_streams: EventStreams
    stream_hub: StreamHub


def build_services(runtime: SubgraphRuntime[NoSettings, None]) -> CollaborationServices:
    streams = EventStreams(runtime.redis)
    return CollaborationServices(event_streams=streams, stream_hub=StreamHub(streams))
