"""Organisations and librarians: creating them, the bootstrap admin, who sees which organisation,
and an admin disabling (or enabling again) a librarian of their organisations."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.subscriptions.access import Problem, scope
from services.subscriptions import auth, sessions
from services.subscriptions.auth import hash_password, organisation_ids
from services.subscriptions.characters import single_line_problem
from services.subscriptions.models import Librarian, Membership, Organisation
from services.subscriptions.passwords import password_problem

log = logging.getLogger(__name__)


def ensure_organisation(session: Session, name: str, actor: Librarian | None = None) -> Organisation | Problem:
    """The organisation of that name, created if new (by the system or an admin, who joins it)."""
    name = name.strip()
    if not name or len(name) > 200:
        return Problem(422, "an organisation needs a name of 1 to 200 characters")
    if problem := single_line_problem(name):
        return Problem(422, f"the organisation's name {problem}")
    org = session.exec(select(Organisation).where(Organisation.name == name)).first()
    if org is not None:
        if actor is not None and org.id not in organisation_ids(session, actor):
            return Problem(403, f"you do not act for the organisation {name!r}")
        return org
    if actor is not None and actor.role != "admin":
        return Problem(403, "only an admin may create an organisation")
    org = Organisation(name=name)
    session.add(org)
    session.flush()
    if actor is not None:
        session.add(Membership(librarian_id=actor.id, organisation_id=org.id))
    session.commit()
    log.info("organisation created", extra={"organisation_id": org.id})
    return org


def create_librarian(
    session: Session, email: str, password: str, role: str = "librarian",
    organisations: list[str] = (), name: str = "", actor: Librarian | None = None,
) -> Librarian | Problem:
    """A librarian (or admin) of some organisations; an admin actor can only grant their own."""
    if role not in ("admin", "librarian"):
        return Problem(422, "role is 'admin' or 'librarian'")
    if actor is not None and actor.role != "admin":
        return Problem(403, "only an admin may add librarians")
    if problem := password_problem(password, email):
        return Problem(422, problem)
    for field, value in (("e-mail", email), ("name", name)):
        if problem := single_line_problem(value):
            return Problem(422, f"the librarian's {field} {problem}")
    allowed = scope(session, actor)
    if allowed is not None and not set(organisations) <= allowed:
        return Problem(404, "organisation not found")
    email = email.strip().lower()
    if session.exec(select(Librarian).where(Librarian.email == email)).first() is not None:
        return Problem(409, "a librarian with that e-mail already exists")
    for org_id in organisations:
        if session.get(Organisation, org_id) is None:
            return Problem(404, "organisation not found")
    librarian = Librarian(email=email, name=name, role=role, password_hash=hash_password(password))
    session.add(librarian)
    session.flush()
    for org_id in organisations:
        session.add(Membership(librarian_id=librarian.id, organisation_id=org_id))
    session.commit()
    return librarian


def ensure_bootstrap_admin(session: Session, email: str, password: str) -> Librarian | None:
    """At first start (no librarian yet) create the admin named in the settings."""
    if session.exec(select(Librarian)).first() is not None:
        return None
    try:
        created = create_librarian(session, email, password, role="admin")
    except IntegrityError:  # another process (the API beside the relay) created it first
        session.rollback()
        log.info("bootstrap admin already created by another process")
        return None
    if isinstance(created, Problem):
        log.error("bootstrap admin refused", extra={"reason": created.message})
        return None
    log.info("bootstrap admin created", extra={"librarian_id": created.id})
    return created


def visible_organisations(session: Session, actor: Librarian | None) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.name)
    allowed = scope(session, actor)
    if allowed is not None:
        query = query.where(Organisation.id.in_(allowed))
    return list(session.exec(query).all())


def visible_librarians(session: Session, actor: Librarian) -> list[Librarian]:
    """The librarians who share an organisation with the actor (an admin's list), by e-mail."""
    mine = organisation_ids(session, actor)
    if not mine:
        return [actor]
    ids = select(Membership.librarian_id).where(Membership.organisation_id.in_(mine))  # type: ignore[attr-defined]
    return list(session.exec(select(Librarian).where(Librarian.id.in_(ids)).order_by(Librarian.email)).all())  # type: ignore[attr-defined]


def set_active(session: Session, actor: Librarian, librarian_id: str, active: bool) -> Librarian | Problem:
    """An admin disables or enables a librarian all of whose organisations are the admin's own.

    Disabling ends every web session of theirs and revokes their API tokens (enabling again does
    not bring the tokens back); they cannot log in until enabled.
    """
    if actor.role != "admin":
        return Problem(403, "only an admin may disable or enable librarians")
    target = session.get(Librarian, librarian_id)
    theirs = organisation_ids(session, target) if target else set()
    mine = organisation_ids(session, actor)
    if target is None or not theirs or not theirs <= mine:
        return Problem(404, "librarian not found")
    if target.id == actor.id:
        return Problem(422, "you cannot disable yourself")
    target.active = active
    session.add(target)
    session.commit()
    if not active:
        sessions.end_all(session, target.id)
        auth.revoke_all_tokens(session, target.id)
    log.info("librarian enabled" if active else "librarian disabled", extra={"librarian_id": target.id, "actor_id": actor.id})
    return target


def memberships(session: Session, librarian_ids: list[str]) -> dict[str, set[str]]:
    """Each librarian's organisation ids."""
    out: dict[str, set[str]] = {i: set() for i in librarian_ids}
    for row in session.exec(select(Membership).where(Membership.librarian_id.in_(librarian_ids))).all():  # type: ignore[attr-defined]
        out[row.librarian_id].add(row.organisation_id)
    return out


def set_memberships(session: Session, actor: Librarian, librarian_id: str, wanted: set[str]) -> Librarian | Problem:
    """An admin sets which of the admin's own organisations a librarian belongs to; memberships of
    organisations the admin does not act for are left as they are. A librarian keeps at least one."""
    if actor.role != "admin":
        return Problem(403, "only an admin may change which organisations a librarian belongs to")
    mine = organisation_ids(session, actor)
    target = session.get(Librarian, librarian_id)
    if target is None or not (organisation_ids(session, target) & mine or target.id == actor.id):
        return Problem(404, "librarian not found")
    if not wanted <= mine:
        return Problem(404, "organisation not found")
    theirs = organisation_ids(session, target)
    if not (theirs - mine) | wanted:
        return Problem(422, "A librarian must belong to at least one organisation.")
    if target.id == actor.id and not wanted:
        return Problem(422, "You cannot take yourself out of every organisation.")
    for org_id in mine:
        row = session.get(Membership, (target.id, org_id))
        if org_id in wanted and row is None:
            session.add(Membership(librarian_id=target.id, organisation_id=org_id))
        elif org_id not in wanted and row is not None:
            session.delete(row)
    session.commit()
    log.info("memberships changed", extra={"librarian_id": target.id, "actor_id": actor.id})
    return target

