"""The generation engine without GraphQL: prompts and their hash, the SSE parser, the
OpenAI-compatible provider against a local replay of the wire format (splits, drops, stalls,
429/5xx retries, cancellation), the offline composer for every kind and language, and the
output checks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.errors import BadUserInput
from shared.redis import free_port
from subgraphs.ai.generation import (
    MAX_WORDS,
    MIN_WORDS,
    ContentKind,
    FlagCode,
    GenerationRequest,
    Language,
    OfflineComposer,
    OpenAICompatibleProvider,
    ProviderError,
    ProviderRateLimited,
    ProviderTuning,
    ProviderUnavailable,
    StreamChunk,
    StreamInterrupted,
    SubjectWithoutData,
    Tone,
    Usage,
    build_prompt,
    check_output,
    count_words,
    create_provider,
)
from subgraphs.ai.generation.base import GenerationProvider, Prompt
from subgraphs.ai.generation.openai_compatible import SseDecoder, max_tokens_for
from tests.support.llm import DEFAULT_PIECES, LlmReplay, Silent, Status, Stream, usage_of
from tests.support.secrets import remember_secret

API_KEY = "sk-replay-0123456789abcdef"
remember_secret(API_KEY)

ARTIST = {
    "subject": {
        "type": "artist",
        "id": "6AdaCosta",
        "name": "Ada Costa",
        "genres": ["amapiano", "afro house"],
        "followers": 12500,
        "popularity": 55,
        "topTracks": [
            {"name": "Lights Over Lagos", "album": "Nightfall", "year": 2021},
            {"name": "Soft Landing", "album": "Nightfall", "year": 2021},
        ],
        "albums": [
            {"name": "Nightfall", "releaseDate": "2021-04-02", "totalTracks": 10},
            {"name": "First Light", "releaseDate": "2019"},
        ],
    }
}
SUBJECTS: dict[str, dict[str, Any]] = {
    "artist": ARTIST,
    "track": {
        "subject": {
            "type": "track",
            "name": "Soft Landing",
            "artists": ["Ada Costa", {"name": "Kojo Mensah"}],
            "album": {"name": "Nightfall", "releaseDate": "2021-04-02"},
            "releaseDate": "2021-04-02",
            "genres": ["amapiano"],
            "popularity": 40,
            "durationMs": 215000,
        }
    },
    "album": {
        "subject": {
            "type": "album",
            "name": "Nightfall",
            "artists": ["Ada Costa"],
            "releaseDate": "2021-04",
            "totalTracks": 10,
            "tracks": [{"name": "Soft Landing"}, "Lights Over Lagos", {"name": "Harbour"}],
        }
    },
    "playlist": {
        "subject": {
            "type": "playlist",
            "name": "Sunday Amapiano",
            "description": "Slow <b>grooves</b> &amp; late light",
            "owner": {"displayName": "Lina"},
            "tracks": [
                {"name": "Soft Landing", "artists": [{"name": "Ada Costa"}]},
                {"name": "Harbour", "artists": ["Kojo Mensah"]},
            ],
            "genres": ["amapiano", "deep house"],
        }
    },
    "project": {
        "subject": {
            "type": "project",
            "title": "Second Album",
            "projectType": "album",
            "description": "Songs about the coast.",
            "tracks": [{"name": "Tide"}, {"name": "Salt"}],
        }
    },
    "bare artist": {"subject": {"type": "artist", "name": "Kojo Mensah"}},
}


def request(facts: dict[str, Any] = ARTIST, **changes: Any) -> GenerationRequest:
    fields: dict[str, Any] = {
        "kind": ContentKind.ARTIST_BIO,
        "language": Language.EN,
        "tone": Tone.WARM,
        "max_words": 200,
        "facts": facts,
    }
    return GenerationRequest(**{**fields, **changes})


# ---------------------------------------------------------------------------------------------
# Requests and prompts


def test_a_request_takes_strings_for_its_enums_and_refuses_what_it_cannot_write_about():
    made = request(kind="press_release", language="de", tone="bold")
    assert (made.kind, made.language, made.tone) == (ContentKind.PRESS_RELEASE, Language.DE, Tone.BOLD)
    assert request(tone=None).effective_tone is Tone.PROFESSIONAL
    with pytest.raises(SubjectWithoutData):
        request({"subject": {"type": "artist", "genres": ["jazz"], "followers": 3}})
    with pytest.raises(SubjectWithoutData):
        request({"subject": {"type": "project", "name": "not a title", "title": "  "}})
    with pytest.raises(SubjectWithoutData):
        request({"artist": "Ada Costa"})
    assert issubclass(SubjectWithoutData, BadUserInput)
    for bad in ({"kind": "poem"}, {"language": "es"}, {"tone": "sad"}, {"max_words": MIN_WORDS - 1}):
        with pytest.raises(BadUserInput):
            request(**bad)
    with pytest.raises(BadUserInput):
        request(max_words=MAX_WORDS + 1)
    with pytest.raises(BadUserInput):
        request({"subject": {"type": "label", "name": "Nightfall Records"}})
    with pytest.raises(BadUserInput):
        request({"subject": {"type": "artist", "name": "Ada", "since": object()}})


def test_the_prompt_holds_exactly_the_facts_given_and_the_rules():
    prompt = build_prompt(request(language=Language.FR, tone=Tone.PLAYFUL, max_words=150))
    system, user = prompt.messages
    assert (system.role, user.role) == ("system", "user")
    assert "French" in system.content and "playful" in system.content and "150 words" in system.content
    assert "Do not invent" in system.content
    facts_json = user.content[user.content.index("{") :]
    assert json.loads(facts_json) == ARTIST
    assert prompt.to_wire() == [
        {"role": "system", "content": system.content},
        {"role": "user", "content": user.content},
    ]


def test_the_prompt_hash_is_the_sha256_of_the_canonical_messages_and_follows_the_facts():
    prompt = build_prompt(request())
    canonical = json.dumps(prompt.to_wire(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert prompt.hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert build_prompt(request()).hash == prompt.hash
    reordered = {"subject": dict(reversed(list(ARTIST["subject"].items())))}
    assert build_prompt(request(reordered)).hash == prompt.hash
    more_followers = {"subject": {**ARTIST["subject"], "followers": 12501}}
    assert build_prompt(request(more_followers)).hash != prompt.hash
    assert build_prompt(request(language=Language.DE)).hash != prompt.hash
    assert build_prompt(request(max_words=201)).hash != prompt.hash


# ---------------------------------------------------------------------------------------------
# The SSE parser

WIRE = (
    ": keep-alive\n\n"
    'data: {"choices":[{"delta":{"content":"Ça va — très bien, ünd 🎧"}}]}\n\n'
    "event: note\r\nid: 7\r\ndata: first line\r\ndata:second line\r\n\r\n"
    "data: lone CR\r\rdata: [DONE]\n\n"
).encode()
EXPECTED_EVENTS = [
    ("message", '{"choices":[{"delta":{"content":"Ça va — très bien, ünd 🎧"}}]}'),
    ("note", "first line\nsecond line"),
    ("message", "lone CR"),
    ("message", "[DONE]"),
]


def _decode(pieces: list[bytes]) -> list[tuple[str, str]]:
    decoder = SseDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)] + decoder.close()
    return [(event.event, event.data) for event in events]


def test_the_sse_parser_gives_the_same_events_wherever_the_bytes_are_cut():
    assert _decode([WIRE]) == EXPECTED_EVENTS
    assert _decode([bytes([byte]) for byte in WIRE]) == EXPECTED_EVENTS
    for cut in range(1, len(WIRE)):
        assert _decode([WIRE[:cut], WIRE[cut:]]) == EXPECTED_EVENTS, cut
    for first in range(1, len(WIRE), 7):
        for second in range(first + 1, len(WIRE), 5):
            assert _decode([WIRE[:first], WIRE[first:second], WIRE[second:]]) == EXPECTED_EVENTS


def test_the_sse_parser_keeps_a_complete_last_event_and_drops_a_cut_line():
    assert _decode([b"data: complete\n"]) == [("message", "complete")]
    assert _decode([b'data: {"choi']) == []


# ---------------------------------------------------------------------------------------------
# The OpenAI-compatible provider against the replay server


class Sleeps(list[float]):
    """An injected sleep: records the waits instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
