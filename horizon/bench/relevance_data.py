"""The routing benchmark's data set (topics, documents, judgements) and its cached embeddings.

Format: ../shared/data/README.md (relevance/dev). Document vectors take minutes to compute on a
CPU, so they are cached on disk outside the repository, keyed by model, truncation and data hash.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.classify.embedder import Embedder, item_text

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path.home() / ".cache" / "horizon" / "bench"


@dataclass(frozen=True)
class Topic:
    topic_id: str
    title: str
    statement: str
    seed_doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class RelevanceData:
    topics: list[Topic]
    doc_ids: list[str]
    titles: list[str]
    abstracts: list[str]
    qrels: dict[str, dict[str, int]]  # topic_id -> doc_id -> grade
    digest: str

    def text(self, i: int) -> str:
        return item_text(self.titles[i], self.abstracts[i])


def load(data_dir: Path) -> RelevanceData:
    """Read topics.jsonl, docs.jsonl.gz and qrels.tsv from one benchmark folder."""
    data_dir = Path(data_dir)
    h = hashlib.sha256()
    topics = []
    raw = (data_dir / "topics.jsonl").read_bytes()
    h.update(raw)
    for line in raw.decode("utf-8").splitlines():
        if line.strip():
            t = json.loads(line)
            topics.append(Topic(t["topic_id"], t.get("title", ""), t["statement"], tuple(t.get("seed_doc_ids", []))))
    doc_ids, titles, abstracts = [], [], []
    docs_raw = (data_dir / "docs.jsonl.gz").read_bytes()
    h.update(docs_raw)
    for line in gzip.decompress(docs_raw).decode("utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            doc_ids.append(d["doc_id"])
            titles.append(d.get("title") or "")
            abstracts.append(d.get("abstract") or "")
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate((data_dir / "qrels.tsv").read_text("utf-8").splitlines()):
        parts = line.split("\t")
        if len(parts) < 3 or (n == 0 and not parts[2].strip().lstrip("-").isdigit()):
            continue
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return RelevanceData(topics, doc_ids, titles, abstracts, qrels, h.hexdigest()[:16])


def cached_doc_vectors(data: RelevanceData, embedder: Embedder, cache_dir: Path | None = None) -> np.ndarray:
    """Every document's vector, from the cache (DEFAULT_CACHE unless given) when it holds this
    model, truncation and data."""
    safe = embedder.key.replace("/", "_").replace("@", "-")
    path = Path(cache_dir or DEFAULT_CACHE) / f"docs-{safe}-{data.digest}.npy"
    if path.exists():
        vectors = np.load(path)
        if vectors.shape == (len(data.doc_ids), embedder.dim):
            return vectors
    log.info("encoding benchmark documents", extra={"docs": len(data.doc_ids), "model": embedder.key})
    texts = [data.text(i) for i in range(len(data.doc_ids))]
    vectors = embedder.encode(texts, progress=sys.stderr.isatty()) if isinstance(embedder, Embedder) else embedder.encode(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors)
    tmp.replace(path)
    return vectors
