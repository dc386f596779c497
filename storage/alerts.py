"""The alert outbox and crawl health issues: repository functions inside the caller's transaction.

Exactly once per channel, in three steps the caller runs in separate transactions: claim a batch
of a channel (a pending batch left by an earlier run, or a new one covering every health issue and
every change event of a finished crawl not yet in a batch of that channel), send it, then mark it
sent. A change event belongs to one batch of each channel at most (with the channel, it is the key
of `alert_channel_events`), and claims are serialised by `lock_outbox`, so two runs never cover the
same change for the same channel. A batch is marked sent only after its channel accepted it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, select, text, update
from sqlalchemy.orm import Session, selectinload

from storage.models import (
    AlertBatch,
    AlertBatchEvent,
    AlertBatchIssue,
    AlertChannel,
    Article,
    ArticleVersion,
    ChangeEvent,
    CrawlRun,
    HealthCheckedRun,
    HealthIssue,
)
from storage.schema import HEALTH_KINDS

# Any fixed number, distinct from the migration lock: alert runs wait for each other's claims.
_PG_OUTBOX_LOCK = 0x616C7274


def lock_outbox(session: Session) -> None:
    """Take the outbox lock until the end of the transaction, so claims never interleave.

    PostgreSQL: a transaction-level advisory lock. SQLite: the transaction's BEGIN IMMEDIATE (see
    storage.db) already holds the database's write lock; starting it here is enough.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_OUTBOX_LOCK})


# -- crawl health ----------------------------------------------------------------------------------


def runs_to_check(session: Session, *, site: str | None, stale_before: datetime) -> list[CrawlRun]:
    """Runs whose health was not examined yet: ended ones, and running ones started before
    `stale_before` (a crawl killed outright never says it ended). Oldest first."""
    query = (
        select(CrawlRun)
        .where(~exists().where(HealthCheckedRun.crawl_run_id == CrawlRun.id))
        .where((CrawlRun.status != "running") | (CrawlRun.started_at < stale_before))
        .order_by(CrawlRun.id)
    )
    if site is not None:
        query = query.where(CrawlRun.site == site)
    return list(session.scalars(query))


def articles_archived_before(session: Session, site: str, moment: datetime) -> int:
    """How many articles of `site` the archive held before `moment`."""
    query = select(func.count()).where(Article.site == site, Article.first_seen_at < moment)
    return session.scalar(query) or 0