async def llm() -> AsyncIterator[LlmReplay]:
    async with LlmReplay() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def provider(llm: LlmReplay, sleeps: Sleeps) -> AsyncIterator[OpenAICompatibleProvider]:
    made = openai_provider(llm.base_url, sleeps)
    yield made
    await made.aclose()


def openai_provider(base_url: str, sleeps: Sleeps, **tuning: Any) -> OpenAICompatibleProvider:
    settings: dict[str, Any] = {"jitter": 0, "base_delay": 0.5, "read_timeout": 5, "max_attempts": 3}
    return OpenAICompatibleProvider(
        base_url,
        "replay-model",
        api_key=API_KEY,
        tuning=ProviderTuning(**{**settings, **tuning}),
        sleep=sleeps,
    )


async def collect(provider: GenerationProvider, made: GenerationRequest | None = None) -> list[StreamChunk]:
    made = made or request()
    return [chunk async for chunk in provider.stream(made, build_prompt(made))]


def text_of(chunks: list[StreamChunk]) -> str:
    return "".join(chunk.delta for chunk in chunks)


async def test_a_stream_yields_the_deltas_then_the_finish_reason_and_usage(llm, provider, sleeps):
    made = request()
    chunks = await collect(provider, made)
    assert text_of(chunks) == "".join(DEFAULT_PIECES)
    assert [c.delta for c in chunks[:-1]] == list(DEFAULT_PIECES)
    (exchange,) = llm.exchanges
    assert chunks[-1] == StreamChunk(finish_reason="stop", usage=Usage(**usage_of(Stream(), exchange.body)))
    assert (exchange.method, exchange.path) == ("POST", "/v1/chat/completions")
    assert exchange.headers["authorization"] == f"Bearer {API_KEY}"
    assert exchange.body == {
        "model": "replay-model",
        "messages": build_prompt(made).to_wire(),
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": max_tokens_for(made),
    }
    assert sleeps == [] and exchange.completed


