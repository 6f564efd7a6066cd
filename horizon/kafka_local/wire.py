"""Just enough of the Kafka wire protocol for a readiness probe: one Metadata request (PLAINTEXT), or
ApiVersions on a SASL listener (answered before a client signs in)."""

from __future__ import annotations

import socket
import ssl
import struct


def metadata_request(correlation_id: int, client_id: str = "horizon-probe") -> bytes:
    """A Metadata v4 request for all topics (v4 is the oldest version Kafka 4 still accepts)."""
    cid = client_id.encode()
    body = struct.pack(">hhih", 3, 4, correlation_id, len(cid)) + cid + struct.pack(">ib", -1, 0)
    return struct.pack(">i", len(body)) + body


def metadata_broker_count(payload: bytes, correlation_id: int) -> int:
    """The number of brokers in a Metadata v4 response body (without its size prefix)."""
    got, _throttle, brokers = struct.unpack_from(">iii", payload, 0)
    if got != correlation_id:
        raise ValueError(f"correlation id {got} != {correlation_id}")
    return brokers


def probe(host: str, port: int, timeout_s: float = 2.0) -> int | None:
    """The broker count a Metadata request returns, or None when the port does not answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(metadata_request(7))
            (size,) = struct.unpack(">i", _recv(sock, 4))
            return metadata_broker_count(_recv(sock, size), 7)
    except (OSError, ValueError, struct.error):
        return None


def _recv(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def api_versions_request(correlation_id: int, client_id: str = "horizon-probe") -> bytes:
    """An ApiVersions v0 request: the one request a SASL listener answers before a client signs in."""
    cid = client_id.encode()
    body = struct.pack(">hhih", 18, 0, correlation_id, len(cid)) + cid
    return struct.pack(">i", len(body)) + body


def api_versions_error(payload: bytes, correlation_id: int) -> int:
    """The error code of an ApiVersions v0 response body (0: the broker is serving)."""
    got, error = struct.unpack_from(">ih", payload, 0)
    if got != correlation_id:
        raise ValueError(f"correlation id {got} != {correlation_id}")
    return error


def probe_secure(host: str, port: int, ssl_context: ssl.SSLContext | None = None, timeout_s: float = 2.0) -> bool:
    """Whether a SASL (or SASL over TLS) listener answers ApiVersions: it accepts requests only
    once the broker has started, and needs no credentials to say so."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as raw:
            sock = ssl_context.wrap_socket(raw, server_hostname=host) if ssl_context else raw
            sock.sendall(api_versions_request(9))
            (size,) = struct.unpack(">i", _recv(sock, 4))
            return api_versions_error(_recv(sock, size), 9) == 0
    except (OSError, ValueError, struct.error):
        return False
