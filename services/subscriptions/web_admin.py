"""An admin's pages: organisations and librarians, from an empty installation onwards.

- /organisations: the admin's organisations and a form for a new one (the admin joins it);
- /librarians: the librarians of the admin's organisations, a form to add one (name, e-mail,
  role, a first password they change at /account, and their organisations), each librarian's
  organisations changed with checkboxes, and disabled or enabled with a button (web_account.py).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.subscriptions import accounts
from services.subscriptions.access import Problem
from services.subscriptions.models import Librarian
from services.subscriptions.passwords import password_problem
from services.subscriptions.web import DB, Form, Me, Web, page, redirect

router = APIRouter(include_in_schema=False)


def admin_only(me: Librarian) -> None:
    if me.role != "admin":
        raise HTTPException(403, "only an admin may manage organisations and librarians")


def _organisations_page(request: Request, db, me: Librarian, web, status: int = 200, **values) -> HTMLResponse:
    return page(request, "organisations.html", web, status=status,
                organisations=accounts.visible_organisations(db, me), **values)


@router.get("/organisations")
def organisations(request: Request, db: DB, me: Me, web: Web, created: str = "") -> HTMLResponse:
    admin_only(me)
    made = next((o.name for o in accounts.visible_organisations(db, me) if o.id == created), "")
    return _organisations_page(request, db, me, web, created=made)


@router.post("/organisations")
def create_organisation(request: Request, db: DB, me: Me, web: Web, form: Form) -> Response:
    admin_only(me)
    name = str(form.get("name", ""))[:300]
    if not name.strip():
        return _organisations_page(request, db, me, web, 422, errors={"name": "Enter the organisation's name."}, org_name=name)
    result = accounts.ensure_organisation(db, name, me)
    if isinstance(result, Problem):
        message = result.message[0].upper() + result.message[1:] + "."
        return _organisations_page(request, db, me, web, result.status, errors={"name": message}, org_name=name)
    return redirect(f"/organisations?created={result.id}")


def librarians_page(request: Request, db, me: Librarian, web, status: int = 200, **values) -> HTMLResponse:
    libs = accounts.visible_librarians(db, me)
    return page(request, "librarians.html", web, status=status, me=me, librarians=libs,
                organisations=accounts.visible_organisations(db, me),
                memberships=accounts.memberships(db, [lib.id for lib in libs]),
                values=values.pop("values", {"role": "librarian"}), errors=values.pop("errors", {}), **values)


def _field_of(message: str) -> str:
    low = message.lower()
    if "password" in low:
        return "password"
    if "e-mail" in low:
        return "email"
    if "organisation" in low:
        return "organisations"
    if "name" in low:
        return "name"
    return "form"


@router.get("/librarians")
def librarians(request: Request, db: DB, me: Me, web: Web, added: str = "", changed: str = "") -> HTMLResponse:
    admin_only(me)
    # the notices name a librarian of the admin's own list, by id: a link cannot make them say anything else
    emails = {lib.id: lib.email for lib in accounts.visible_librarians(db, me)}
    return librarians_page(request, db, me, web, added=emails.get(added, ""), changed=emails.get(changed, ""))


@router.post("/librarians/new")
def create_librarian(request: Request, db: DB, me: Me, web: Web, form: Form) -> Response:
    admin_only(me)
    values = {"name": str(form.get("name", ""))[:200].strip(), "email": str(form.get("email", ""))[:320].strip(),
              "role": str(form.get("role", "librarian")), "organisations": [str(o) for o in form.getlist("organisations")]}
    password = str(form.get("password", ""))[:1000]
    errors = {}
    if "@" not in values["email"]:
        errors["email"] = "Enter the librarian's e-mail address, like name@trust.nhs.uk."
    if not values["organisations"]:
        errors["organisations"] = "Choose at least one organisation the librarian works for."
    if problem := password_problem(password, values["email"]):
        errors["password"] = problem[0].upper() + problem[1:]
    if not errors:
        result = accounts.create_librarian(db, values["email"], password, values["role"], values["organisations"],
                                           values["name"], actor=me)
        if not isinstance(result, Problem):
            return redirect(f"/librarians?added={result.id}")
        errors[_field_of(result.message)] = result.message[0].upper() + result.message[1:] + "."
    return librarians_page(request, db, me, web, 422, values=values, errors=errors)


@router.post("/librarians/{librarian_id}/organisations")
def set_memberships(request: Request, db: DB, me: Me, web: Web, form: Form, librarian_id: str) -> Response:
    admin_only(me)
    result = accounts.set_memberships(db, me, librarian_id, {str(o) for o in form.getlist("organisations")})
    if isinstance(result, Problem):
        if result.status == 404:
            raise HTTPException(404, result.message)
        return librarians_page(request, db, me, web, result.status, membership_error=result.message,
                               membership_of=librarian_id)
    return redirect(f"/librarians?changed={result.id}")