async def test_no_authorization_header_without_a_key(llm, sleeps):
    keyless = OpenAICompatibleProvider(llm.base_url + "/", "replay-model", sleep=sleeps)
    try:
        assert text_of(await collect(keyless)) == "".join(DEFAULT_PIECES)
    finally:
        await keyless.aclose()
    assert "authorization" not in llm.exchanges[0].headers
    assert llm.exchanges[0].path == "/v1/chat/completions"


async def test_events_cut_across_tcp_writes_at_odd_offsets_and_crlf_lines_parse_the_same(llm, provider):
    pieces = ("Ça va — ", "très bien, ", "ünd 🎧 ", '{"not": "json"} ', "data: fin")
    llm.script(Stream(pieces=pieces, split="odd"), Stream(pieces=pieces, split="odd", line_ending="\r\n"))
    for _ in range(2):
        chunks = await collect(provider)
        assert text_of(chunks) == "".join(pieces)
        assert chunks[-1].finish_reason == "stop" and chunks[-1].usage is not None
    # The server really wrote the body in many small pieces, far more than there are events.
    assert all(exchange.writes > 40 for exchange in llm.exchanges)


async def test_a_drop_after_the_first_token_is_an_interruption_with_the_partial_text_never_retried(
    llm, provider, sleeps
):
    llm.script(Stream(drop_after=2))
    seen: list[str] = []
    with pytest.raises(StreamInterrupted) as raised:
        async for chunk in provider.stream(request(), build_prompt(request())):
            seen.append(chunk.delta)
    assert raised.value.partial_text == "".join(DEFAULT_PIECES[:2]) == "".join(seen)
    assert len(llm.exchanges) == 1 and sleeps == []


async def test_a_stream_that_ends_cleanly_without_done_or_finish_reason_is_interrupted(llm, provider, sleeps):
    llm.script(Stream(end_after=3))
    with pytest.raises(StreamInterrupted) as raised:
        await collect(provider)
    assert raised.value.partial_text == "".join(DEFAULT_PIECES[:3])
    assert len(llm.exchanges) == 1 and sleeps == []


async def test_a_stream_that_breaks_before_any_text_is_retried(llm, provider, sleeps):
    llm.script(Stream(drop_after=0))
    assert text_of(await collect(provider)) == "".join(DEFAULT_PIECES)
    assert len(llm.exchanges) == 2 and sleeps == [0.5]


async def test_429_waits_for_retry_after_then_succeeds(llm, provider, sleeps):
    llm.script(Status(429, headers={"Retry-After": "2"}))
    assert text_of(await collect(provider)) == "".join(DEFAULT_PIECES)
    assert len(llm.exchanges) == 2 and sleeps == [2.0]


