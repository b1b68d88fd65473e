"""The provider-neutral core of content generation: what is asked (`GenerationRequest`), what
is sent (`Prompt`), what streams back (`StreamChunk`), the `GenerationProvider` protocol both
providers implement, their typed errors, and `create_provider` that picks one from settings."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from shared.errors import BadUserInput, DomainError, ErrorCode

E = TypeVar("E", bound=StrEnum)


class ContentKind(StrEnum):
    ARTIST_BIO = "artist_bio"
    RELEASE_PITCH = "release_pitch"
    SOCIAL_POST = "social_post"
    PLAYLIST_DESCRIPTION = "playlist_description"
    LYRICS_DRAFT = "lyrics_draft"
    PRESS_RELEASE = "press_release"


class Language(StrEnum):
    EN = "en"
    FR = "fr"
    DE = "de"


class Tone(StrEnum):
    WARM = "warm"
    PROFESSIONAL = "professional"
    PLAYFUL = "playful"
    BOLD = "bold"


DEFAULT_TONE = Tone.PROFESSIONAL
"""The tone used when a request names none."""

MIN_WORDS = 20
MAX_WORDS = 800

SUBJECT_TYPES = ("artist", "track", "album", "playlist", "project")
"""What `facts["subject"]["type"]` may be; a project is titled (`title`), the rest named (`name`)."""


class SubjectWithoutData(BadUserInput):
    """The facts do not describe a subject that can be written about (no name or title)."""


@dataclass(frozen=True)
class GenerationRequest:
    """One piece of content to write. `facts` is the grounding: `{"subject": {"type": ..., ...}}`
    as JSON values; nothing outside it may be stated. Strings are accepted for the enums.
    Invalid input raises `BadUserInput` (`SubjectWithoutData` when the subject has no name)."""

    kind: ContentKind
    language: Language
    tone: Tone | None
    max_words: int
    facts: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _member(ContentKind, self.kind, "kind"))
        object.__setattr__(self, "language", _member(Language, self.language, "language"))
        if self.tone is not None:
            object.__setattr__(self, "tone", _member(Tone, self.tone, "tone"))
        if (
            isinstance(self.max_words, bool)
            or not isinstance(self.max_words, int)
            or not MIN_WORDS <= self.max_words <= MAX_WORDS
        ):
            raise BadUserInput(
                f"maxWords must be an integer from {MIN_WORDS} to {MAX_WORDS}",
                field="maxWords",
            )
        validate_facts(self.facts)

    @property
    def effective_tone(self) -> Tone:
        return self.tone or DEFAULT_TONE

    @property
    def subject(self) -> Mapping[str, Any]:
        subject: Mapping[str, Any] = self.facts["subject"]
        return subject


def validate_facts(facts: Mapping[str, Any]) -> None:
    """Raises `BadUserInput` unless `facts` is JSON and holds a subject of a known type with a
    name (a title for a project); every other field is optional."""
    if not isinstance(facts, Mapping):
        raise BadUserInput("facts must be an object", field="facts")
    try:
        json.dumps(facts, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise BadUserInput("facts must hold JSON values only", field="facts") from error
    subject = facts.get("subject")
    if not isinstance(subject, Mapping):
        raise SubjectWithoutData("facts.subject is missing", field="facts.subject")
    subject_type = subject.get("type")
    if subject_type not in SUBJECT_TYPES:
        raise BadUserInput(
            f"facts.subject.type must be one of: {', '.join(SUBJECT_TYPES)}", field="facts.subject.type"
        )
    label = subject.get("title" if subject_type == "project" else "name")
    if not isinstance(label, str) or not label.strip():
        raise SubjectWithoutData(
            f"the {subject_type} has no {'title' if subject_type == 'project' else 'name'} to write about",
            field="facts.subject",
        )


def _member(enum: type[E], value: Any, name: str) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise BadUserInput(f"{name} must be one of: {allowed}", field=name) from None


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str

    def to_wire(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Prompt:
    """The chat messages sent to a model, the template version that wrote them, and their
    hash (sha256 of the canonical JSON of the messages; see `prompts.prompt_hash`)."""

    messages: tuple[ChatMessage, ...]
    template_version: str
    hash: str

    def to_wire(self) -> list[dict[str, str]]:
        return [message.to_wire() for message in self.messages]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class StreamChunk:
    """A piece of the output (`delta`), or the last chunk: `finish_reason` set (`stop`, or
    `length` when the text was cut at the word limit) and `usage` when it is known."""

    delta: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


class GenerationProvider(Protocol):
    """Writes a request's content as a stream. `name` is the provenance label stored with
    the output, `model` the model (with version) that wrote it.

    `stream` is an async generator so that a consumer stopping early can close it
    (`contextlib.aclosing`): the upstream connection is then released at once rather than
    when the generator is collected. Cancelling the consuming task releases it too."""

    name: str
    model: str

    def stream(self, request: GenerationRequest, prompt: Prompt) -> AsyncGenerator[StreamChunk, None]: ...

    async def aclose(self) -> None: ...


class ProviderError(DomainError):
    """Generation failed; `reason` says why in words safe to show and log (never the prompt,
    the output or a credential). `retryable` tells a job whether trying later may succeed."""

    code = ErrorCode.INTERNAL
    retryable = False

    def __init__(self, reason: str, **extensions: Any) -> None:
        super().__init__(reason, **extensions)
        self.reason = reason


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, timed out, or kept answering 5xx after the retries."""

    code = ErrorCode.UNAVAILABLE
    retryable = True


class ProviderRateLimited(ProviderError):
    """The provider kept answering 429 after the retries; `retry_after` is its last hint, in
    seconds, when it gave one."""

    code = ErrorCode.RATE_LIMITED
    retryable = True

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        if retry_after is None:
            super().__init__(reason)
        else:
            super().__init__(reason, retryAfter=retry_after)
        self.retry_after = retry_after


class StreamInterrupted(ProviderError):
    """The stream stopped after text had started to arrive; what had arrived is
    `partial_text`. Never retried by the provider: the consumer has already seen the text."""

    code = ErrorCode.UNAVAILABLE
    retryable = True

    def __init__(self, reason: str, partial_text: str) -> None:
        super().__init__(reason)
        self.partial_text = partial_text


Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ProviderTuning:
    """Timeouts (seconds) and the retry policy of the OpenAI-compatible provider. Retries
    happen only before the first token: `max_attempts` tries in all, waiting
    `base_delay * 2**n` (capped by `max_delay`) after a 5xx or connection failure, and the
    server's `Retry-After` (capped by `max_retry_after`) after a 429."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    jitter: float = 0.1
    """Each backoff is stretched by a random fraction up to this (0 for exact delays)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Further fields for the request body (e.g. `temperature`)."""


def create_provider(
    base_url: str | None,
    api_key: str | None,
    model: str | None,
    *,
    tuning: ProviderTuning | None = None,
    sleep: Sleep | None = None,
) -> GenerationProvider:
    """The OpenAI-compatible provider when `base_url` is set (it then needs `model`), else
    the offline composer."""
    from subgraphs.ai.generation.offline import OfflineComposer
    from subgraphs.ai.generation.openai_compatible import OpenAICompatibleProvider

    if not base_url:
        return OfflineComposer()
    if not model:
        raise ValueError("an OpenAI-compatible provider needs a model name (LLM_BASE_URL is set)")
    return OpenAICompatibleProvider(base_url, model, api_key=api_key, tuning=tuning, sleep=sleep)
