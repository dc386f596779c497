"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps the mail it accepts."""

from __future__ import annotations

import asyncio
import email.policy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.helpers import free_port


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    raw: bytes

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


@dataclass
class Mailbox:
    """An aiosmtpd handler keeping what it accepts; it can refuse, or run a hook first."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: str | None = None  # an SMTP reply for DATA instead of 250
    delay: float = 0.0
    before_accept: Callable[[], None] | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        await asyncio.sleep(self.delay)
        if self.before_accept:
            self.before_accept()
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(port: int | None = None, **smtp_options: Any) -> Iterator[Mailbox]:
    mailbox = Mailbox(port=port or free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **smtp_options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