async def test_retry_after_is_capped_and_persistent_429_is_rate_limited(llm, sleeps):
    capped = openai_provider(llm.base_url, sleeps, max_retry_after=5)
    llm.script(*[Status(429, headers={"Retry-After": "120"})] * 3)
    try:
        with pytest.raises(ProviderRateLimited) as raised:
            await collect(capped)
    finally:
        await capped.aclose()
    assert sleeps == [5, 5] and len(llm.exchanges) == 3
    assert raised.value.retry_after == 120 and raised.value.retryable
    assert "429" in raised.value.reason


async def test_5xx_is_retried_with_exponential_backoff_then_succeeds(llm, provider, sleeps):
    llm.script(Status(503), Status(502))
    assert text_of(await collect(provider)) == "".join(DEFAULT_PIECES)
    assert sleeps == [0.5, 1.0] and len(llm.exchanges) == 3


async def test_persistent_5xx_is_unavailable_after_the_bounded_attempts(llm, provider, sleeps):
    llm.script(*[Status(500)] * 5)
    with pytest.raises(ProviderUnavailable) as raised:
        await collect(provider)
    assert len(llm.exchanges) == 3 and sleeps == [0.5, 1.0]
    assert "500" in raised.value.reason and "3 attempts" in raised.value.reason


async def test_backoff_is_capped_by_max_delay(llm, sleeps):
    capped = openai_provider(llm.base_url, sleeps, max_attempts=5, base_delay=1, max_delay=3)
    llm.script(*[Status(500)] * 5)
    try:
        with pytest.raises(ProviderUnavailable):
            await collect(capped)
    finally:
        await capped.aclose()
    assert sleeps == [1, 2, 3, 3]


async def test_a_4xx_other_than_429_fails_at_once_without_echoing_the_provider_message(llm, provider, sleeps):
    echo = f"Incorrect API key provided: {API_KEY}. Prompt was: Ada Costa"
    llm.script(
        Status(
            401, body={"error": {"message": echo, "type": "invalid_request_error", "code": "invalid_api_key"}}
        )
    )
    with pytest.raises(ProviderError) as raised:
        await collect(provider)
    assert type(raised.value) is ProviderError and not raised.value.retryable
    assert (
        raised.value.reason
        == "the LLM provider refused the request (HTTP 401: invalid_request_error/invalid_api_key)"
    )
    assert len(llm.exchanges) == 1 and sleeps == []


async def test_a_slow_first_byte_times_out_and_is_retried(llm, sleeps):
    impatient = openai_provider(llm.base_url, sleeps, read_timeout=0.2)
    llm.script(Silent())
    try:
        assert text_of(await collect(impatient)) == "".join(DEFAULT_PIECES)
        llm.script(Silent(), Silent(), Silent())
        with pytest.raises(ProviderUnavailable) as raised:
            await collect(impatient)
    finally:
        await impatient.aclose()
    assert "timed out" in raised.value.reason
    assert len(llm.exchanges) == 5 and sleeps == [0.5, 0.5, 1.0]
    for silent in (llm.exchanges[0], *llm.exchanges[2:]):
        await asyncio.wait_for(silent.client_closed.wait(), 5)


async def test_a_read_timeout_mid_stream_is_an_interruption(llm, sleeps):
    impatient = openai_provider(llm.base_url, sleeps, read_timeout=0.2)
    llm.script(Stream(stall_after=2))
    try:
        with pytest.raises(StreamInterrupted) as raised:
            await collect(impatient)
    finally:
        await impatient.aclose()
    assert raised.value.partial_text == "".join(DEFAULT_PIECES[:2])
    assert len(llm.exchanges) == 1 and sleeps == []
    await asyncio.wait_for(llm.exchanges[0].client_closed.wait(), 5)


async def test_a_consumer_that_stops_reading_closes_the_upstream_connection(llm, provider):
    llm.script(Stream(stall_after=2))
    made = request()
    async with contextlib.aclosing(provider.stream(made, build_prompt(made))) as chunks:
        async for chunk in chunks:
            assert chunk.delta == DEFAULT_PIECES[0]
            break
    await asyncio.wait_for(llm.exchanges[0].client_closed.wait(), 5)
    assert not llm.exchanges[0].completed


