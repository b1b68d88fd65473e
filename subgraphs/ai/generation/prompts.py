"""The chat prompt for a generation request: a system message with the rules (ground every
statement in the facts, the language, the tone, the word limit, the shape of the kind) and a
user message holding the facts exactly as given, as JSON. `PROMPT_TEMPLATE_VERSION` changes
whenever the wording here does, so stored outputs say which prompt wrote them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from subgraphs.ai.generation.base import (
    ChatMessage,
    ContentKind,
    GenerationRequest,
    Language,
    Prompt,
    Tone,
)

PROMPT_TEMPLATE_VERSION = "2026-12-07.1"

LANGUAGE_NAMES: Mapping[Language, str] = {
    Language.EN: "English",
    Language.FR: "French (français)",
    Language.DE: "German (Deutsch)",
}

KIND_BRIEFS: Mapping[ContentKind, str] = {
    ContentKind.ARTIST_BIO: (
        "an artist biography in the third person, in flowing prose: who the subject is, "
        "their sound, their notable tracks and releases, their audience"
    ),
    ContentKind.RELEASE_PITCH: (
        "a pitch of the release to playlist curators and music journalists: what it is, "
        "when it came out, who it will appeal to, and why it deserves a listen"
    ),
    ContentKind.SOCIAL_POST: (
        "a short social media post in the voice of the artist's team, ending with a few "
        "hashtags made only from the genres and names in the facts"
    ),
    ContentKind.PLAYLIST_DESCRIPTION: (
        "a playlist description of one to three sentences: the mood, the genres, and a few "
        "of the tracks or artists it features"
    ),
    ContentKind.LYRICS_DRAFT: (
        "a first draft of song lyrics: a verse and a chorus, labelled [Verse] and [Chorus], "
        "built from the words of the subject (its name, track and album names, genres)"
    ),
    ContentKind.PRESS_RELEASE: (
        "a press release: a headline, a body in the third person with the facts that make "
        "the news, and an 'About' paragraph on the subject; no quotes, no contact details"
    ),
}

TONE_BRIEFS: Mapping[Tone, str] = {
    Tone.WARM: "warm and heartfelt",
    Tone.PROFESSIONAL: "professional and precise",
    Tone.PLAYFUL: "playful and light",
    Tone.BOLD: "bold and confident",
}


def build_prompt(request: GenerationRequest) -> Prompt:
    """The messages for `request`. The facts go into the user message unchanged (every key,
    every value), so the model sees exactly what the caller gave and nothing else."""
    system = "\n".join(
        [
            "You write copy for music artists and their teams.",
            f"Write {KIND_BRIEFS[request.kind]}.",
            f"Write in {LANGUAGE_NAMES[request.language]} only.",
            f"Tone: {TONE_BRIEFS[request.effective_tone]}.",
            f"Use at most {request.max_words} words.",
            "Ground every statement in the facts given by the user. Do not invent anything that "
            "is not in them: no awards, chart positions, numbers, dates, places, collaborators, "
            "labels, quotes or events. Leave out whatever the facts do not say.",
            "Answer with the text only: no preamble, no notes, no markdown headings.",
        ]
    )
    subject_type = request.subject.get("type", "subject")
    user = (
        f"Facts about the {subject_type}, as JSON:\n"
        f"{json.dumps(request.facts, ensure_ascii=False, sort_keys=True, indent=2)}"
    )
    messages = (ChatMessage("system", system), ChatMessage("user", user))
    return Prompt(messages=messages, template_version=PROMPT_TEMPLATE_VERSION, hash=prompt_hash(messages))


def prompt_hash(messages: Iterable[ChatMessage]) -> str:
    """sha256 (hex) of the canonical JSON of the messages: keys sorted, no spaces, UTF-8."""
    wire: list[dict[str, Any]] = [message.to_wire() for message in messages]
    canonical = json.dumps(wire, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
