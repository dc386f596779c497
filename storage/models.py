"""ORM models of the archive, mapped onto the tables of storage.schema: crawl runs, articles,
their versions, counter readings, the change events found by comparing crawls, and the alert
outbox with the crawl health issues. Writers use them; readers query the tables directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from storage import schema


class Base(DeclarativeBase):
    """Declarative base on the schema's metadata (and its naming convention)."""

    metadata = schema.metadata


class CrawlRun(Base):
    """One crawl of one site by one spider."""

    __table__ = schema.crawl_runs

    id: Mapped[int]
    site: Mapped[str]
    spider: Mapped[str]
    base_url: Mapped[str]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str]
    finish_reason: Mapped[str | None]
    stats: Mapped[dict[str, Any] | None]


class Article(Base):
    """One article of one site, identified by the numeric id in its URL."""

    __table__ = schema.articles

    id: Mapped[int]
    site: Mapped[str]
    article_id: Mapped[str]
    url: Mapped[str]
    category: Mapped[str | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_run_id: Mapped[int]
    removed_at: Mapped[datetime | None]
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]
    last_listed_at: Mapped[datetime | None]

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.version", passive_deletes=True
    )


class ArticleVersion(Base):
    """One distinct content of an article; a new row only when the normalised content changed."""

    __table__ = schema.article_versions

    id: Mapped[int]
    article_pk: Mapped[int]
    version: Mapped[int]
    content_hash: Mapped[str]
    title: Mapped[str]
    published_at: Mapped[datetime | None]
    published_raw: Mapped[str | None]
    author: Mapped[str | None]
    summary: Mapped[str | None]
    body: Mapped[str]
    images: Mapped[list[dict[str, str | None]]]
    fetched_at: Mapped[datetime]
    crawl_run_id: Mapped[int]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    warc_record_id: Mapped[int | None]

    article: Mapped[Article] = relationship(back_populates="versions")
    warc_record: Mapped[WarcRecord | None] = relationship()


class WarcRecord(Base):
    """A capture of an article page in a WARC file (storage.warc)."""

    __table__ = schema.warc_records

    id: Mapped[int]
    article_pk: Mapped[int]
    host: Mapped[str]
    file: Mapped[str]
    offset: Mapped[int]
    length: Mapped[int]
    target_uri: Mapped[str]
    status: Mapped[int]
    fetched_at: Mapped[datetime]
    payload_digest: Mapped[str]


class CounterObservation(Base):
    """One reading of a site's visitor counter."""

    __table__ = schema.counter_observations

    id: Mapped[int]
    site: Mapped[str]
    url: Mapped[str]
    observed_at: Mapped[datetime]
    total: Mapped[int | None]
    online: Mapped[int | None]
    crawl_run_id: Mapped[int]


class ChangeEvent(Base):
    """One change a crawl found: the single record the diff, the alerts and the report read."""

    __table__ = schema.change_events

    id: Mapped[int]
    site: Mapped[str]
    kind: Mapped[str]
    article_pk: Mapped[int | None]
    crawl_run_id: Mapped[int]
    detected_at: Mapped[datetime]
    details: Mapped[dict[str, Any]]
    warc_record_id: Mapped[int | None]

    article: Mapped[Article | None] = relationship()
    warc_record: Mapped[WarcRecord | None] = relationship()


class AlertChannel(Base):
    """One place alerts go to, with its own batches (schema.alert_channels)."""

    __table__ = schema.alert_channels

    id: Mapped[int]
    key: Mapped[str]
    label: Mapped[str]
    first_event_id: Mapped[int]
    first_issue_id: Mapped[int]
    created_at: Mapped[datetime]


class AlertBatch(Base):
    """One alert message of one channel in the outbox (schema.alert_batches)."""

    __table__ = schema.alert_batches

    id: Mapped[int]
    channel_id: Mapped[int]
    site: Mapped[str | None]
    status: Mapped[str]
    message_id: Mapped[str]
    created_at: Mapped[datetime]
    claimed_by: Mapped[str | None]
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int]
    last_error: Mapped[str | None]
    sent_at: Mapped[datetime | None]


class AlertBatchEvent(Base):
    """A change event covered by an alert batch of a channel."""

    __table__ = schema.alert_channel_events

    channel_id: Mapped[int]
    event_id: Mapped[int]
    batch_id: Mapped[int]


class AlertBatchIssue(Base):
    """A health issue covered by an alert batch of a channel."""

    __table__ = schema.alert_channel_issues

    channel_id: Mapped[int]
    issue_id: Mapped[int]
    batch_id: Mapped[int]


class HealthIssue(Base):
    """A crawl health problem of one site, open until a run without it (schema.health_issues)."""

    __table__ = schema.health_issues

    id: Mapped[int]
    site: Mapped[str]
    kind: Mapped[str]
    first_run_id: Mapped[int]
    last_run_id: Mapped[int]
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]]

    first_run: Mapped[CrawlRun] = relationship(foreign_keys=[schema.health_issues.c.first_run_id])


class HealthCheckedRun(Base):
    """A crawl run whose health has been examined, so it is examined once."""

    __table__ = schema.health_checked_runs

    crawl_run_id: Mapped[int]
    checked_at: Mapped[datetime]
