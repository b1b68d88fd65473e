"""Trace ids from W3C `traceparent`, and on every log line of the request."""

from __future__ import annotations

import asyncio
import logging

from shared.telemetry import TraceIdFilter, current_trace_id, start_request_trace, trace_id_from

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_gives_its_trace_id_and_anything_else_none() -> None:
    assert trace_id_from({"traceparent": VALID}) == "4bf92f3577b34da6a3ce929d0e0e4736"
    for bad in ("", "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01", VALID.replace("-01", "")):
        assert trace_id_from({"traceparent": bad}) is None
    assert trace_id_from({}) is None


async def test_each_request_task_has_its_own_trace_id_on_its_log_lines() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test.telemetry")
    handler = Keep()
    handler.addFilter(TraceIdFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    async def request(headers: dict[str, str]) -> str:
        trace_id = start_request_trace(headers)
        await asyncio.sleep(0)
        logger.info("served")
        return trace_id

    try:
        given, made = await asyncio.gather(request({"traceparent": VALID}), request({}))
    finally:
        logger.removeHandler(handler)
    assert given == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert len(made) == 32 and made != given
    assert sorted(record.trace_id for record in records) == sorted([given, made])  # type: ignore[attr-defined]
    assert current_trace_id.get() is None  # tasks kept theirs to themselves
