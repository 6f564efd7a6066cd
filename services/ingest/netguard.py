"""SSRF guard: a feed URL may only reach public addresses unless a setting allows private ones.

The host is resolved and every address it resolves to is checked; one private, loopback,
link-local, multicast, reserved or unspecified address refuses the whole URL. `check_url`
gives the named error before any request; `GuardedBackend` then makes the connection itself
to an address it has just checked, so a host that answers DNS with a public address for the
check and a private one for the connection (DNS rebinding) still reaches nothing private.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore

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


class ForbiddenAddress(Exception):
    """A connection to a non-public address was refused at connect time."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting by address: the host is resolved here, every
    address must be public, and the socket is opened to one of those very addresses (TLS still
    verifies and sends the host name, which httpcore passes separately)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        refused = [a for a in addresses if not is_public(a)]
        if refused or not addresses:
            raise ForbiddenAddress(f"{host} resolves to a non-public address ({', '.join(refused) or 'none'})")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        raise ForbiddenAddress("unix sockets are not feed addresses")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
