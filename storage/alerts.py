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
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, delete, exists, func, insert, select, text, update

from storage.schema import (
    HEALTH_KINDS,
    alert_batches,
    alert_channel_events,
    alert_channel_issues,
    alert_channels,
    article_versions,
    articles,
    change_events,
    crawl_runs,
    health_checked_runs,
    health_issues,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.fulltext import Executor
    from storage.reading import Reader

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


def runs_to_check(reader: Reader, *, site: str | None, stale_before: datetime) -> list[Row[Any]]:
    """Runs whose health was not examined yet: ended ones, and running ones started before
    `stale_before` (a crawl killed outright never says it ended). Oldest first."""
    runs = crawl_runs.c
    query = (
        select(crawl_runs)
        .where(~exists().where(health_checked_runs.c.crawl_run_id == runs.id))
        .where((runs.status != "running") | (runs.started_at < stale_before))
        .order_by(runs.id)
    )
    if site is not None:
        query = query.where(runs.site == site)
    return list(reader.execute(query))


def articles_archived_before(reader: Reader, site: str, moment: datetime) -> int:
    """How many articles of `site` the archive held before `moment`."""
    query = select(func.count()).where(articles.c.site == site, articles.c.first_seen_at < moment)
    return reader.execute(query).scalar() or 0


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


def open_issue_kinds(reader: Reader, *, site: str | None) -> dict[str, set[str]]:
    """The kinds of the issues still open, by site."""
    issues = health_issues.c
    query = select(issues.site, issues.kind).where(issues.resolved_at.is_(None))
    if site is not None:
        query = query.where(issues.site == site)
    kinds: dict[str, set[str]] = {}
    for row in reader.execute(query):
        kinds.setdefault(row.site, set()).add(row.kind)
    return kinds


def record_run_health(
    executor: Executor,
    run: Row[Any],
    *,
    judged: Iterable[str],
    problems: Mapping[str, Mapping[str, Any]],
    checked_at: datetime,
) -> None:
    """Apply one run's health (`run`, a row of crawl_runs): open an issue for each new problem,
    extend the ones still open, resolve the judged kinds the run no longer shows, and remember
    the run as examined."""
    judged = set(judged)
    unknown = judged.union(problems) - set(HEALTH_KINDS)
    if unknown:
        raise ValueError(f"unknown health kinds {sorted(unknown)}; expected some of {HEALTH_KINDS}")
    issues = health_issues.c
    open_issues: dict[str, int] = {}
    for issue in executor.execute(
        select(issues.id, issues.kind)
        .where(issues.site == run.site, issues.resolved_at.is_(None))
        .order_by(issues.id)
    ):
        open_issues.setdefault(issue.kind, issue.id)
    opened, resolved = issue_changes(open_issues.keys(), judged, problems)
    extended = judged.intersection(problems).intersection(open_issues)
    _set_issues(executor, [open_issues[kind] for kind in extended], last_run_id=run.id)
    for kind in opened:  # one by one: their ids in HEALTH_KINDS order
        executor.execute(
            insert(health_issues).values(
                site=run.site,
                kind=kind,
                first_run_id=run.id,
                last_run_id=run.id,
                opened_at=checked_at,
                details=dict(problems[kind]),
            )
        )
    _set_issues(executor, [open_issues[kind] for kind in resolved], resolved_at=checked_at)
    executor.execute(insert(health_checked_runs).values(crawl_run_id=run.id, checked_at=checked_at))


def _set_issues(executor: Executor, ids: Sequence[int], **values: Any) -> None:
    if ids:
        executor.execute(update(health_issues).where(health_issues.c.id.in_(ids)).values(**values))


# -- the outbox ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxChannel:
    """A channel as the outbox knows it (a row of alert_channels), or as it would be registered
    now: `id` None until its first use."""

    id: int | None
    key: str
    label: str
    first_event_id: int  # the first change event it covers
    first_issue_id: int  # the first health issue it covers
    created_at: datetime


def register_channel(executor: Executor, key: str, label: str, *, now: datetime) -> OutboxChannel:
    """The channel `key` as registered, registered on its first use (under the outbox lock); its
    label as given."""
    channel = known_channel(executor, key, label, now=now)
    if channel.id is not None:
        if channel.label != label:
            executor.execute(
                update(alert_channels).where(alert_channels.c.id == channel.id).values(label=label)
            )
        return replace(channel, label=label)
    values = {name: value for name, value in asdict(channel).items() if name != "id"}
    inserted = insert(alert_channels).values(**values).returning(alert_channels.c.id)
    return replace(channel, id=executor.execute(inserted).scalar_one())


def known_channel(reader: Reader, key: str, label: str, *, now: datetime) -> OutboxChannel:
    """The channel `key` as registered, or as it would be registered now (not added).

    A new channel covers what no channel has alerted yet and everything after: from the first
    change event and health issue not in any batch (or the next ones to come), so adding a
    channel sends it what is pending, not the whole history."""
    row = reader.execute(select(alert_channels).where(alert_channels.c.key == key)).first()
    if row is not None:
        return OutboxChannel(**row._mapping)
    return OutboxChannel(
        id=None,
        key=key,
        label=label,
        first_event_id=_first_uncovered(
            reader, change_events.c.id, alert_channel_events.c.event_id
        ),
        first_issue_id=_first_uncovered(
            reader, health_issues.c.id, alert_channel_issues.c.issue_id
        ),
        created_at=now,
    )


def _first_uncovered(reader: Reader, ids: Any, covered: Any) -> int:
    """The first of `ids` no batch of any channel covers (`covered`), else the next id to come."""
    first = reader.execute(select(func.min(ids)).where(~exists().where(covered == ids))).scalar()
    if first is None:
        first = (reader.execute(select(func.max(ids))).scalar() or 0) + 1
    return int(first)


def pending_batches(
    reader: Reader, *, site: str | None, channel: int | None = None
) -> list[Row[Any]]:
    """Batches their channel did not accept yet, oldest first; for one site, only its own; for
    one channel (an id), only its own."""
    batches = alert_batches.c
    query = select(alert_batches).where(batches.status == "pending").order_by(batches.id)
    if channel is not None:
        query = query.where(batches.channel_id == channel)
    if site is not None:
        query = query.where(batches.site == site)
    return list(reader.execute(query))


def _batch(executor: Executor, batch_id: int) -> Row[Any]:
    return executor.execute(select(alert_batches).where(alert_batches.c.id == batch_id)).one()


def claim_batch(executor: Executor, batch_id: int, *, owner: str, claimed_at: datetime) -> Row[Any]:
    """Mark a pending batch as being sent by `owner`; the batch as claimed."""
    executor.execute(
        update(alert_batches)
        .where(alert_batches.c.id == batch_id)
        .values(claimed_by=owner, claimed_at=claimed_at, attempts=alert_batches.c.attempts + 1)
    )
    return _batch(executor, batch_id)


def create_batch(
    executor: Executor,
    *,
    channel: OutboxChannel,
    site: str | None,
    owner: str,
    created_at: datetime,
    message_id: str,
) -> Row[Any] | None:
    """A new batch of `channel` (registered), claimed by `owner`, covering every change event and
    health issue (of `site`) not yet in a batch of that channel; None when there is none."""
    event_ids = list(
        executor.execute(
            _unbatched_events(channel, site).with_only_columns(change_events.c.id)
        ).scalars()
    )
    issue_ids = list(
        executor.execute(
            _unbatched_issues(channel, site).with_only_columns(health_issues.c.id)
        ).scalars()
    )
    if not event_ids and not issue_ids:
        return None
    batch_id = executor.execute(
        insert(alert_batches)
        .values(
            channel_id=channel.id,
            site=site,
            status="pending",
            message_id=message_id,
            created_at=created_at,
            claimed_by=owner,
            claimed_at=created_at,
            attempts=1,
        )
        .returning(alert_batches.c.id)
    ).scalar_one()
    if event_ids:
        executor.execute(
            insert(alert_channel_events),
            [
                {"channel_id": channel.id, "event_id": event_id, "batch_id": batch_id}
                for event_id in event_ids
            ],
        )
    if issue_ids:
        executor.execute(
            insert(alert_channel_issues),
            [
                {"channel_id": channel.id, "issue_id": issue_id, "batch_id": batch_id}
                for issue_id in issue_ids
            ],
        )
    return _batch(executor, batch_id)


# What the digest reads of an event: its columns and its article's category (None without one).
_EVENTS = select(change_events, articles.c.category).outerjoin(
    articles, articles.c.id == change_events.c.article_pk
)
# What the digest reads of a health issue: its columns and when the run that showed it started.
_ISSUES = select(health_issues, crawl_runs.c.started_at.label("first_run_started_at")).join(
    crawl_runs, crawl_runs.c.id == health_issues.c.first_run_id
)


def _unbatched_events(channel: OutboxChannel, site: str | None) -> Select[Any]:
    """The change events (of `site`) no batch of `channel` covers yet, in the order they were
    recorded, with their articles' category.

    Only a finished crawl reports: the events of a crawl that did not finish (killed, cut short)
    wait for the next crawl of their site that finishes, and go out with its own, as `diff`
    shows them (coopspider.monitor.diff)."""
    events = change_events.c
    finished = (
        select(crawl_runs.c.site, func.max(crawl_runs.c.id).label("last_finished"))
        .where(crawl_runs.c.status == "finished")
        .group_by(crawl_runs.c.site)
        .subquery()
    )
    query = _EVENTS.join(
        finished,
        (finished.c.site == events.site) & (events.crawl_run_id <= finished.c.last_finished),
    )
    covered = (alert_channel_events.c.event_id == events.id) & (
        alert_channel_events.c.channel_id == channel.id
    )
    query = query.where(events.id >= channel.first_event_id, ~exists().where(covered))
    if site is not None:
        query = query.where(events.site == site)
    return query.order_by(events.id)


def _unbatched_issues(channel: OutboxChannel, site: str | None) -> Select[Any]:
    """The health issues (of `site`) no batch of `channel` covers yet, oldest first, with when
    the run that first showed each started."""
    issues = health_issues.c
    covered = (alert_channel_issues.c.issue_id == issues.id) & (
        alert_channel_issues.c.channel_id == channel.id
    )
    query = _ISSUES.where(issues.id >= channel.first_issue_id, ~exists().where(covered))
    if site is not None:
        query = query.where(issues.site == site)
    return query.order_by(issues.id)


def unbatched_events(reader: Reader, *, site: str | None, channel: OutboxChannel) -> list[Row[Any]]:
    """What a new batch of `channel` would cover now: the change events not in a batch of it,
    each with its article's `category`."""
    return list(reader.execute(_unbatched_events(channel, site)))


def unbatched_issues(reader: Reader, *, site: str | None, channel: OutboxChannel) -> list[Row[Any]]:
    """The health issues a new batch of `channel` would cover now, each with the
    `first_run_started_at` of the run that first showed it."""
    return list(reader.execute(_unbatched_issues(channel, site)))


def batch_events(reader: Reader, batch_id: int) -> list[Row[Any]]:
    """The change events a batch covers, in the order they were recorded, each with its
    article's `category`."""
    query = (
        _EVENTS.join(alert_channel_events, alert_channel_events.c.event_id == change_events.c.id)
        .where(alert_channel_events.c.batch_id == batch_id)
        .order_by(change_events.c.id)
    )
    return list(reader.execute(query))


def batch_health_issues(reader: Reader, batch_id: int) -> list[Row[Any]]:
    """The health issues a batch covers, oldest first, each with the `first_run_started_at` of
    the run that first showed it."""
    query = (
        _ISSUES.join(alert_channel_issues, alert_channel_issues.c.issue_id == health_issues.c.id)
        .where(alert_channel_issues.c.batch_id == batch_id)
        .order_by(health_issues.c.id)
    )
    return list(reader.execute(query))


def versions_of_events(reader: Reader, events: Sequence[Row[Any]]) -> dict[int, Row[Any]]:
    """For each event about an article: the version its run stored (the first one, if several),
    else the article's latest version. Keyed by event id."""
    article_pks = {event.article_pk for event in events if event.article_pk is not None}
    if not article_pks:
        return {}
    versions: dict[int, list[Row[Any]]] = {}
    query = (
        select(article_versions)
        .where(article_versions.c.article_pk.in_(article_pks))
        .order_by(article_versions.c.article_pk, article_versions.c.version)
    )
    for version in reader.execute(query):
        versions.setdefault(version.article_pk, []).append(version)
    chosen: dict[int, Row[Any]] = {}
    for event in events:
        candidates = versions.get(event.article_pk or -1)
        if not candidates:
            continue
        same_run = [v for v in candidates if v.crawl_run_id == event.crawl_run_id]
        chosen[event.id] = same_run[0] if same_run else candidates[-1]
    return chosen


def mark_sent(executor: Executor, batch_id: int, *, sent_at: datetime) -> None:
    """Record that the batch's channel accepted its message."""
    executor.execute(
        update(alert_batches)
        .where(alert_batches.c.id == batch_id)
        .values(status="sent", sent_at=sent_at.astimezone(UTC), claimed_by=None, last_error=None)
    )


def _owned(executor: Executor, batch_id: int, owner: str) -> bool:
    """Whether the batch is still pending and claimed by `owner` (not sent meanwhile, nor taken
    over by another run)."""
    batches = alert_batches.c
    query = select(batches.id).where(
        batches.id == batch_id, batches.status == "pending", batches.claimed_by == owner
    )
    return executor.execute(query).first() is not None


def release_batch(executor: Executor, batch_id: int, *, owner: str, error: str) -> None:
    """Give back a batch `owner` could not send, still pending: it goes again as it is, under the
    same Message-ID, because the server may have accepted it (use `dissolve_batch` when it surely
    did not, on a first attempt)."""
    if not _owned(executor, batch_id, owner):
        return  # sent meanwhile, or taken over by another run: theirs now
    executor.execute(
        update(alert_batches)
        .where(alert_batches.c.id == batch_id)
        .values(claimed_by=None, claimed_at=None, last_error=error)
    )


def dissolve_batch(executor: Executor, batch_id: int, *, owner: str) -> None:
    """Undo a new batch `owner` could not send and its channel surely did not accept: its change
    events and health issues are free again, for the channel's next batch (merged with what is
    new by then)."""
    if not _owned(executor, batch_id, owner):
        return
    executor.execute(
        delete(alert_channel_events).where(alert_channel_events.c.batch_id == batch_id)
    )
    executor.execute(
        delete(alert_channel_issues).where(alert_channel_issues.c.batch_id == batch_id)
    )
    executor.execute(delete(alert_batches).where(alert_batches.c.id == batch_id))