def issue_changes(
    open_kinds: AbstractSet[str], judged: Iterable[str], problems: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """What one run's health does to a site's issues: the kinds it opens a new issue for, and
    the open kinds it resolves (judged, and no longer a problem); in HEALTH_KINDS order. A
    problem whose issue is open extends that issue."""
    judged = set(judged)
    opened = [k for k in HEALTH_KINDS if k in judged and k in problems and k not in open_kinds]
    resolved = [k for k in HEALTH_KINDS if k in judged and k not in problems and k in open_kinds]
    return opened, resolved


def open_issue_kinds(session: Session, *, site: str | None) -> dict[str, set[str]]:
    """The kinds of the issues still open, by site."""
    query = select(HealthIssue.site, HealthIssue.kind).where(HealthIssue.resolved_at.is_(None))
    if site is not None:
        query = query.where(HealthIssue.site == site)
    kinds: dict[str, set[str]] = {}
    for row in session.execute(query):
        kinds.setdefault(row.site, set()).add(row.kind)
    return kinds


def record_run_health(
    session: Session,
    run: CrawlRun,
    *,
    judged: Iterable[str],
    problems: Mapping[str, Mapping[str, Any]],
    checked_at: datetime,
) -> None:
    """Apply one run's health: open an issue for each new problem, extend the ones still open,
    resolve the judged kinds the run no longer shows, and remember the run as examined."""
    judged = set(judged)
    unknown = judged.union(problems) - set(HEALTH_KINDS)
    if unknown:
        raise ValueError(f"unknown health kinds {sorted(unknown)}; expected some of {HEALTH_KINDS}")
    open_issues: dict[str, HealthIssue] = {}
    for issue in session.scalars(
        select(HealthIssue)
        .where(HealthIssue.site == run.site, HealthIssue.resolved_at.is_(None))
        .order_by(HealthIssue.id)
    ):
        open_issues.setdefault(issue.kind, issue)
    opened, resolved = issue_changes(open_issues.keys(), judged, problems)
    for kind in judged.intersection(problems).intersection(open_issues):
        open_issues[kind].last_run_id = run.id
    for kind in opened:
        session.add(
            HealthIssue(
                site=run.site,
                kind=kind,
                first_run_id=run.id,
                last_run_id=run.id,
                opened_at=checked_at,
                details=dict(problems[kind]),
            )
        )
    for kind in resolved:
        open_issues[kind].resolved_at = checked_at
    session.add(HealthCheckedRun(crawl_run_id=run.id, checked_at=checked_at))
    session.flush()


# -- the outbox ------------------------------------------------------------------------------------


def channel_id(session: Session, key: str, label: str, *, now: datetime) -> int:
    """The id of the channel `key`, registered on its first use (under the outbox lock)."""
    channel = session.scalar(select(AlertChannel).where(AlertChannel.key == key))
    if channel is not None:
        if channel.label != label:
            channel.label = label
        return channel.id
    channel = known_channel(session, key, label, now=now)
    session.add(channel)
    session.flush()
    return channel.id


def known_channel(session: Session, key: str, label: str, *, now: datetime) -> AlertChannel:
    """The channel `key` as registered, or as it would be registered now (not added).

    A new channel covers what no channel has alerted yet and everything after: from the first
    change event and health issue not in any batch (or the next ones to come), so adding a
    channel sends it what is pending, not the whole history."""
    channel = session.scalar(select(AlertChannel).where(AlertChannel.key == key))
    if channel is not None:
        return channel
    first_event = session.scalar(
        select(func.min(ChangeEvent.id)).where(
            ~exists().where(AlertBatchEvent.event_id == ChangeEvent.id)
        )
    )
    if first_event is None:
        first_event = (session.scalar(select(func.max(ChangeEvent.id))) or 0) + 1
    first_issue = session.scalar(
        select(func.min(HealthIssue.id)).where(
            ~exists().where(AlertBatchIssue.issue_id == HealthIssue.id)
        )
    )
    if first_issue is None:
        first_issue = (session.scalar(select(func.max(HealthIssue.id))) or 0) + 1
    return AlertChannel(
        key=key,
        label=label,
        first_event_id=first_event,
        first_issue_id=first_issue,
        created_at=now,
    )


def pending_batches(
    session: Session, *, site: str | None, channel: int | None = None
) -> list[AlertBatch]:
    """Batches their channel did not accept yet, oldest first; for one site, only its own; for
    one channel (an id), only its own."""
    query = select(AlertBatch).where(AlertBatch.status == "pending").order_by(AlertBatch.id)
    if channel is not None:
        query = query.where(AlertBatch.channel_id == channel)
    if site is not None:
        query = query.where(AlertBatch.site == site)
    return list(session.scalars(query))


def claim_batch(session: Session, batch: AlertBatch, *, owner: str, claimed_at: datetime) -> None:
    """Mark a pending batch as being sent by `owner`."""
    batch.claimed_by = owner
    batch.claimed_at = claimed_at
    batch.attempts += 1
    session.flush()


def create_batch(
    session: Session,
    *,
    channel: AlertChannel,
    site: str | None,
    owner: str,
    created_at: datetime,
    message_id: str,
) -> AlertBatch | None:
    """A new batch of `channel`, claimed by `owner`, covering every change event and health issue
    (of `site`) not yet in a batch of that channel; None when there is none."""
    event_ids = list(
        session.scalars(_unbatched_events(channel, site).with_only_columns(ChangeEvent.id))
    )
    issue_ids = list(
        session.scalars(_unbatched_issues(channel, site).with_only_columns(HealthIssue.id))
    )
    if not event_ids and not issue_ids:
        return None
    batch = AlertBatch(
        channel_id=channel.id,
        site=site,
        status="pending",
        message_id=message_id,
        created_at=created_at,
        claimed_by=owner,
        claimed_at=created_at,
        attempts=1,
    )
    session.add(batch)
    session.flush()
    if event_ids:
        session.execute(
            insert(AlertBatchEvent),
            [
                {"channel_id": channel.id, "event_id": event_id, "batch_id": batch.id}
                for event_id in event_ids
            ],
        )
    if issue_ids:
        session.execute(
            insert(AlertBatchIssue),
            [
                {"channel_id": channel.id, "issue_id": issue_id, "batch_id": batch.id}
                for issue_id in issue_ids
            ],
        )
    return batch


def _unbatched_events(channel: AlertChannel, site: str | None) -> Select[ChangeEvent]:
    """The change events (of `site`) no batch of `channel` covers yet, in the order they were
    recorded.

    Only a finished crawl reports: the events of a crawl that did not finish (killed, cut short)
    wait for the next crawl of their site that finishes, and go out with its own, as `diff`
    shows them (coopspider.monitor.diff)."""
    finished = (
        select(CrawlRun.site, func.max(CrawlRun.id).label("last_finished"))
        .where(CrawlRun.status == "finished")
        .group_by(CrawlRun.site)
        .subquery()
    )
    query = select(ChangeEvent).join(
        finished,
        (finished.c.site == ChangeEvent.site)
        & (ChangeEvent.crawl_run_id <= finished.c.last_finished),
    )
    covered = (AlertBatchEvent.event_id == ChangeEvent.id) & (
        AlertBatchEvent.channel_id == channel.id
    )
    query = query.where(ChangeEvent.id >= channel.first_event_id, ~exists().where(covered))
    if site is not None:
        query = query.where(ChangeEvent.site == site)
    return query.order_by(ChangeEvent.id)


def _unbatched_issues(channel: AlertChannel, site: str | None) -> Select[HealthIssue]:
    """The health issues (of `site`) no batch of `channel` covers yet, oldest first."""
    covered = (AlertBatchIssue.issue_id == HealthIssue.id) & (
        AlertBatchIssue.channel_id == channel.id
    )
    query = select(HealthIssue).where(
        HealthIssue.id >= channel.first_issue_id, ~exists().where(covered)
    )
    if site is not None:
        query = query.where(HealthIssue.site == site)
    return query.order_by(HealthIssue.id)


def unbatched_events(
    session: Session, *, site: str | None, channel: AlertChannel
) -> list[ChangeEvent]:
    """What a new batch of `channel` would cover now: the change events not in a batch of it,
    with their articles."""
    query = _unbatched_events(channel, site).options(selectinload(ChangeEvent.article))
    return list(session.scalars(query))


def unbatched_issues(
    session: Session, *, site: str | None, channel: AlertChannel
) -> list[HealthIssue]:
    """The health issues a new batch of `channel` would cover now, with the run that first
    showed each."""
    query = _unbatched_issues(channel, site).options(selectinload(HealthIssue.first_run))
    return list(session.scalars(query))


def batch_events(session: Session, batch_id: int) -> list[ChangeEvent]:
    """The change events a batch covers, in the order they were recorded, with their articles."""
    query = (
        select(ChangeEvent)
        .join(AlertBatchEvent, AlertBatchEvent.event_id == ChangeEvent.id)
        .where(AlertBatchEvent.batch_id == batch_id)
        .options(selectinload(ChangeEvent.article))
        .order_by(ChangeEvent.id)
    )
    return list(session.scalars(query))


def batch_health_issues(session: Session, batch_id: int) -> list[HealthIssue]:
    """The health issues a batch covers, oldest first, with the run that first showed each."""
    query = (
        select(HealthIssue)
        .join(AlertBatchIssue, AlertBatchIssue.issue_id == HealthIssue.id)
        .where(AlertBatchIssue.batch_id == batch_id)
        .options(selectinload(HealthIssue.first_run))
        .order_by(HealthIssue.id)
    )
    return list(session.scalars(query))


def versions_of_events(
    session: Session, events: Sequence[ChangeEvent]
) -> dict[int, ArticleVersion]:
    """For each event about an article: the version its run stored (the first one, if several),
    else the article's latest version. Keyed by event id."""
    article_pks = {event.article_pk for event in events if event.article_pk is not None}
    if not article_pks:
        return {}
    versions: dict[int, list[ArticleVersion]] = {}
    query = (
        select(ArticleVersion)
        .where(ArticleVersion.article_pk.in_(article_pks))
        .order_by(ArticleVersion.article_pk, ArticleVersion.version)
    )
    for version in session.scalars(query):
        versions.setdefault(version.article_pk, []).append(version)
    chosen: dict[int, ArticleVersion] = {}
    for event in events:
        candidates = versions.get(event.article_pk or -1)
        if not candidates:
            continue
        same_run = [v for v in candidates if v.crawl_run_id == event.crawl_run_id]
        chosen[event.id] = same_run[0] if same_run else candidates[-1]
    return chosen


def mark_sent(session: Session, batch_id: int, *, sent_at: datetime) -> None:
    """Record that the batch's channel accepted its message."""
    session.execute(
        update(AlertBatch)
        .where(AlertBatch.id == batch_id)
        .values(status="sent", sent_at=sent_at.astimezone(UTC), claimed_by=None, last_error=None)
    )


def release_batch(session: Session, batch_id: int, *, owner: str, error: str) -> None:
    """Give back a batch `owner` could not send, still pending: it goes again as it is, under the
    same Message-ID, because the server may have accepted it (use `dissolve_batch` when it surely
    did not, on a first attempt)."""
    batch = session.get(AlertBatch, batch_id)
    if batch is None or batch.status != "pending" or batch.claimed_by != owner:
        return  # sent meanwhile, or taken over by another run: theirs now
    batch.claimed_by = None
    batch.claimed_at = None
    batch.last_error = error
    session.flush()


def dissolve_batch(session: Session, batch_id: int, *, owner: str) -> None:
    """Undo a new batch `owner` could not send and its channel surely did not accept: its change
    events and health issues are free again, for the channel's next batch (merged with what is
    new by then)."""
    owned = session.scalar(
        select(AlertBatch.id).where(
            AlertBatch.id == batch_id,
            AlertBatch.status == "pending",
            AlertBatch.claimed_by == owner,
        )
    )
    if owned is None:
        return
    session.execute(delete(AlertBatchEvent).where(AlertBatchEvent.batch_id == batch_id))
    session.execute(delete(AlertBatchIssue).where(AlertBatchIssue.batch_id == batch_id))
    session.execute(delete(AlertBatch).where(AlertBatch.id == batch_id))
