"""An SMTP server on loopback (aiosmtpd) that records every message it accepts, and can fail.

- `accepted`: (recipient, Message-ID) of every message the server took, in order, repeats
  included: a digest sent twice shows twice.
- `down()` closes the port (clients get "connection refused"); `up()` opens it again.
- `trap(recipient, action)`: the next message to that recipient is accepted, then `action`
  runs before the server answers 250. The suite's action kills notify: the server has the
  message, notify never records that it went, which is the instant between the server's 250
  and notify's database write that notify's crash window is about.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._traps: dict[str, Callable[[], None]] = {}
        self._springing = 0  # trap actions taken from _traps and still running
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def up(self) -> None:
        if self._controller is None:
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def trap(self, recipient: str, action: Callable[[], None]) -> None:
        with self._lock:
            self._traps[recipient.lower()] = action

    def armed(self) -> bool:
        """Whether a trap is still to fire, or its action has not finished yet."""
        with self._lock:
            return bool(self._traps) or self._springing > 0

    def copies(self, message_ids: set[str] | None = None) -> Counter[str]:
        """How many times each Message-ID was accepted (of those given, or all)."""
        with self._lock:
            return Counter(mid for _, mid in self.accepted if message_ids is None or mid in message_ids)

    def to(self, recipients: set[str]) -> list[tuple[str, str]]:
        with self._lock:
            return [(r, mid) for r, mid in self.accepted if r in recipients]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipient = envelope.rcpt_tos[0].lower()
        message_id = message_from_bytes(envelope.original_content)["Message-ID"] or ""
        with self._lock:
            self.accepted.append((recipient, message_id))
            action = self._traps.pop(recipient, None)
            self._springing += action is not None
        if action is not None:
            try:
                action()
            finally:
                with self._lock:
                    self._springing -= 1
        return "250 OK"
