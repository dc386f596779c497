"""Delivery of one message through the standard library (smtplib), with the SMTP settings of
the configuration (coopspider.config validates them and applies their defaults).

The password lives only in `SmtpSettings.password` (hidden from its repr) and is scrubbed from
every error text, so it reaches no log, message, exception shown or database row.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from email.message import EmailMessage

from coopspider.config import Config, default_sender

SMTP_TIMEOUT_S = 60.0


class DeliveryError(Exception):
    """The SMTP server is unreachable or refused the message.

    `maybe_delivered` is True when the connection broke while the message was on its way, so the
    server may have accepted it anyway.
    """

    def __init__(self, reason: str, *, maybe_delivered: bool) -> None:
        super().__init__(reason)
        self.maybe_delivered = maybe_delivered


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how alerts are sent, and to whom."""

    host: str
    port: int
    security: str = "none"  # one of coopspider.config.SECURITY_MODES
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = field(default_factory=default_sender)
    recipients: tuple[str, ...] = ()
    timeout: float = SMTP_TIMEOUT_S

    @classmethod
    def from_config(cls, config: Config) -> SmtpSettings:
        """The settings `config` holds, checked and with their defaults already applied there
        (what `coopspider config check` shows)."""
        smtp, alerts = config.smtp, config.alerts
        return cls(
            host=smtp.host,
            port=smtp.port,
            security=smtp.security,
            user=smtp.user,
            password=smtp.password,
            sender=alerts.sender,
            recipients=alerts.recipients,
        )

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


# -- delivery --------------------------------------------------------------------------------------


def deliver(
    settings: SmtpSettings,
    message: EmailMessage,
    on_accepted: Callable[[dict[str, tuple[int, bytes]]], None],
) -> None:
    """Send `message` to its To addresses; call `on_accepted(refused_recipients)` as soon as the
    server accepted it, before saying goodbye. Raises DeliveryError when it did not."""
    endpoint = settings.endpoint
    try:
        connection = _connect(settings)
    except (OSError, smtplib.SMTPException) as error:
        raise _failure(f"cannot reach the SMTP server {endpoint}", error, settings) from None
    try:
        if settings.user:
            try:
                connection.login(settings.user, settings.password or "")
            except (OSError, smtplib.SMTPException) as error:
                raise _failure(
                    f"the SMTP server {endpoint} refused the login of {settings.user!r}",
                    error,
                    settings,
                ) from None
        try:
            refused = connection.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
            raise _failure(
                f"the SMTP server {endpoint} refused the message", error, settings
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise _failure(
                f"the connection to the SMTP server {endpoint} broke while sending",
                error,
                settings,
                maybe_delivered=True,
            ) from None
        on_accepted(refused)
    finally:
        with suppress(OSError, smtplib.SMTPException):
            connection.quit()
        connection.close()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open SMTP connection, encrypted as the settings say (certificates verified)."""
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=_tls_context()
        )
    connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            connection.ehlo()
            connection.starttls(context=_tls_context())
            connection.ehlo()
    except BaseException:
        connection.close()
        raise
    return connection


def _tls_context() -> ssl.SSLContext:
    # The system's trusted certificates; SSL_CERT_FILE points at another bundle (a private CA).
    return ssl.create_default_context()


def _failure(
    what: str, error: BaseException, settings: SmtpSettings, *, maybe_delivered: bool = False
) -> DeliveryError:
    return DeliveryError(f"{what}: {_describe(error, settings)}", maybe_delivered=maybe_delivered)


def _describe(error: BaseException, settings: SmtpSettings) -> str:
    """An error as one line, with the password (if any) blotted out."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{address}: {code} {_reply(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"{error.smtp_code} {_reply(error.smtp_error)}"
    else:
        text = str(error) or type(error).__name__
    if settings.password:
        text = text.replace(settings.password, "********")
    return " ".join(text.split())


def _reply(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
