"""The SQL store of ingest: sources (with health and validators) and seen items.

`SqlStore("sqlite:///var/ingest.db")`, `SqlStore("sqlite://")` (in memory, tests and demo) or a
PostgreSQL URL. Tables are created on first use. Implements the `SeenItems` port of dedupe.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

from services.ingest.dedupe import KnownWork, SeenRecord
from services.ingest.identity import title_prefix
from services.ingest.tables import Alias, SeenItem, Sighting, Source, SourceCreate, SourceUpdate, as_utc

log = logging.getLogger(__name__)


def source_id_for(url: str) -> str:
    """A stable id for a source created without one: a short hash of its first URL."""
    return "src-" + hashlib.sha256(url.strip().encode()).hexdigest()[:12]


class SqlStore:
    """Sources and seen items in one SQL database."""

    def __init__(self, url: str) -> None:
        kwargs: dict = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool  # one shared in-memory database
            else:
                Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, **kwargs)
        SQLModel.metadata.create_all(self.engine, tables=[t.__table__ for t in (Source, SeenItem, Sighting, Alias)])

    # ---- sources -------------------------------------------------------------------------
    def add_source(self, new: SourceCreate) -> Source:
        """Store a new source; an existing id is an error the caller sees as ValueError."""
        data = new.model_dump(exclude={"id"})
        source = Source(id=new.id or source_id_for(new.url), **data)
        with Session(self.engine) as s:
            if s.get(Source, source.id) is not None:
                raise ValueError(f"a source with id {source.id!r} already exists")
            s.add(source)
            s.commit()
            s.refresh(source)
            return _aware(source)

    def get_source(self, source_id: str) -> Source | None:
        with Session(self.engine) as s:
            found = s.get(Source, source_id)
            return _aware(found) if found else None

    def find_by_url(self, url: str) -> Source | None:
        with Session(self.engine) as s:
            found = s.exec(select(Source).where(Source.url == url)).first()
            return _aware(found) if found else None

    def list_sources(self) -> list[Source]:
        with Session(self.engine) as s:
            return [_aware(x) for x in s.exec(select(Source).order_by(Source.title, Source.id))]

    def update_source(self, source_id: str, change: SourceUpdate) -> Source | None:
        with Session(self.engine) as s:
            found = s.get(Source, source_id)
            if found is None:
                return None
            for name, value in change.model_dump(exclude_unset=True).items():
                setattr(found, name, value)
            s.add(found)
            s.commit()
            s.refresh(found)
            return _aware(found)

    def remove_source(self, source_id: str) -> bool:
        with Session(self.engine) as s:
            found = s.get(Source, source_id)
            if found is None:
                return False
            s.delete(found)
            s.commit()
            return True

    def save_source(self, source: Source) -> None:
        """Write back a source whose health or validators changed."""
        with Session(self.engine) as s:
            s.merge(source)
            s.commit()

    def due_sources(self, now: datetime) -> list[Source]:
        """Enabled sources whose next attempt is now or past (or never scheduled)."""
        with Session(self.engine) as s:
            query = select(Source).where(Source.enabled == True).where(  # noqa: E712 (SQL)
                or_(Source.next_attempt_at == None, Source.next_attempt_at <= now))  # noqa: E711
            return [_aware(x) for x in s.exec(query.order_by(Source.next_attempt_at))]

    # ---- seen items (the SeenItems port) -----------------------------------------------------
    def known(self, item_id: str) -> KnownWork | None:
        with Session(self.engine) as s:
            row = s.get(SeenItem, item_id)
            return _work(row) if row else None

    def alias_of(self, item_id: str) -> str | None:
        with Session(self.engine) as s:
            row = s.get(Alias, item_id)
            return row.item_id if row else None

    def title_candidates(self, prefix: str) -> list[KnownWork]:
        with Session(self.engine) as s:
            rows = s.exec(select(SeenItem).where(SeenItem.title_prefix == prefix).limit(50))
            return [_work(r) for r in rows]

    def sighting(self, item_id: str, source_id: str) -> str | None:
        with Session(self.engine) as s:
            row = s.get(Sighting, (item_id, source_id))
            return row.content_hash if row else None

    def record_seen(self, records: Iterable[SeenRecord]) -> int:
        """Store decisions carried out (call after their publish succeeded); idempotent."""
        count = 0
        with Session(self.engine) as s:
            for rec in records:
                count += 1
                row = s.get(SeenItem, rec.item_id)
                if row is None:
                    row = SeenItem(item_id=rec.item_id, source_id=rec.source_id, title_key=rec.title_key,
                                   title_prefix=title_prefix(rec.title_key), doi=rec.doi,
                                   content_hash=rec.content_hash, revision=rec.revision,
                                   first_seen_at=rec.seen_at, last_seen_at=rec.seen_at)
                else:
                    row.revision = max(row.revision, rec.revision)
                    row.doi = row.doi or rec.doi
                    row.last_seen_at = rec.seen_at
                    if rec.revision > 0:
                        row.content_hash = rec.content_hash
                s.add(row)
                sighting = s.get(Sighting, (rec.item_id, rec.source_id))
                if sighting is None:
                    s.add(Sighting(item_id=rec.item_id, source_id=rec.source_id, content_hash=rec.content_hash))
                else:
                    sighting.content_hash = rec.content_hash
                    s.add(sighting)
                if rec.alias_id and s.get(Alias, rec.alias_id) is None:
                    s.add(Alias(alias_id=rec.alias_id, item_id=rec.item_id))
                s.flush()
            s.commit()
        return count

    def count_seen(self) -> int:
        with Session(self.engine) as s:
            return len(s.exec(select(SeenItem.item_id)).all())


def _work(row: SeenItem) -> KnownWork:
    return KnownWork(row.item_id, row.source_id, row.title_key, row.doi, row.revision)


def _aware(source: Source) -> Source:
    for name in ("last_attempt_at", "last_success_at", "last_error_at", "next_attempt_at", "created_at"):
        setattr(source, name, as_utc(getattr(source, name)))
    return source
