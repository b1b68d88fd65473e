from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Comparison:
    subject: float
    """Median CPU seconds per call of the code under test."""
    baseline: float
    ratio: float
    """Median of the per-round ratios subject / baseline."""


async def compare_cpu(
    subject: Call, baseline: Call, *, warmup: int, rounds: int, per_round: int
) -> Comparison:
    """CPU per call (process time, not wall time) of two variants measured in alternating
    rounds, each starting from a fresh collection: a noisy neighbour or a collection of the
    other's garbage then weighs on both sides instead of on whichever ran second."""
    for _ in range(warmup):
        await subject()
        await baseline()
    subject_samples: list[float] = []
    baseline_samples: list[float] = []
    for _ in range(rounds):
        subject_samples.append(await _cpu_per_call(subject, per_round))
        baseline_samples.append(await _cpu_per_call(baseline, per_round))
    return Comparison(
        statistics.median(subject_samples),
        statistics.median(baseline_samples),
        statistics.median(s / b for s, b in zip(subject_samples, baseline_samples, strict=True)),
    )


async def _cpu_per_call(fn: Call, calls: int) -> float:
    gc.collect()
    started = time.process_time()
    for _ in range(calls):
        await fn()
    return (time.process_time() - started) / calls
