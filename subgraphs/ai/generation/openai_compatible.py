"""Generation through any OpenAI-compatible chat completions API (OpenAI, a vLLM or llama.cpp
server, Ollama, a gateway), streamed over server-sent events with plain httpx.

Retries happen only before the first token, when nothing has reached the consumer: a connect
error, a timeout, a 5xx, a 429 (after its `Retry-After`) or a stream that ends before any
text. Once text has flowed, a failure is a `StreamInterrupted` carrying what arrived. Prompts,
outputs and the API key never reach a log line or an error message."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import math
import random
import re
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from shared.metrics import count_upstream
from subgraphs.ai.generation.base import (
    GenerationRequest,
    Prompt,
    ProviderError,
    ProviderRateLimited,
    ProviderTuning,
    ProviderUnavailable,
    Sleep,
    StreamChunk,
    StreamInterrupted,
    Usage,
)

log = logging.getLogger("subgraphs.ai.generation")

PROVIDER_NAME = "openai-compatible"


def max_tokens_for(request: GenerationRequest) -> int:
    """The completion budget: about two tokens a word (French and German words cost more
    tokens than English ones) and a margin, so the word limit binds before the token one."""
    return request.max_words * 2 + 32


@dataclass
class ServerSentEvent:
    data: str
    event: str = "message"
    id: str | None = None


_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class SseDecoder:
    """Incremental server-sent events parser (the WHATWG rules): bytes go in as they arrive,
    split anywhere (inside a line, a JSON value or a UTF-8 character), and whole events come
    out. Lines end with LF, CRLF or CR; `:` starts a comment; a blank line ends an event."""

    _text: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace")
    )
    _line: str = ""
    _after_cr: bool = False
    _data: list[str] = field(default_factory=list)
    _event: str = ""
    _id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        return list(self._lines(self._text.decode(chunk)))

    def close(self) -> list[ServerSentEvent]:
        """At the end of the stream: an event whose lines are all complete is dispatched even
        without its blank line; a line cut short is dropped."""
        events = list(self._lines(self._text.decode(b"", final=True)))
        event = self._dispatch()
        return [*events, event] if event else events

    def _lines(self, text: str) -> Iterator[ServerSentEvent]:
        if self._after_cr and text:
            self._after_cr = False
            if text.startswith("\n"):
                text = text[1:]  # a CRLF cut in two: its CR already ended the line
        buffer, start = self._line + text, 0
        for end in _LINE_END.finditer(buffer):
            line, start = buffer[start : end.start()], end.end()
            self._after_cr = end.group() == "\r" and start == len(buffer)
            event = self._take_line(line)
            if event:
                yield event
        self._line = buffer[start:]

    def _take_line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(data="\n".join(data), event=event or "message", id=self._id)


class _RetryableFailure(Exception):
    """A failure before the first token; `error` is raised if no attempt is left."""

    def __init__(self, error: ProviderError, delay: float | None = None) -> None:
        super().__init__(error.reason)
        self.error = error
        self.delay = delay


@dataclass
class _StreamState:
    text: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    done: bool = False

    @property
    def started(self) -> bool:
        return bool(self.text)

    @property
    def complete(self) -> bool:
        return self.done or self.finish_reason is not None

    def interrupted(self, reason: str) -> StreamInterrupted:
        return StreamInterrupted(reason, partial_text="".join(self.text))


class OpenAICompatibleProvider:
    """Streams chat completions from `{base_url}/chat/completions`. Uses `http` when given
    (its timeouts are overridden per request by `tuning`), else a client of its own, closed
    by `aclose`."""

    name = PROVIDER_NAME

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        tuning: ProviderTuning | None = None,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the LLM base URL must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.tuning = tuning or ProviderTuning()
        self._api_key = api_key
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient()
        self._sleep: Sleep = asyncio.sleep if sleep is None else sleep
        self._timeout = httpx.Timeout(
            connect=self.tuning.connect_timeout,
            read=self.tuning.read_timeout,
            write=self.tuning.read_timeout,
            pool=self.tuning.connect_timeout,
        )

    def __repr__(self) -> str:
        return f"OpenAICompatibleProvider(base_url={self.base_url!r}, model={self.model!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def stream(self, request: GenerationRequest, prompt: Prompt) -> AsyncGenerator[StreamChunk, None]:
        body: dict[str, Any] = {
            **self.tuning.extra,
            "model": self.model,
            "messages": prompt.to_wire(),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": max_tokens_for(request),
        }
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        url = f"{self.base_url}/chat/completions"
        attempts = max(1, self.tuning.max_attempts)
        for attempt in range(1, attempts + 1):
            state = _StreamState()
            try:
                async with self._http.stream(
                    "POST", url, json=body, headers=headers, timeout=self._timeout
                ) as response:
                    await self._check_status(response, attempt)
                    async with contextlib.aclosing(self._read(response, state)) as chunks:
                        async for chunk in chunks:
                            yield chunk
                return
            except _RetryableFailure as failure:
                if attempt == attempts:
                    raise failure.error from None
                delay = failure.delay if failure.delay is not None else self._backoff(attempt)
                log.warning(
                    "LLM request failed, retrying",
                    extra={"reason": failure.error.reason, "attempt": attempt, "delay": delay},
                )
                await self._sleep(delay)
            except httpx.TransportError as error:
                # Raised on connecting or while waiting for the response head (`_read` handles
                # the body); should closing the response fail after text, it is an interruption.
                if state.complete:
                    return
                if state.started:
                    raise state.interrupted(_transport_reason(error, None)) from None
                count_upstream("llm", type(error).__name__)
                if attempt == attempts:
                    raise ProviderUnavailable(_transport_reason(error, attempts)) from None
                delay = self._backoff(attempt)
                log.warning(
                    "LLM request failed, retrying",
                    extra={"error": type(error).__name__, "attempt": attempt, "delay": delay},
                )
                await self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        delay = min(self.tuning.max_delay, self.tuning.base_delay * 2 ** (attempt - 1))
        return delay * (1 + random.uniform(0, self.tuning.jitter))

    async def _check_status(self, response: httpx.Response, attempt: int) -> None:
        status = response.status_code
        count_upstream("llm", status)
        if status == 200:
            content_type = response.headers.get("content-type", "")
            if not content_type.startswith("text/event-stream"):
                raise ProviderError(
                    f"the LLM provider answered {content_type or 'no content type'}, not an event stream"
                )
            return
        # Only the error's type and code go into the reason: providers echo parts of the
        # request (and of the key: "Incorrect API key provided: sk-ab***yz") in the message.
        detail = _error_detail(await response.aread())
        if status == 429:
            retry_after = _retry_after_seconds(response.headers.get("retry-after"))
            delay = None if retry_after is None else min(retry_after, self.tuning.max_retry_after)
            raise _RetryableFailure(
                ProviderRateLimited(
                    f"the LLM provider is rate limiting (HTTP 429{detail}) after {attempt} attempts",
                    retry_after=retry_after,
                ),
                delay,
            )
        if status >= 500:
            raise _RetryableFailure(
                ProviderUnavailable(
                    f"the LLM provider failed (HTTP {status}{detail}) after {attempt} attempts"
                )
            )
        raise ProviderError(f"the LLM provider refused the request (HTTP {status}{detail})")

    async def _read(self, response: httpx.Response, state: _StreamState) -> AsyncGenerator[StreamChunk, None]:
        decoder = SseDecoder()
        try:
            async for raw in response.aiter_bytes():
                for event in decoder.feed(raw):
                    for chunk in self._take_event(event, state):
                        yield chunk
                    if state.done:
                        break
                if state.done:
                    break
        except httpx.TransportError as error:
            if not state.complete:
                reason = _transport_reason(error, None)
                if state.started:
                    raise state.interrupted(f"the LLM stream broke off: {reason}") from None
                raise _RetryableFailure(ProviderUnavailable(reason)) from None
        else:
            for event in decoder.close():
                for chunk in self._take_event(event, state):
                    yield chunk
        if not state.complete:
            if state.started:
                raise state.interrupted("the LLM stream ended before it was finished")
            raise _RetryableFailure(ProviderUnavailable("the LLM stream ended before any text"))
        yield StreamChunk(finish_reason=state.finish_reason or "stop", usage=state.usage)

    def _take_event(self, event: ServerSentEvent, state: _StreamState) -> Iterator[StreamChunk]:
        if state.done:
            return
        if event.data.strip() == "[DONE]":
            state.done = True
            return
        try:
            payload = json.loads(event.data)
        except ValueError:
            raise self._failure(state, "the LLM stream sent an event that is not JSON") from None
        if not isinstance(payload, dict):
            raise self._failure(state, "the LLM stream sent an event that is not an object")
        if payload.get("error"):
            raise self._failure(state, f"the LLM stream reported an error{_error_detail(payload)}")
        choices = payload.get("choices")
        first = choices[0] if isinstance(choices, list) and choices else None
        choice: dict[str, Any] = first if isinstance(first, dict) else {}
        delta = choice.get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str) and content:
            state.text.append(content)
            yield StreamChunk(delta=content)
        if choice.get("finish_reason"):
            state.finish_reason = str(choice["finish_reason"])
        usage = payload.get("usage")
        if isinstance(usage, dict):
            state.usage = _usage(usage)

    def _failure(self, state: _StreamState, reason: str) -> Exception:
        if state.started:
            return state.interrupted(reason)
        return _RetryableFailure(ProviderUnavailable(reason))


def _usage(raw: dict[str, Any]) -> Usage:
    def count(key: str) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    prompt_tokens, completion_tokens = count("prompt_tokens"), count("completion_tokens")
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=count("total_tokens") or prompt_tokens + completion_tokens,
    )


def _retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _error_detail(body: bytes | dict[str, Any]) -> str:
    """`: <type>/<code>` from an OpenAI-style error body, or nothing."""
    try:
        payload = json.loads(body) if isinstance(body, bytes) else body
    except ValueError:
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return ""
    parts = [str(error[key]) for key in ("type", "code") if isinstance(error.get(key), str | int)]
    return f": {'/'.join(parts)}" if parts else ""


def _transport_reason(error: httpx.TransportError, attempts: int | None) -> str:
    if isinstance(error, httpx.ConnectTimeout | httpx.ConnectError):
        what = "the LLM provider could not be reached"
    elif isinstance(error, httpx.TimeoutException):
        what = "the LLM provider timed out"
    else:
        what = "the connection to the LLM provider broke"
    name = type(error).__name__
    return f"{what} ({name}) after {attempts} attempts" if attempts else f"{what} ({name})"
