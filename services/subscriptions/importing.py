"""Bulk import and export of the subscribers file (YAML or CSV).

Each row is validated on its own: a bad row is reported (row number, e-mail, reason) and the
valid rows are kept. A subscriber is identified by e-mail within the organisation: an import
creates new ones and updates existing ones (an unsubscribed person stays unsubscribed).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlmodel import Session, select

from services.subscriptions import fileformat, profiles, vocabulary
from services.subscriptions.access import Problem
from services.subscriptions.accounts import ensure_organisation
from services.subscriptions.models import Librarian, Organisation, ProfileRow, Subscriber
from services.subscriptions.schemas import ImportReport, RowError, SubscriberFields
from services.subscriptions.usecases import emit_change, is_board_recipient, profile_of, resolve_organisation, set_board

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024


def _message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors(include_url=False)
    )


def _organisation(session: Session, parsed: fileformat.ParsedFile, organisation_id: str | None, actor: Librarian | None) -> str | Problem:
    if parsed.organisation is None:
        return resolve_organisation(session, actor, organisation_id)
    org = ensure_organisation(session, parsed.organisation, actor)
    if isinstance(org, Problem):
        return org
    if organisation_id is not None and organisation_id != org.id:
        return Problem(422, "the file names another organisation than the one chosen")
    return org.id


def import_subscribers(session: Session, data: bytes, fmt: str, organisation_id: str | None, actor: Librarian | None) -> ImportReport:
    """Create or update the file's subscribers in one organisation; bad rows become RowErrors."""
    if len(data) > MAX_FILE_BYTES:
        return ImportReport(errors=[RowError(row=0, message=f"the file is larger than {MAX_FILE_BYTES} bytes")])
    parsed = fileformat.parse(data, fmt)
    report = ImportReport(errors=list(parsed.errors))
    if parsed.errors and not parsed.rows:
        return report
    org_id = _organisation(session, parsed, organisation_id, actor)
    if isinstance(org_id, Problem):
        report.errors.insert(0, RowError(row=0, message=org_id.message))
        return report
    report.organisation_id = org_id
    existing = {s.email_key: s for s in session.exec(select(Subscriber).where(Subscriber.organisation_id == org_id)).all()}
    seen: set[str] = set()
    for number, raw in parsed.rows:
        email = str(raw.get("email", ""))
        try:
            fields = SubscriberFields.model_validate(raw)
        except ValidationError as exc:
            report.errors.append(RowError(row=number, email=email, message=_message(exc)))
            continue
        if fields.topics:
            ids, problem = vocabulary.checked_topics(list(fields.topics))
            if problem:
                report.errors.append(RowError(row=number, email=email, message=problem))
                continue
            fields = fields.model_copy(update={"topics": ids})
        key = fields.email.lower()
        if key in seen:
            report.errors.append(RowError(row=number, email=email, message="the same e-mail appears earlier in the file"))
            continue
        seen.add(key)
        sub = existing.get(key)
        if sub is None:
            sub = Subscriber(organisation_id=org_id, name=fields.name, email=fields.email, email_key=key)
            session.add(sub)
            session.flush()
            prof = ProfileRow(subscriber_id=sub.id)
            profiles.apply_fields(sub, prof, fields.model_dump(exclude={"board_briefing"}))
            set_board(session, sub, bool(fields.board_briefing))
            emit_change(session, sub, prof)
            report.created += 1
        else:
            prof = profile_of(session, sub)
            changed = profiles.apply_fields(sub, prof, fields.model_dump(exclude={"board_briefing"}))
            if fields.board_briefing is not None:
                changed = set_board(session, sub, fields.board_briefing) or changed
            if changed:
                emit_change(session, sub, prof)
                report.updated += 1
            else:
                report.unchanged += 1
    session.commit()
    report.errors.sort(key=lambda e: e.row)
    log.info("subscribers imported", extra={"organisation_id": org_id, "created_count": report.created,
                                            "updated": report.updated, "errors": len(report.errors)})
    return report


def export_subscribers(session: Session, organisation_id: str, fmt: str, actor: Librarian | None) -> bytes | Problem:
    """The organisation's active subscribers as a subscribers file that import reads back."""
    org_id = resolve_organisation(session, actor, organisation_id)
    if isinstance(org_id, Problem):
        return org_id
    if fmt not in ("yaml", "csv"):
        return Problem(422, "format is yaml or csv")
    org = session.get(Organisation, org_id)
    subs = session.exec(
        select(Subscriber).where(Subscriber.organisation_id == org_id, Subscriber.status == "active").order_by(Subscriber.name)
    ).all()
    rows = [profiles.file_row(s, profile_of(session, s)) | {"board_briefing": is_board_recipient(session, s)}
            for s in subs]
    return fileformat.dump_yaml(org.name, rows) if fmt == "yaml" else fileformat.dump_csv(rows)
