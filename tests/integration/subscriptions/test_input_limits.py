"""Input limits at the edges of the web app: form bodies refused before they are read or spooled,
names with control characters refused by the API, the UI, imports and account forms."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import new_subscriber
from .test_security import login

MiB = 1024 * 1024


async def _post_streaming(app, path: str, total: int, content_type: str, with_length: bool) -> tuple[int, int]:
    """POST `total` bytes in 64 KiB chunks straight to the ASGI app; (status, bytes it pulled)."""
    pulled = 0
    chunk = b"x" * (64 * 1024)
    # a multipart body is one file part: what Starlette would spool to disk as it arrives
    head = (b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n") if content_type.startswith("multipart") else b""
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        if pulled >= total:
            return {"type": "http.request", "body": b"", "more_body": False}
        body = head + chunk if pulled == 0 else chunk
        pulled += len(body)
        return {"type": "http.request", "body": body, "more_body": pulled < total}

    async def send(message):
        sent.append(message)

    headers = [(b"content-type", content_type.encode()), (b"host", b"testserver")]
    if with_length:
        headers.append((b"content-length", str(total).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "root_path": "", "app": app,
             "state": {}}
    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start"), pulled


@pytest.mark.parametrize("with_length", [True, False])
@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=xyz", "application/x-www-form-urlencoded"])
def test_an_oversized_login_post_is_refused_before_it_is_read(client, with_length, content_type):
    status, pulled = asyncio.run(_post_streaming(client.app, "/login", 300 * MiB, content_type, with_length))
    assert status == 413
    assert pulled <= 2 * MiB  # never the 300 MB: refused on its length, or as soon as it passed the limit


def test_every_form_has_the_limit_and_the_import_page_a_larger_one(client, world):
    csrf = login(client, world.a.email)
    refused = client.post("/subscribers/new", data={"csrf_token": csrf, "name": "x" * (2 * MiB), "email": "a@b.example"})
    assert refused.status_code == 413
    fine = client.post("/import", data={"csrf_token": csrf},
                       files={"file": ("s.yaml", b"subscribers: []\n" + b"#" * MiB + b"\n", "application/yaml")})
    assert fine.status_code != 413


def test_control_characters_in_names_are_refused_everywhere(client, world):
    h = world.a.headers
    for bad in ("Asha\r\nBcc: x@evil.example", "Asha\x00", "Asha \u202eretsinimda"):
        response = client.post("/api/subscribers", headers=h, json={"name": bad, "email": "a@example.nhs.uk"})
        assert response.status_code == 422 and "name" in str(response.json()["detail"][0]["loc"])
    sid = new_subscriber(client, world.a)["id"]
    assert client.patch(f"/api/subscribers/{sid}", headers=h, json={"role": "Nurse\nBcc: x"}).status_code == 422
    report = client.post("/api/import", params={"format": "csv"}, headers=h,
                         content=b'name,email\r\n"Bad\rName",bad@example.nhs.uk\r\nGood,good@example.nhs.uk\r\n').json()
    assert report["created"] == 1 and "control" in report["errors"][0]["message"]
    csrf = login(client, world.a.email)
    form = client.post("/subscribers/new", data={"csrf_token": csrf, "name": "Asha\u0000", "email": "x@example.nhs.uk"})
    assert form.status_code == 422 and "control" in form.text
    admin = world.b.headers
    org = client.post("/api/organisations", headers=admin, json={"name": "Evil\r\nTrust"})
    assert org.status_code == 422
    lib = client.post("/api/librarians", headers=admin, json={"email": "n@beta.nhs.uk", "password": "a long enough passphrase",
                                                               "name": "New\nLibrarian", "organisation_ids": [world.b.org_id]})
    assert lib.status_code == 422
