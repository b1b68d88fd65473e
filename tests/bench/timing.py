from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable


async def cpu_per_call(
    fn: Callable[[], Awaitable[object]], *, warmup: int, rounds: int, per_round: int
) -> float:
    """Median CPU seconds per call over `rounds` rounds (process time, not wall time)."""
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(per_round):
            await fn()
        samples.append((time.process_time() - started) / per_round)
    return statistics.median(samples)
