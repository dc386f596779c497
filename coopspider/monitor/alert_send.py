"""SMTP settings and delivery of one message through the standard library (smtplib).

The password lives only in `SmtpSettings.password` (hidden from its repr) and is scrubbed from
every error text, so it reaches no log, message, exception shown or database row.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
SMTP_TIMEOUT_S = 60.0

# Environment variable -> key of the config file's SMTP section.
ENVIRONMENT = {
    "COOPSPIDER_SMTP_HOST": "host",
    "COOPSPIDER_SMTP_PORT": "port",
    "COOPSPIDER_SMTP_USER": "user",
    "COOPSPIDER_SMTP_PASSWORD": "password",
    "COOPSPIDER_SMTP_SECURITY": "security",
    "COOPSPIDER_ALERT_FROM": "from",
    "COOPSPIDER_ALERT_TO": "to",
}


class SettingsError(ValueError):
    """An SMTP setting that cannot be used; the message names the variable."""


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

    host: str = "localhost"
    port: int = 25
    security: str = "none"  # one of SECURITY_MODES
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "coopspider@localhost"
    recipients: tuple[str, ...] = ()
    timeout: float = SMTP_TIMEOUT_S

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


def smtp_settings(
    env: Mapping[str, str], file_section: Mapping[str, Any] | None = None
) -> SmtpSettings:
    """SMTP settings from the environment, over the config file's SMTP section (keys: host,
    port, user, password, security, from, to; `to` a list or a comma-separated string).

    Security defaults to starttls when a user is set, else none; the port to the security's
    usual one (25, 587, 465); the sender to coopspider@<this host>.
    """
    values: dict[str, Any] = {key: value for key, value in (file_section or {}).items()}
    names = {key: f"{key} in the config file" for key in values}
    for variable, key in ENVIRONMENT.items():
        if env.get(variable, "").strip():
            values[key], names[key] = env[variable].strip(), variable
    unknown = set(values) - set(ENVIRONMENT.values())
    if unknown:
        raise SettingsError(
            f"unknown SMTP setting(s) in the config file: {', '.join(sorted(unknown))}"
        )

    user = _text(values.get("user")) or None
    password = _text(values.get("password")) or None
    for key, value in (("user", user), ("password", password)):
        if value is not None and not value.isascii():
            # smtplib encodes the login as ASCII; say so rather than fail while sending.
            raise SettingsError(f"{names[key]} must be written in ASCII characters only")
    security = (_text(values.get("security")) or ("starttls" if user else "none")).lower()
    if security not in SECURITY_MODES:
        raise SettingsError(
            f"{names['security']} must be one of {', '.join(SECURITY_MODES)}, not {security!r}"
        )
    port = _port(values.get("port"), names.get("port", ""), DEFAULT_PORTS[security])
    sender = _text(values.get("from")) or f"coopspider@{socket.gethostname()}"
    _addresses(sender, names.get("from", "the default sender"))
    recipients = _recipients(values.get("to"), names.get("to", ""))
    return SmtpSettings(
        host=_text(values.get("host")) or "localhost",
        port=port,
        security=security,
        user=user,
        password=password,
        sender=sender,
        recipients=recipients,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _port(value: Any, name: str, default: int) -> int:
    if value is None or _text(value) == "":
        return default
    try:
        port = int(_text(value))
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise SettingsError(f"{name} must be a port number from 1 to 65535, not {_text(value)!r}")
    return port


def _recipients(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    entries = value if isinstance(value, list | tuple) else str(value).split(",")
    recipients = tuple(_text(entry) for entry in entries if _text(entry))
    for recipient in recipients:
        _addresses(recipient, name)
    return recipients


def _addresses(value: str, name: str) -> None:
    parsed = getaddresses([value])
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        raise SettingsError(f"{name}: {value!r} is not an e-mail address")


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
