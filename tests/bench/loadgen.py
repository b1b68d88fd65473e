"""The load generator of the benchmarks: `wrk` (Debian's, C and epoll), one thread, so that
the generator costs little of the two cores the system under test also runs on. A Lua
script posts one GraphQL document and counts answers that carry `errors` as failures (a fast
error is not a fast answer)."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = r"""
local body = os.getenv("WRK_BODY")
local token = os.getenv("WRK_AUTHORIZATION")
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then wrk.headers["Authorization"] = token end

failed = 0
local threads = {}
setup = function(thread) table.insert(threads, thread) end
response = function(status, headers, answer)
  if status ~= 200 or answer:find('"errors"', 1, true) then failed = failed + 1 end
end
done = function(summary, latency, requests)
  local graphql = 0
  for _, thread in ipairs(threads) do graphql = graphql + thread:get("failed") end
  local errors = summary.errors
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "socket_errors": %d, "failed": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, graphql))
end
"""


class LoadGeneratorMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return f"{self.rate:7.0f} req/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms"


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise LoadGeneratorMissing("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return found


async def post_load(
    url: str,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    authorization: str | None = None,
    concurrency: int = 32,
    seconds: float = 10,
) -> Load:
    """`concurrency` connections with keep-alive posting the document for `seconds`."""
    body = json.dumps({"query": document, "variables": variables or {}})
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(SCRIPT)
    try:
        process = await asyncio.create_subprocess_exec(
            wrk_binary(),
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
            url,
            env={"WRK_BODY": body, "WRK_AUTHORIZATION": authorization or ""},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
    finally:
        await asyncio.to_thread(Path(script.name).unlink, missing_ok=True)
    text = output.decode()
    try:
        summary = json.loads(text.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as error:
        raise RuntimeError(f"wrk failed:\n{text}") from error
    return Load(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        failed=summary["failed"] + summary["socket_errors"],
    )
