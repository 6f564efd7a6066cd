"""The HTTP API of ingest (FastAPI): sources and their health, OPML import and export.

`create_api(settings=None, store=None) -> FastAPI`; the librarian UI calls it, `horizon up`
serves it (uvicorn) on `HORIZON_INGEST_API_HOST:HORIZON_INGEST_API_PORT`.

Every route but /health, /ready and /metrics needs a caller's service key (services/common/
service_auth.py: `Authorization: Bearer <HORIZON_INGEST_SUBSCRIPTIONS_KEY>`); bodies are JSON
(application/json) except the OPML import's XML, and none is read past `max_request_bytes`.
/docs and /openapi.json are served in development mode only.

- GET /sources: every source with its health (last success, last error kind and message,
  consecutive failures, next attempt) and the works first seen from it in the last 30 days;
  POST /sources; GET, PATCH, DELETE /sources/{id}; GET /sources/{id}/recent: those works' ids
- POST /sources/preview {"url": ...}: the feed fetched once (title, entries, newest item, or why
  it failed), nothing stored: what a librarian sees before adding it
- POST /sources/opml (an OPML document as the body: text/x-opml, application/xml or text/xml); GET /sources/opml
- GET /health: the service's own state and how many sources are failing (liveness)
- GET /ready: 200 when the database and Kafka answer, else 503 naming which did not
- GET /metrics: Prometheus metrics of the whole process (services/ingest/metrics.py)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Body, FastAPI, HTTPException, Response

from services.common.http_guard import BodyTypes, api_docs
from services.common.kafka import KafkaSettings
from services.common.ops import instrument
from services.common.readiness import kafka_check, sql_check
from services.common.service_auth import DOC_PATHS, OPEN_PATHS, ServiceAuth, ServiceKeys
from services.ingest import metrics  # noqa: F401  (registered at start: a dashboard shows zeros, not gaps)
from services.ingest.health import is_healthy
from services.ingest.fetcher import make_client
from services.ingest.opml import OpmlError, parse_opml
from services.ingest.preview import FeedPreview, PreviewRequest, preview_feed
from services.ingest.settings import IngestSettings
from services.ingest.sources import export_opml, import_outlines
from services.ingest.store import SqlStore
from services.ingest.tables import Source, SourceCreate, SourcePublic, SourceUpdate


def public(source: Source, items_30d: int = 0) -> SourcePublic:
    """A stored source as the API shows it."""
    data = source.model_dump(exclude={"etag", "last_modified", "created_at"})
    status = "disabled" if not source.enabled else ("failing" if source.consecutive_failures else "ok")
    last_error = f"{source.last_error_kind}: {source.last_error_message}" if source.last_error_kind else None
    return SourcePublic(**data, source_id=source.id, healthy=is_healthy(source), status=status,
                        last_error=last_error, items_30d=items_30d)


#: The media types an OPML document is accepted as (what browsers' forms cannot send).
OPML_TYPES = ("text/x-opml", "application/xml", "text/xml", "application/x-opml+xml")


def _month_ago() -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=30)


def sources_router(store: SqlStore, settings: IngestSettings | None = None) -> APIRouter:
    router = APIRouter(tags=["sources"])
    settings = settings or IngestSettings()

    @router.get("/sources", response_model=list[SourcePublic])
    def list_sources() -> list[SourcePublic]:
        counts = store.recent_counts(_month_ago())
        return [public(s, counts.get(s.id, 0)) for s in store.list_sources()]

    @router.post("/sources/preview", response_model=FeedPreview)
    async def preview_source(body: PreviewRequest) -> FeedPreview:
        async with make_client(settings) as client:
            return await preview_feed(client, body.url, settings, datetime.now(timezone.utc))

    @router.get("/sources/{source_id}/recent")
    def recent_items(source_id: str) -> dict[str, list[str]]:
        if store.get_source(source_id) is None:
            raise HTTPException(404, "no such source")
        return {"item_ids": store.recent_item_ids(source_id, _month_ago())}

    @router.post("/sources", response_model=SourcePublic, status_code=201)
    def add_source(new: SourceCreate) -> SourcePublic:
        if store.find_by_url(new.url):
            raise HTTPException(409, "a source with this URL already exists")
        try:
            return public(store.add_source(new))
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc

    @router.get("/sources/opml", response_class=Response)
    def get_opml() -> Response:
        return Response(export_opml(store.list_sources()), media_type="text/x-opml")

    @router.post("/sources/opml")
    def post_opml(document: bytes = Body(..., media_type="text/x-opml")) -> dict[str, list[str]]:
        try:
            outlines = parse_opml(document)
        except OpmlError as exc:
            raise HTTPException(422, str(exc)) from exc
        report = import_outlines(store, [o for o in outlines if "://" in o.xml_url])
        return {"added": report.added, "skipped": report.skipped, "invalid": report.invalid}

    @router.get("/sources/{source_id}", response_model=SourcePublic)
    def get_source(source_id: str) -> SourcePublic:
        found = store.get_source(source_id)
        if found is None:
            raise HTTPException(404, "no such source")
        return public(found, store.recent_counts(_month_ago()).get(source_id, 0))

    @router.patch("/sources/{source_id}", response_model=SourcePublic)
    def edit_source(source_id: str, change: SourceUpdate) -> SourcePublic:
        updated = store.update_source(source_id, change)
        if updated is None:
            raise HTTPException(404, "no such source")
        return public(updated)

    @router.delete("/sources/{source_id}", status_code=204)
    def remove_source(source_id: str) -> Response:
        if not store.remove_source(source_id):
            raise HTTPException(404, "no such source")
        return Response(status_code=204)

    @router.get("/health")
    def health() -> dict[str, object]:
        sources = store.list_sources()
        failing = [s.id for s in sources if s.enabled and s.consecutive_failures > 0]
        return {"status": "ok", "sources": len(sources), "enabled": sum(s.enabled for s in sources),
                "failing": failing}

    return router


def create_api(settings: IngestSettings | None = None, store: SqlStore | None = None,
               kafka: KafkaSettings | None = None) -> FastAPI:
    """The ingest HTTP API over the store named by the settings (or the store given); refuses
    (InsecureKey) to be built with a default key outside development mode."""
    settings = settings or IngestSettings()
    settings.check_api_keys()
    store = store or SqlStore(settings.database_url)
    api = FastAPI(title="Horizon ingest", version="1", max_body_size=settings.max_request_bytes,
                  **api_docs(settings.dev))
    api.include_router(sources_router(store, settings))
    kafka = kafka or KafkaSettings()
    instrument(api, "ingest", {"database": sql_check(store.engine.connect),
                               "kafka": kafka_check(kafka)})
    api.add_middleware(BodyTypes, by_path={"/sources/opml": OPML_TYPES})  # JSON, but for the OPML import
    # added last, so outermost: a request without a key is refused before anything reads it
    api.add_middleware(ServiceAuth, keys=ServiceKeys({"subscriptions": settings.subscriptions_key}), service="ingest",
                       open_paths=OPEN_PATHS | (DOC_PATHS if settings.dev else frozenset()))
    return api