async def test_cancelling_the_consuming_task_closes_the_upstream_connection(llm, provider):
    llm.script(Stream(stall_after=2))
    received = asyncio.Event()

    async def consume() -> None:
        made = request()
        async for chunk in provider.stream(made, build_prompt(made)):
            if chunk.delta == DEFAULT_PIECES[1]:
                received.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(received.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(llm.exchanges[0].client_closed.wait(), 5)


async def test_an_unreachable_provider_is_unavailable_after_retries(sleeps):
    closed = openai_provider(f"http://127.0.0.1:{free_port()}/v1", sleeps, connect_timeout=1)
    try:
        with pytest.raises(ProviderUnavailable) as raised:
            await collect(closed)
    finally:
        await closed.aclose()
    assert "could not be reached" in raised.value.reason and sleeps == [0.5, 1.0]


async def test_an_answer_that_is_not_an_event_stream_is_refused(llm, provider, sleeps):
    llm.script(Status(200, body={"choices": [{"message": {"content": "hello"}}]}))
    with pytest.raises(ProviderError, match="not an event stream"):
        await collect(provider)
    assert sleeps == []


async def test_neither_the_key_nor_the_prompt_nor_the_output_reaches_a_log_line(llm, provider, caplog):
    caplog.set_level(logging.DEBUG)
    llm.script(Status(503), Stream(pieces=("secret lyric line",)))
    assert text_of(await collect(provider)) == "secret lyric line"
    logged = " ".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "LLM request failed, retrying" in logged
    for private in (API_KEY, "Lights Over Lagos", "secret lyric line", "Do not invent"):
        assert private not in logged


# ---------------------------------------------------------------------------------------------
# The offline composer

_NUMBER = re.compile(r"\d{1,3}(?:[,.\u202f\u00a0]\d{3})+(?!\d)|\d+")


def numbers_in(text: str) -> set[int]:
    """Every number written in `text`, thousands separators (1,000 · 1.000 · 1 000) included."""
    return {int(re.sub(r"\D", "", found)) for found in _NUMBER.findall(text)}


def invented_numbers(text: str, facts: dict[str, Any]) -> set[int]:
    return numbers_in(text) - numbers_in(json.dumps(facts, ensure_ascii=False))


def test_the_invented_number_check_catches_an_invented_number():
    assert invented_numbers("Ada Costa has 12,500 followers and won 3 awards in 2020.", ARTIST) == {3, 2020}
    assert invented_numbers("Ada Costa a 12\u202f500 abonnés, 2. April 2021.", ARTIST) == set()


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(ContentKind))
@pytest.mark.parametrize("subject", list(SUBJECTS))
async def test_offline_text_is_grounded_named_deterministic_and_streamed(subject, kind, language):
    facts = SUBJECTS[subject]
    made = request(facts, kind=kind, language=language, tone=list(Tone)[len(subject) % 4], max_words=400)
    composer = OfflineComposer()
    chunks = await collect(composer, made)
    text = text_of(chunks)
    name = facts["subject"].get("name") or facts["subject"]["title"]
    assert text.strip() and name in text
    assert invented_numbers(text, facts) == set(), text
    assert count_words(text) <= made.max_words
    assert len(chunks) > 3 and all(chunk.finish_reason is None for chunk in chunks[:-1])
    assert chunks[-1].delta == "" and chunks[-1].finish_reason == "stop"
    prompt_words = sum(count_words(m.content) for m in build_prompt(made).messages)
    assert chunks[-1].usage == Usage(prompt_words, count_words(text), prompt_words + count_words(text))
    assert text_of(await collect(composer, made)) == text == composer.compose(made).text


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(ContentKind))
async def test_offline_text_is_cut_at_a_sentence_to_max_words(kind, language):
    made = request(SUBJECTS["artist"], kind=kind, language=language, max_words=MIN_WORDS)
    full = OfflineComposer().compose(
        request(SUBJECTS["artist"], kind=kind, language=language, max_words=MAX_WORDS)
    )
    chunks = await collect(OfflineComposer(), made)
    text = text_of(chunks)
    assert 0 < count_words(text) <= MIN_WORDS and "Ada Costa" in text
    if count_words(full.text) > MIN_WORDS:
        assert chunks[-1].finish_reason == "length"
        # Whole sentences (or lines) of the full text, up to a boundary; or one cut sentence.
        assert (full.text.startswith(text) and full.text[len(text)].isspace()) or text.endswith("…"), text
    else:
        assert chunks[-1].finish_reason == "stop"


