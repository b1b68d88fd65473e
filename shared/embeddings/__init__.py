"""Sentence embeddings for every subgraph that needs meaning (search, ai): the offline MiniLM
model loaded once per process off the request path, and the platform-wide cache of vectors by
(model version, content hash), so a text is embedded once whoever asks."""

from shared.embeddings.cache import cached_embeddings, text_hash
from shared.embeddings.encoder import DIMENSIONS, SentenceEncoder, model_version, sentence_encoder
from shared.embeddings.texts import catalogue_text

__all__ = [
    "DIMENSIONS",
    "SentenceEncoder",
    "cached_embeddings",
    "catalogue_text",
    "model_version",
    "sentence_encoder",
    "text_hash",
]
