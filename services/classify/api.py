"""classify's HTTP face: POST /preview, what a saved or draft profile would have received.

Also GET /profiles/{subscriber_id} (a profile's state), /health, /ready (Kafka and the index
answer, else 503) and /metrics. Every route but the last three needs the caller's service key
(`Authorization: Bearer <HORIZON_CLASSIFY_SUBSCRIPTIONS_KEY>`). A preview's JSON body is read up
to `max_request_bytes` (413), and its profile must fit LIST_LIMITS and TEXT_LIMIT (422: those a
librarian's profile meets anyway, subscriptions' own, with room for abstracts), so that no preview
holds the index long; /ready does not wait behind a preview or a batch. /docs only in development.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field, model_validator
from starlette.concurrency import run_in_threadpool

from contracts import Profile
from services.classify import metrics  # noqa: F401  (registered at start: a dashboard shows zeros, not gaps)
from services.classify.classifier import Classifier, PreviewMatch
from services.classify.settings import ClassifySettings
from services.common.http_guard import BodyTypes, api_docs
from services.common.kafka import KafkaSettings
from services.common.ops import instrument
from services.common.readiness import kafka_check
from services.common.service_auth import DOC_PATHS, OPEN_PATHS, ServiceAuth, ServiceKeys

#: field -> (most entries, most characters in one entry)
LIST_LIMITS: dict[str, tuple[int, int]] = {
    "interests": (50, 1000),
    "exclude": (50, 1000),
    "topics": (100, 200),
    "sources": (100, 200),
    "examples": (50, 500),
    "example_texts": (50, 8000),
    "liked": (100, 300),
    "disliked": (100, 300),
    "content_types": (50, 100),
}
#: the profile's single strings (name, e-mail, role, organisation name)
TEXT_LIMIT = 1000


class PreviewRequest(BaseModel):
    profile: Profile
    days: int = Field(default=7, ge=1, le=90)

    @model_validator(mode="after")
    def _profile_fits(self) -> "PreviewRequest":
        """Refused, saying what is too large, unless the profile fits the limits above."""
        problems = []
        for name, (most, chars) in LIST_LIMITS.items():
            values = [str(v) for v in getattr(self.profile, name)]
            if len(values) > most:
                problems.append(f"profile.{name} has {len(values)} entries; at most {most}")
            longest = max((len(v) for v in values), default=0)
            if longest > chars:
                problems.append(f"profile.{name} has an entry of {longest} characters; at most {chars}")
        problems += [f"profile.{name} is longer than {TEXT_LIMIT} characters"
                     for name in ("name", "email", "role", "organisation_name") if len(getattr(self.profile, name)) > TEXT_LIMIT]
        if problems:
            raise ValueError("profile too large for a preview: " + "; ".join(problems))
        return self


class PreviewResponse(BaseModel):
    items: list[PreviewMatch]


def create_api(classifier: Classifier | None = None, settings: ClassifySettings | None = None,
               lock: asyncio.Lock | None = None, kafka: KafkaSettings | None = None) -> FastAPI:
    """The FastAPI app; builds its own Classifier (model and index) at startup unless given one.

    Given the classify app's classifier, pass the app's lock too: the index is not shared
    between threads, so a preview waits for the batch being classified, and vice versa.
    """
    lock = lock or asyncio.Lock()
    settings = settings or ClassifySettings()
    settings.check_api_keys()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = classifier is None
        if owned:
            from services.classify.bootstrap import build_classifier

            app.state.classifier = await run_in_threadpool(build_classifier, settings)
        yield
        if owned:
            app.state.classifier.close()

    app = FastAPI(title="Horizon classify", lifespan=lifespan, max_body_size=settings.max_request_bytes,
                  **api_docs(settings.dev))
    app.state.classifier = classifier

    @app.post("/preview", response_model=PreviewResponse)
    async def post_preview(body: PreviewRequest) -> PreviewResponse:
        async with lock:
            rows = await run_in_threadpool(app.state.classifier.preview, body.profile, body.days)
        return PreviewResponse(items=rows)

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
        if settings.index_backend == "client" and settings.qdrant_url:
            # a Qdrant server: its HTTP client may be shared between threads
            await run_in_threadpool(classifier.index.count)
            return
        if lock.locked():
            # in process, the index is used by one thread at a time: a batch or a preview has it now,
            # which shows it answers; waiting behind them would make /ready as slow as they are
            return
        async with lock:
            await run_in_threadpool(classifier.index.count)

    kafka = kafka or KafkaSettings()
    instrument(app, "classify", {"kafka": kafka_check(kafka), "qdrant": index_answers})
    app.add_middleware(BodyTypes)  # JSON bodies only
    # added last, so outermost: a request without a key is refused before anything reads it
    app.add_middleware(ServiceAuth, keys=ServiceKeys({"subscriptions": settings.subscriptions_key}),
                       service="classify", open_paths=OPEN_PATHS | (DOC_PATHS if settings.dev else frozenset()))
    return app
