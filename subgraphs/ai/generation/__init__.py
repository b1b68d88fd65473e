"""Content generation for the ai subgraph, without GraphQL or persistence: requests and
prompts, an OpenAI-compatible streaming provider, an offline composer, and output checks."""

from subgraphs.ai.generation.base import (
    MAX_WORDS,
    MIN_WORDS,
    ChatMessage,
    ContentKind,
    GenerationProvider,
    GenerationRequest,
    Language,
    Prompt,
    ProviderError,
    ProviderRateLimited,
    ProviderTuning,
    ProviderUnavailable,
    StreamChunk,
    StreamInterrupted,
    SubjectWithoutData,
    Tone,
    Usage,
    create_provider,
)
from subgraphs.ai.generation.offline import OFFLINE_TEMPLATE_VERSION, OfflineComposer
from subgraphs.ai.generation.openai_compatible import OpenAICompatibleProvider
from subgraphs.ai.generation.prompts import PROMPT_TEMPLATE_VERSION, build_prompt, prompt_hash
from subgraphs.ai.generation.safety import Flag, FlagCode, check_output, count_words

__all__ = [
    "MAX_WORDS",
    "MIN_WORDS",
    "OFFLINE_TEMPLATE_VERSION",
    "PROMPT_TEMPLATE_VERSION",
    "ChatMessage",
    "ContentKind",
    "Flag",
    "FlagCode",
    "GenerationProvider",
    "GenerationRequest",
    "Language",
    "OfflineComposer",
    "OpenAICompatibleProvider",
    "Prompt",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderTuning",
    "ProviderUnavailable",
    "StreamChunk",
    "StreamInterrupted",
    "SubjectWithoutData",
    "Tone",
    "Usage",
    "build_prompt",
    "check_output",
    "count_words",
    "create_provider",
    "prompt_hash",
]
