"""SSRF guard: a feed URL may only reach public addresses unless a setting allows private ones.

The host is resolved and every address it resolves to is checked; one private, loopback,
link-local, multicast, reserved or unspecified address refuses the whole URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from services.ingest.errors import ErrorKind, IngestError


def is_public(address: str) -> bool:
    """Whether an IP address is globally routable (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or not ip.is_global)


async def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


async def check_url(url: str, allow_private: bool) -> IngestError | None:
    """None if the URL may be fetched; otherwise the named reason it may not."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        return IngestError(kind=ErrorKind.invalid_url, message=f"bad URL: {exc}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return IngestError(kind=ErrorKind.invalid_url, message=f"not an http(s) URL: {url[:200]}")
    if allow_private:
        return None
    try:
        addresses = await resolve(parts.hostname, port)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        return IngestError(kind=ErrorKind.dns_error, message=f"cannot resolve {parts.hostname}: {exc}")
    refused = [a for a in addresses if not is_public(a)]
    if refused or not addresses:
        return IngestError(
            kind=ErrorKind.forbidden_address,
            message=f"{parts.hostname} resolves to a non-public address ({', '.join(refused) or 'none'})")
    return None
