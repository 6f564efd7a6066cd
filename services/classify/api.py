"""classify's HTTP face: POST /preview, what a saved or draft profile would have received.

Also GET /health (liveness), GET /ready (Kafka and the profile index answer, else 503) and
GET /metrics (services/classify/metrics.py and the shared ones).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import asdict

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from contracts import MatchReason, Profile
from services.classify import metrics  # noqa: F401  (registered at start: a dashboard shows zeros, not gaps)
from services.classify.classifier import Classifier
from services.classify.settings import ClassifySettings
from services.common.kafka import KafkaSettings
from services.common.ops import instrument
from services.common.readiness import kafka_check


class PreviewRequest(BaseModel):
    profile: Profile
    days: int = Field(default=7, ge=1, le=90)


class PreviewItem(BaseModel):
    item_id: str
    title: str
    url: str = ""
    source_id: str = ""
    published_at: str | None = None
    evidence_type: str = ""
    score: float
    reasons: list[MatchReason]


class PreviewResponse(BaseModel):
    items: list[PreviewItem]


def preview(classifier: Classifier, request: PreviewRequest) -> PreviewResponse:
    """The preview as a plain function (the same the endpoint serves)."""
    rows = classifier.preview(request.profile, request.days)
    return PreviewResponse(items=[PreviewItem(**asdict(r)) for r in rows])


def create_api(
    classifier: Classifier | None = None, settings: ClassifySettings | None = None, lock: asyncio.Lock | None = None,
    kafka: KafkaSettings | None = None,
) -> FastAPI:
    """The FastAPI app; builds its own Classifier (model and index) at startup unless given one.

    Given the classify app's classifier, pass the app's lock too: the index is not shared
    between threads, so a preview waits for the batch being classified, and vice versa.
    """
    lock = lock or asyncio.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = classifier is None
        if owned:
            from services.classify.bootstrap import build_classifier

            app.state.classifier = await run_in_threadpool(build_classifier, settings)
        else:
            app.state.classifier = classifier
        yield
        if owned:
            app.state.classifier.close()

    app = FastAPI(title="Horizon classify", lifespan=lifespan)
    app.state.classifier = classifier

    @app.post("/preview", response_model=PreviewResponse)
    async def post_preview(body: PreviewRequest) -> PreviewResponse:
        async with lock:
            return await run_in_threadpool(preview, app.state.classifier, body)

    @app.get("/profiles/{subscriber_id}")
    async def profile_state(subscriber_id: str) -> dict[str, object]:
        """Whether a subscriber's profile is in the index, at which version (404 if never seen)."""
        async with lock:
            held = app.state.classifier.table.subscribers.get(subscriber_id)
        if held is None:
            raise HTTPException(404, "no profile for this subscriber in the index")
        return {"subscriber_id": subscriber_id, "version": held.version, "deleted": held.deleted, "active": held.active}

    @app.get("/health")
    async def health() -> dict[str, object]:
        """Liveness, and how many profile points the index holds (None while the model loads)."""
        if app.state.classifier is None:
            return {"status": "ok", "profile_points": None}
        return {"status": "ok", "profile_points": app.state.classifier.table.point_count()}

    async def index_answers() -> None:
        classifier = app.state.classifier
        if classifier is None:
            raise RuntimeError("the index is not open yet (the model is loading)")
        if settings is not None and settings.index_backend == "client" and settings.qdrant_url:
            # a Qdrant server: its HTTP client may be shared between threads
            await run_in_threadpool(classifier.index.count)
            return
        async with lock:  # in process: the index is used by one thread at a time (waits for the batch in hand)
            await run_in_threadpool(classifier.index.count)

    kafka = kafka or KafkaSettings()
    return instrument(app, "classify", {"kafka": kafka_check(kafka.bootstrap_servers), "qdrant": index_answers})
