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

from sqlalchemy.orm import Session, sessionmaker

from coopspider.monitor.alert_digest import Digest, EventInput, HealthInput, build_digest
from coopspider.monitor.alert_health import RunFacts, judge_run
from coopspider.monitor.alert_render import compose_message, preview, subject
from coopspider.monitor.alert_send import DeliveryError, SmtpSettings, deliver
from storage import (
    AlertBatch,
    articles_archived_before,
    batch_events,
    batch_health_issues,
    claim_batch,
    create_batch,
    dissolve_batch,
    lock_outbox,
    mark_sent,
    pending_batches,
    record_run_health,
    release_batch,
    runs_to_check,
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
    factory: sessionmaker[Session],
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
        return AlertOutcome(previews=tuple(_previews(factory, settings, site)))
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    sent: list[SentMessage] = []
    while (claim := _claim(factory, site, settings, owner)) is not None:
        try:
            sent.append(_send(factory, settings, claim))
        except DeliveryError as error:
            with factory.begin() as session:
                if claim.attempts == 1 and not error.maybe_delivered:
                    dissolve_batch(session, claim.batch_id, owner=owner)
                else:
                    release_batch(session, claim.batch_id, owner=owner, error=str(error))
            return AlertOutcome(
                sent=tuple(sent), error=str(error), maybe_delivered=error.maybe_delivered
            )
    return AlertOutcome(sent=tuple(sent))


def _send(factory: sessionmaker[Session], settings: SmtpSettings, claim: _Claim) -> SentMessage:
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
        with factory.begin() as session:
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
    factory: sessionmaker[Session], site: str | None, settings: SmtpSettings, owner: str
) -> _Claim | None:
    """Claim the next batch to send, in one transaction under the outbox lock."""
    with factory.begin() as session:
        claimed = _next_batches(session, settings, site, owner, first_only=True)
        if not claimed:
            return None
        batch = claimed[0]
        return _Claim(batch.id, batch.message_id, batch.attempts, load_digest(session, batch.id))


def _previews(
    factory: sessionmaker[Session], settings: SmtpSettings, site: str | None
) -> list[str]:
    """Every message a real run would send now, rendered; nothing is committed."""
    with factory() as session:  # closing without a commit rolls the claims back
        batches = _next_batches(session, settings, site, "dry-run", first_only=False)
        now = datetime.now(UTC)
        return [
            preview(
                compose_message(
                    load_digest(session, batch.id),
                    sender=settings.sender,
                    recipients=settings.recipients,
                    message_id=batch.message_id,
                    date=now,
                )
            )
            for batch in batches
        ]


def _next_batches(
    session: Session, settings: SmtpSettings, site: str | None, owner: str, *, first_only: bool
) -> list[AlertBatch]:
    """Claim the pending batches left behind (oldest first), then a new batch of what is left."""
    lock_outbox(session)
    now = datetime.now(UTC)
    check_health(session, site=site, now=now)
    batches: list[AlertBatch] = []
    for batch in pending_batches(session, site=site):
        if _abandoned(batch, now):
            claim_batch(session, batch, owner=owner, claimed_at=now)
            batches.append(batch)
            if first_only:
                return batches
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    new = create_batch(
        session,
        site=site,
        owner=owner,
        created_at=now,
        message_id=make_msgid("coopspider", domain=domain),
    )
    return batches + [new] if new else batches


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


def check_health(session: Session, *, site: str | None, now: datetime) -> None:
    """Examine every crawl run not examined yet and record the health issues it opens or ends."""
    for run in runs_to_check(session, site=site, stale_before=now - STALE_RUN_AFTER):
        facts = RunFacts(
            status=run.status,
            finish_reason=run.finish_reason,
            started_at=run.started_at,
            stats=run.stats or {},
            archived_before=articles_archived_before(session, run.site, run.started_at),
            stale=run.status == "running",
        )
        health = judge_run(facts)
        record_run_health(
            session, run, judged=health.judged, problems=health.problems, checked_at=now
        )


def load_digest(session: Session, batch_id: int) -> Digest:
    """The digest of one batch: its change events (with the new reports' text) and issues."""
    events = batch_events(session, batch_id)
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
    health = [
        HealthInput(issue.site, issue.kind, issue.details, issue.first_run.started_at)
        for issue in batch_health_issues(session, batch_id)
    ]
    return build_digest(inputs, health)
