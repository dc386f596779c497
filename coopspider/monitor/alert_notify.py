"""Delivery of the short message to one Apprise channel (a chat, a webhook: coopspider.config
validates the URL).

The URL holds tokens: it is handed to Apprise and nowhere else. What Apprise logs while sending
is captured, masked (`NotifyTarget.mask`) and becomes the error line; its records, and those of
the HTTP client under it, are masked the same way before any handler sees them, so no token
reaches a log, a line or the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from coopspider.config import NotifyTarget
from coopspider.monitor.alert_send import DeliveryError

# The loggers a send writes to (Apprise's own, and the HTTP client's, whose records can hold a
# URL path with a token in it): each gets the masking filter while it sends.
_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3.util.retry")
_REASON_LINES = 3  # the last warnings Apprise logged, as the reason of a failure


class _Masking(logging.Filter):
    """Masks the target's secrets in every record logged while it sends."""

    def __init__(self, target: NotifyTarget) -> None:
        super().__init__()
        self.target = target

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.target.mask(record.getMessage())
        record.args = None
        return True


class _Reasons(logging.Handler):
    """Keeps the warnings and errors Apprise logs (already masked)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(" ".join(record.getMessage().split()))


@contextmanager
def _captured(target: NotifyTarget) -> Iterator[_Reasons]:
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    masking, reasons = _Masking(target), _Reasons()
    for logger in loggers:
        logger.addFilter(masking)
    loggers[0].addHandler(reasons)
    try:
        yield reasons
    finally:
        loggers[0].removeHandler(reasons)
        for logger in loggers:
            logger.removeFilter(masking)


def notify(target: NotifyTarget, title: str, body: str) -> None:
    """Send one message to `target`. Raises DeliveryError (the reason masked) when the service did
    not accept it; it surely did not, as far as Apprise can tell (an HTTP error, no answer)."""
    import apprise

    with _captured(target) as reasons:
        sender = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
        added = sender.add(target.url)
        try:
            accepted = added and sender.notify(
                title=title, body=body, body_format=apprise.NotifyFormat.TEXT
            )
        except Exception as error:  # a plugin's bug must not stop the other channels
            reasons.lines.append(target.mask(f"{type(error).__name__}: {error}"))
            accepted = False
    if not accepted:
        reason = "; ".join(reasons.lines[-_REASON_LINES:]) or "no reason given"
        raise DeliveryError(
            f"{target.shown} did not accept the message: {target.mask(reason)}",
            maybe_delivered=False,
        )
