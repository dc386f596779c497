"""The alert job: examine crawl health, claim what was not alerted yet, send it, mark it sent.

Exactly once per channel (the e-mail recipients, each Apprise URL; storage.alerts holds the
outbox), each channel on its own, so one channel's failure neither holds back nor repeats another:
- a claim (one short transaction under the outbox lock) takes a pending batch of the channel whose
  sender is gone, or builds a new batch of every change event and health issue not in a batch of
  that channel yet;
- the batch is marked sent in its own transaction right after the channel accepted it;
- when the channel is down or refuses, a new batch is dissolved (its changes go with the channel's
  next run, merged with what is new by then); a batch that may have reached the server stays
  pending and goes again as it is, same Message-ID.
A process killed between the acceptance and the commit leaves its batch pending: the next run
sends it again, so that batch arrives twice; no change is ever lost.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import TYPE_CHECKING, Any, Protocol

from coopspider.config import NotifyTarget
from coopspider.monitor.alert_digest import Digest, EventInput, HealthInput, build_digest
from coopspider.monitor.alert_health import RunFacts, RunHealth, judge_run
from coopspider.monitor.alert_notify import notify
from coopspider.monitor.alert_render import compose_message, preview, short_message, subject
from coopspider.monitor.alert_send import DeliveryError, SmtpSettings, deliver
from storage.alerts import (
    OutboxChannel,
    articles_archived_before,
    batch_events,
    batch_health_issues,
    claim_batch,
    create_batch,
    dissolve_batch,
    issue_changes,
    known_channel,
    lock_outbox,
    mark_sent,
    open_issue_kinds,
    pending_batches,
    record_run_health,
    register_channel,
    release_batch,
    runs_to_check,
    unbatched_events,
    unbatched_issues,
    versions_of_events,
)

if TYPE_CHECKING:
    from sqlalchemy import Row
    from sqlalchemy.orm import Session

    from storage.db import Database
    from storage.reading import Reader

# A claim older than this is taken over even if its process may live (another machine, a hang).
CLAIM_TIMEOUT = timedelta(minutes=30)
# A run still "running" after this long was killed without closing its record.
STALE_RUN_AFTER = timedelta(hours=12)
EMAIL = "e-mail"  # the label of the e-mail channel
EMAIL_KEY = "email"


class Channel(Protocol):
    """One place a digest goes to."""

    @property
    def key(self) -> str:
        """Its name in the outbox (no secret in it)."""

    @property
    def label(self) -> str:
        """How people see it (no secret in it)."""

    def send(self, digest: Digest, message_id: str, accepted: Callable[[], None]) -> list[str]:
        """Deliver `digest`; call `accepted()` the moment the channel accepted it. Returns the
        recipients refused while the others were accepted. Raises DeliveryError."""

    def preview(self, digest: Digest, message_id: str, date: datetime) -> str:
        """The message as it would go."""


@dataclass(frozen=True)
class EmailChannel:
    """The digest as one e-mail to the configured recipients."""

    settings: SmtpSettings
    key: str = EMAIL_KEY
    label: str = EMAIL

    def message(self, digest: Digest, message_id: str, date: datetime) -> EmailMessage:
        return compose_message(
            digest,
            sender=self.settings.sender,
            recipients=self.settings.recipients,
            message_id=message_id,
            date=date,
        )

    def send(self, digest: Digest, message_id: str, accepted: Callable[[], None]) -> list[str]:
        refusals: list[str] = []

        def on_accepted(refused: dict[str, tuple[int, bytes]]) -> None:
            accepted()
            refusals.extend(refused)

        deliver(self.settings, self.message(digest, message_id, datetime.now(UTC)), on_accepted)
        return refusals

    def preview(self, digest: Digest, message_id: str, date: datetime) -> str:
        return preview(self.message(digest, message_id, date))


@dataclass(frozen=True)
class AppriseChannel:
    """The short message (subject, counts, report link) through one Apprise URL."""

    target: NotifyTarget
    link: str | None = None

    @property
    def key(self) -> str:
        return self.target.key

    @property
    def label(self) -> str:
        return self.target.shown

    def send(self, digest: Digest, message_id: str, accepted: Callable[[], None]) -> list[str]:
        notify(self.target, *short_message(digest, self.link))
        accepted()
        return []

    def preview(self, digest: Digest, message_id: str, date: datetime) -> str:
        title, body = short_message(digest, self.link)
        return f"Apprise: {self.label}\nTitle: {title}\n\n{body}\n"


def alert_channels(
    settings: SmtpSettings, notify_targets: Sequence[NotifyTarget] = (), link: str | None = None
) -> list[Channel]:
    """The channels alerts go to: e-mail when it has recipients, then each Apprise URL."""
    channels: list[Channel] = [EmailChannel(settings)] if settings.recipients else []
    channels += [AppriseChannel(target, link) for target in notify_targets]
    return channels


@dataclass(frozen=True)
class SentMessage:
    """One message a channel accepted."""

    batch_id: int
    message_id: str
    subject: str
    resent: bool  # an earlier attempt may have reached the server already
    refused: tuple[str, ...]  # recipients the server refused while accepting the others
    channel: str = EMAIL  # the channel's label


@dataclass(frozen=True)
class ChannelFailure:
    """A channel that did not accept its message; its changes go with its next run."""

    channel: str  # the channel's label
    error: str  # why (no secret in it)
    maybe_delivered: bool = False  # the failed message may have reached the server

    @property
    def line(self) -> str:
        """E.g. "alert not sent: cannot reach …", naming the channel unless it is e-mail."""
        where = "" if self.channel == EMAIL else f" to {self.channel}"
        return f"alert not sent{where}: {self.error}"


@dataclass(frozen=True)
class AlertOutcome:
    """What `send_alerts` did."""

    sent: tuple[SentMessage, ...] = ()
    previews: tuple[str, ...] = ()  # dry run: each message as it would go
    failures: tuple[ChannelFailure, ...] = ()

    @property
    def error(self) -> str | None:
        """Why messages were not sent, one channel after the other; None when all were."""
        return "; ".join(failure.line for failure in self.failures) or None

    @property
    def maybe_delivered(self) -> bool:
        return any(failure.maybe_delivered for failure in self.failures)

    @property
    def nothing_to_send(self) -> bool:
        return not self.sent and not self.previews and not self.failures


@dataclass(frozen=True)
class _Claim:
    batch_id: int
    message_id: str
    attempts: int
    digest: Digest


def send_alerts(
    database: Database,
    settings: SmtpSettings,
    *,
    notify_targets: Sequence[NotifyTarget] = (),
    link: str | None = None,
    dry_run: bool = False,
    site: str | None = None,
) -> AlertOutcome:
    """Send every change and health problem not alerted yet (of `site`, or of every site) to each
    channel: e-mail when `settings` has recipients, each of `notify_targets` (with `link`, the
    report's address, in its message).

    `dry_run` renders the messages and changes nothing (with no channel at all, the e-mail as it
    would go). A channel stops at its first message it did not accept, and the next channel goes
    on; what that message covers goes with the channel's next run.
    """
    channels = alert_channels(settings, notify_targets, link)
    if dry_run:
        shown = channels or [EmailChannel(settings)]
        return AlertOutcome(previews=tuple(_previews(database, settings, shown, site)))
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    # Channels configured together start together: one used for the first time covers what is
    # pending now, before the others send it.
    with database.begin() as session:
        lock_outbox(session)
        now = datetime.now(UTC)
        for channel in channels:
            register_channel(session, channel.key, channel.label, now=now)
    sent: list[SentMessage] = []
    failures: list[ChannelFailure] = []
    for channel in channels:
        while (claim := _claim(database, site, settings, channel, owner)) is not None:
            try:
                sent.append(_send(database, channel, claim))
            except DeliveryError as error:
                with database.begin() as session:
                    if claim.attempts == 1 and not error.maybe_delivered:
                        dissolve_batch(session, claim.batch_id, owner=owner)
                    else:
                        release_batch(session, claim.batch_id, owner=owner, error=str(error))
                failures.append(ChannelFailure(channel.label, str(error), error.maybe_delivered))
                break
    return AlertOutcome(sent=tuple(sent), failures=tuple(failures))


def _send(database: Database, channel: Channel, claim: _Claim) -> SentMessage:
    """Send one claimed batch and mark it sent the moment the channel accepted it."""

    def accepted() -> None:
        with database.begin() as session:
            mark_sent(session, claim.batch_id, sent_at=datetime.now(UTC))

    refused = channel.send(claim.digest, claim.message_id, accepted)
    return SentMessage(
        batch_id=claim.batch_id,
        message_id=claim.message_id,
        subject=subject(claim.digest),
        resent=claim.attempts > 1,
        refused=tuple(refused),
        channel=channel.label,
    )


def _claim(
    database: Database, site: str | None, settings: SmtpSettings, channel: Channel, owner: str
) -> _Claim | None:
    """Claim the channel's next batch to send, in one transaction under the outbox lock."""
    with database.begin() as session:
        batch = _next_batch(session, settings, site, channel, owner)
        if batch is None:
            return None
        return _Claim(batch.id, batch.message_id, batch.attempts, load_digest(session, batch.id))


def _previews(
    database: Database, settings: SmtpSettings, channels: Sequence[Channel], site: str | None
) -> list[str]:
    """Every message a real run would send now to each channel, rendered from what the archive
    holds: the pending batches it would take over, then a new batch with the health issues the
    runs not examined yet would open. Nothing is written, so a read-only archive does; the tables
    are read without the ORM."""
    previews = []
    with database.read() as connection:
        now = datetime.now(UTC)
        would_open = _issues_health_would_open(connection, site=site, now=now)
        for channel in channels:
            known = known_channel(connection, channel.key, channel.label, now=now)
            # A channel never used (no id yet) has no pending batch.
            pending = pending_batches(connection, site=site, channel=known.id) if known.id else []
            digests = [
                load_digest(connection, batch.id) for batch in pending if _abandoned(batch, now)
            ]
            digests += _new_digest(connection, known, site, would_open)
            previews += [channel.preview(digest, _message_id(settings), now) for digest in digests]
    return previews


def _new_digest(
    reader: Reader, channel: OutboxChannel, site: str | None, would_open: list[HealthInput]
) -> list[Digest]:
    """The digest a new batch of `channel` would have now, with the health issues `would_open`."""
    events = unbatched_events(reader, site=site, channel=channel)
    health = [
        _health_input(issue) for issue in unbatched_issues(reader, site=site, channel=channel)
    ]
    health += would_open
    return [_digest(reader, events, health)] if events or health else []


def _next_batch(
    session: Session, settings: SmtpSettings, site: str | None, channel: Channel, owner: str
) -> Row[Any] | None:
    """Claim the channel's oldest pending batch left behind, else a new batch of what is left."""
    lock_outbox(session)
    now = datetime.now(UTC)
    check_health(session, site=site, now=now)
    registered = register_channel(session, channel.key, channel.label, now=now)
    for batch in pending_batches(session, site=site, channel=registered.id):
        if _abandoned(batch, now):
            return claim_batch(session, batch.id, owner=owner, claimed_at=now)
    return create_batch(
        session,
        channel=registered,
        site=site,
        owner=owner,
        created_at=now,
        message_id=_message_id(settings),
    )


def _message_id(settings: SmtpSettings) -> str:
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    return make_msgid("coopspider", domain=domain)


def _abandoned(batch: Row[Any], now: datetime) -> bool:
    """Whether a pending batch is free to take: given back, claimed too long ago, or claimed by
    a process of this machine that no longer exists."""
    if batch.claimed_by is None or batch.claimed_at is None:
        return True
    if batch.claimed_at < now - CLAIM_TIMEOUT:
        return True
    host, pid, _token = batch.claimed_by.rsplit(":", 2)
    return host == socket.gethostname() and not _process_exists(int(pid))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _judged_runs(
    reader: Reader, *, site: str | None, now: datetime
) -> list[tuple[Row[Any], RunHealth]]:
    """Every crawl run not examined yet (a row of crawl_runs), oldest first, with its health."""
    judged = []
    for run in runs_to_check(reader, site=site, stale_before=now - STALE_RUN_AFTER):
        facts = RunFacts(
            status=run.status,
            finish_reason=run.finish_reason,
            started_at=run.started_at,
            stats=run.stats or {},
            archived_before=articles_archived_before(reader, run.site, run.started_at),
            stale=run.status == "running",
        )
        judged.append((run, judge_run(facts)))
    return judged


def check_health(session: Session, *, site: str | None, now: datetime) -> None:
    """Examine every crawl run not examined yet and record the health issues it opens or ends."""
    for run, health in _judged_runs(session, site=site, now=now):
        record_run_health(
            session, run, judged=health.judged, problems=health.problems, checked_at=now
        )


def _issues_health_would_open(
    reader: Reader, *, site: str | None, now: datetime
) -> list[HealthInput]:
    """The issues `check_health` would open now, worked out without writing them."""
    open_kinds = open_issue_kinds(reader, site=site)
    opened = []
    for run, health in _judged_runs(reader, site=site, now=now):
        still_open = open_kinds.setdefault(run.site, set())
        new, resolved = issue_changes(still_open, health.judged, health.problems)
        still_open.difference_update(resolved)
        still_open.update(new)
        opened += [
            HealthInput(run.site, kind, health.problems[kind], run.started_at) for kind in new
        ]
    return opened


def load_digest(reader: Reader, batch_id: int) -> Digest:
    """The digest of one batch: its change events (with the new reports' text) and issues."""
    health = [_health_input(issue) for issue in batch_health_issues(reader, batch_id)]
    return _digest(reader, batch_events(reader, batch_id), health)


def _health_input(issue: Row[Any]) -> HealthInput:
    return HealthInput(issue.site, issue.kind, issue.details, issue.first_run_started_at)


def _digest(reader: Reader, events: list[Row[Any]], health: list[HealthInput]) -> Digest:
    """The digest of change events (with the new reports' text) and health issues."""
    versions = versions_of_events(reader, [event for event in events if event.kind == "new"])
    inputs = [
        EventInput(
            site=event.site,
            kind=event.kind,
            details=event.details,
            category=event.category,
            text=versions[event.id].body if event.id in versions else None,
        )
        for event in events
    ]
    return build_digest(inputs, health)
