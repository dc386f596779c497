"""The alert job: examine crawl health, claim what was not alerted yet, send it, mark it sent.

Exactly once (storage.alerts holds the outbox):
- a claim (one short transaction under the outbox lock) takes a pending batch whose sender is gone,
  or builds a new batch of every change event and health issue not in a batch yet;
- the batch is marked sent in its own transaction right after the SMTP server accepted it;
- when the server is down or refuses, a new batch is dissolved (its changes go with the next run);
  a batch that may have reached the server stays pending and goes again as it is, same Message-ID.
A process killed between the server's acceptance and the commit leaves its batch pending: the next
run sends it again, so that batch arrives twice; no change is ever lost.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid, parseaddr

from sqlalchemy.orm import Session

from coopspider.monitor.alert_digest import Digest, EventInput, HealthInput, build_digest
from coopspider.monitor.alert_health import RunFacts, RunHealth, judge_run
from coopspider.monitor.alert_render import compose_message, preview, subject
from coopspider.monitor.alert_send import DeliveryError, SmtpSettings, deliver
from storage import (
    AlertBatch,
    ChangeEvent,
    CrawlRun,
    Database,
    HealthIssue,
    articles_archived_before,
    batch_events,
    batch_health_issues,
    claim_batch,
    create_batch,
    dissolve_batch,
    issue_changes,
    lock_outbox,
    mark_sent,
    open_issue_kinds,
    pending_batches,
    record_run_health,
    release_batch,
    runs_to_check,
    unbatched_events,
    unbatched_issues,
    versions_of_events,
)

# A claim older than this is taken over even if its process may live (another machine, a hang).
CLAIM_TIMEOUT = timedelta(minutes=30)
# A run still "running" after this long was killed without closing its record.
STALE_RUN_AFTER = timedelta(hours=12)


@dataclass(frozen=True)
class SentMessage:
    """One message the SMTP server accepted."""

    batch_id: int
    message_id: str
    subject: str
    resent: bool  # an earlier attempt may have reached the server already
    refused: tuple[str, ...]  # recipients the server refused while accepting the others


@dataclass(frozen=True)
class AlertOutcome:
    """What `send_alerts` did."""

    sent: tuple[SentMessage, ...] = ()
    previews: tuple[str, ...] = ()  # dry run: each message as it would go
    error: str | None = None  # why a message was not sent (no secret in it)
    maybe_delivered: bool = False  # the failed message may have reached the server

    @property
    def nothing_to_send(self) -> bool:
        return not self.sent and not self.previews and self.error is None


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
    dry_run: bool = False,
    site: str | None = None,
) -> AlertOutcome:
    """Send every change and health problem not alerted yet (of `site`, or of every site).

    `dry_run` renders the messages and changes nothing. Stops at the first message the server
    did not accept; what it covers goes with the next run.
    """
    if dry_run:
        return AlertOutcome(previews=tuple(_previews(database, settings, site)))
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    sent: list[SentMessage] = []
    while (claim := _claim(database, site, settings, owner)) is not None:
        try:
            sent.append(_send(database, settings, claim))
        except DeliveryError as error:
            with database.begin() as session:
                if claim.attempts == 1 and not error.maybe_delivered:
                    dissolve_batch(session, claim.batch_id, owner=owner)
                else:
                    release_batch(session, claim.batch_id, owner=owner, error=str(error))
            return AlertOutcome(
                sent=tuple(sent), error=str(error), maybe_delivered=error.maybe_delivered
            )
    return AlertOutcome(sent=tuple(sent))


def _send(database: Database, settings: SmtpSettings, claim: _Claim) -> SentMessage:
    """Send one claimed batch and mark it sent the moment the server accepted it."""
    message = compose_message(
        claim.digest,
        sender=settings.sender,
        recipients=settings.recipients,
        message_id=claim.message_id,
        date=datetime.now(UTC),
    )
    refusals: list[str] = []

    def accepted(refused: dict[str, tuple[int, bytes]]) -> None:
        with database.begin() as session:
            mark_sent(session, claim.batch_id, sent_at=datetime.now(UTC))
        refusals.extend(refused)

    deliver(settings, message, accepted)
    return SentMessage(
        batch_id=claim.batch_id,
        message_id=claim.message_id,
        subject=subject(claim.digest),
        resent=claim.attempts > 1,
        refused=tuple(refusals),
    )


def _claim(
    database: Database, site: str | None, settings: SmtpSettings, owner: str
) -> _Claim | None:
    """Claim the next batch to send, in one transaction under the outbox lock."""
    with database.begin() as session:
        batch = _next_batch(session, settings, site, owner)
        if batch is None:
            return None
        return _Claim(batch.id, batch.message_id, batch.attempts, load_digest(session, batch.id))


def _previews(database: Database, settings: SmtpSettings, site: str | None) -> list[str]:
    """Every message a real run would send now, rendered from what the archive holds: the
    pending batches it would take over, then a new batch with the health issues the runs not
    examined yet would open. Nothing is written, so a read-only archive does."""
    with database.session() as session:
        now = datetime.now(UTC)
        digests = [
            load_digest(session, batch.id)
            for batch in pending_batches(session, site=site)
            if _abandoned(batch, now)
        ]
        events = unbatched_events(session, site=site)
        health = [_health_input(issue) for issue in unbatched_issues(session, site=site)]
        health += _issues_health_would_open(session, site=site, now=now)
        if events or health:
            digests.append(_digest(session, events, health))
        return [
            preview(
                compose_message(
                    digest,
                    sender=settings.sender,
                    recipients=settings.recipients,
                    message_id=_message_id(settings),
                    date=now,
                )
            )
            for digest in digests
        ]


def _next_batch(
    session: Session, settings: SmtpSettings, site: str | None, owner: str
) -> AlertBatch | None:
    """Claim the oldest pending batch left behind, else a new batch of what is left."""
    lock_outbox(session)
    now = datetime.now(UTC)
    check_health(session, site=site, now=now)
    for batch in pending_batches(session, site=site):
        if _abandoned(batch, now):
            claim_batch(session, batch, owner=owner, claimed_at=now)
            return batch
    return create_batch(
        session, site=site, owner=owner, created_at=now, message_id=_message_id(settings)
    )


def _message_id(settings: SmtpSettings) -> str:
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    return make_msgid("coopspider", domain=domain)


def _abandoned(batch: AlertBatch, now: datetime) -> bool:
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
    session: Session, *, site: str | None, now: datetime
) -> list[tuple[CrawlRun, RunHealth]]:
    """Every crawl run not examined yet, oldest first, with its health."""
    judged = []
    for run in runs_to_check(session, site=site, stale_before=now - STALE_RUN_AFTER):
        facts = RunFacts(
            status=run.status,
            finish_reason=run.finish_reason,
            started_at=run.started_at,
            stats=run.stats or {},
            archived_before=articles_archived_before(session, run.site, run.started_at),
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
    session: Session, *, site: str | None, now: datetime
) -> list[HealthInput]:
    """The issues `check_health` would open now, worked out without writing them."""
    open_kinds = open_issue_kinds(session, site=site)
    opened = []
    for run, health in _judged_runs(session, site=site, now=now):
        still_open = open_kinds.setdefault(run.site, set())
        new, resolved = issue_changes(still_open, health.judged, health.problems)
        still_open.difference_update(resolved)
        still_open.update(new)
        opened += [
            HealthInput(run.site, kind, health.problems[kind], run.started_at) for kind in new
        ]
    return opened


def load_digest(session: Session, batch_id: int) -> Digest:
    """The digest of one batch: its change events (with the new reports' text) and issues."""
    health = [_health_input(issue) for issue in batch_health_issues(session, batch_id)]
    return _digest(session, batch_events(session, batch_id), health)


def _health_input(issue: HealthIssue) -> HealthInput:
    return HealthInput(issue.site, issue.kind, issue.details, issue.first_run.started_at)


def _digest(session: Session, events: list[ChangeEvent], health: list[HealthInput]) -> Digest:
    """The digest of change events (with the new reports' text) and health issues."""
    versions = versions_of_events(session, [event for event in events if event.kind == "new"])
    inputs = [
        EventInput(
            site=event.site,
            kind=event.kind,
            details=event.details,
            category=event.article.category if event.article else None,
            text=versions[event.id].body if event.id in versions else None,
        )
        for event in events
    ]
    return build_digest(inputs, health)