def test_the_word_cut_keeps_whole_sentences():
    full = OfflineComposer().compose(request(max_words=MAX_WORDS)).text
    cut = OfflineComposer().compose(request(max_words=30))
    assert cut.truncated and full.startswith(cut.text.split("\n\n")[0])
    assert cut.text.rstrip().endswith(".")


def test_each_tone_reads_differently_and_each_language_is_its_own():
    texts = {tone: OfflineComposer().compose(request(tone=tone)).text for tone in Tone}
    assert len(set(texts.values())) == len(Tone)
    english, french, german = (
        OfflineComposer().compose(request(language=language, kind=ContentKind.RELEASE_PITCH)).text
        for language in (Language.EN, Language.FR, Language.DE)
    )
    assert "released on 2 April 2021" in english
    assert "sorti le 2 avril 2021" in french and " and " not in french
    assert "erschien am 2. April 2021" in german and " and " not in german
    assert "12,500" in english and "12\u202f500" in french and "12.500" in german


def test_the_offline_composer_reads_the_facts_it_is_given():
    playlist = (
        OfflineComposer()
        .compose(request(SUBJECTS["playlist"], kind=ContentKind.PLAYLIST_DESCRIPTION, tone=Tone.PROFESSIONAL))
        .text
    )
    assert playlist == (
        "“Sunday Amapiano”: a carefully curated selection of amapiano and deep house. "
        "Featuring “Soft Landing” by Ada Costa and “Harbour” by Kojo Mensah. Curated by Lina."
    )
    bio = OfflineComposer().compose(request(SUBJECTS["playlist"])).text
    assert "Its description reads: “Slow grooves & late light”." in bio
    bare = OfflineComposer().compose(request(SUBJECTS["bare artist"], kind=ContentKind.SOCIAL_POST)).text
    assert bare.endswith("#KojoMensah")


async def test_create_provider_picks_the_provider_from_the_settings(llm):
    offline = create_provider(None, None, None)
    assert isinstance(offline, OfflineComposer)
    assert offline.name == "offline-template" and offline.model.startswith("offline-template@")
    online = create_provider(llm.base_url, API_KEY, "replay-model", tuning=ProviderTuning(max_attempts=1))
    try:
        assert isinstance(online, OpenAICompatibleProvider)
        assert (online.name, online.model) == ("openai-compatible", "replay-model")
        assert API_KEY not in repr(online)
        assert text_of(await collect(online)) == "".join(DEFAULT_PIECES)
    finally:
        await online.aclose()
    with pytest.raises(ValueError):
        create_provider(llm.base_url, None, None)


def test_prompt_is_the_provider_neutral_input():
    prompt = build_prompt(request())
    assert isinstance(prompt, Prompt) and prompt.template_version


# ---------------------------------------------------------------------------------------------
# Output checks


def test_blocked_terms_are_flagged_case_insensitively_on_whole_words():
    text = "Damn, this CLASS act is pure FIRE. Straße café, cafés, f*ck — Fire again!"
    flags = check_output(
        text, ["damn", "ass", "fire", "STRASSE", "Café", "f*ck", "pure   fire", "", "fire"], 100
    )
    assert [(flag.code, flag.detail) for flag in flags] == [
        (FlagCode.BLOCKED_TERM, "blocked term 'damn' appears once"),
        (FlagCode.BLOCKED_TERM, "blocked term 'fire' appears 2 times"),
        (FlagCode.BLOCKED_TERM, "blocked term 'STRASSE' appears once"),
        (FlagCode.BLOCKED_TERM, "blocked term 'Café' appears once"),
        (FlagCode.BLOCKED_TERM, "blocked term 'f*ck' appears once"),
        (FlagCode.BLOCKED_TERM, "blocked term 'pure   fire' appears once"),
    ]
    decomposed = "cafe\u0301 au lait"
    assert [f.code for f in check_output(decomposed, ["café"], 100)] == [FlagCode.BLOCKED_TERM]


def test_too_long_is_flagged_and_clean_text_has_no_flag():
    assert check_output("one two three", ["four"], 3) == []
    (flag,) = check_output("one two three four", [], 3)
    assert flag.code is FlagCode.TOO_LONG and flag.detail == "4 words, more than the limit of 3"
