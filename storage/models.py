"""ORM models of the archive: crawl runs, articles, their versions, counter readings, the
change events found by comparing crawls, and the alert outbox with the crawl health issues."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints let Alembic's batch mode rebuild SQLite tables and drop constraints by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_STATUSES = ("running", "finished", "failed")
# The finish_reason of a failed run stopped by Ctrl-C (SIGINT): the user's choice, not a fault of
# the site or the scraper, so the crawl health check raises no alert about it.
RUN_INTERRUPTED = "interrupted"
# What a change event says happened; storage.changes documents the details of each kind.
EVENT_KINDS = ("baseline", "new", "changed", "removed", "restored", "counter_anomaly")
# An alert message waits in the outbox as "pending" until the SMTP server accepted it.
BATCH_STATUSES = ("pending", "sent")
# Crawl health problems worth an alert: a run that found nothing where there used to be articles,
# a run that failed or was cut short, many pages or dates that did not parse.
HEALTH_KINDS = ("no_articles", "run_failed", "pages_unparsed", "dates_unparsed")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetime stored in UTC; always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime not allowed: {value!r}")
        value = value.astimezone(UTC)
        # SQLite has no zone: store the UTC wall time.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CrawlRun(Base):
    """One crawl of one site by one spider."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'finished', 'failed')", name="status"),
        Index("ix_crawl_runs_site_started_at", "site", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    spider: Mapped[str] = mapped_column(String(100))
    base_url: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    finish_reason: Mapped[str | None] = mapped_column(String(100))
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class Article(Base):
    """One article of one site, identified by the numeric id in its URL."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("site", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    article_id: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    # Set when the site stopped serving the article (404/410, or gone from its listing).
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # HTTP validators of the page as last served, sent back to ask "changed since?" (RFC 9110).
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # When a category listing last showed the article: only an article once listed can leave
    # its listing.
    last_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.version", passive_deletes=True
    )


class ArticleVersion(Base):
    """One distinct content of an article; a new row only when the normalised content changed."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_pk", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_pk: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_raw: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    images: Mapped[list[dict[str, str | None]]] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The page this version was read from, in the WARC files (None: written without WARC).
    warc_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("warc_records.id", ondelete="SET NULL")
    )

    article: Mapped[Article] = relationship(back_populates="versions")
    warc_record: Mapped[WarcRecord | None] = relationship()


class WarcRecord(Base):
    """A response record (and the request record after it) in a WARC file: one capture of an
    article page, a version's or the 404/410 that removed it (storage.warc)."""

    __tablename__ = "warc_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_pk: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(Text)  # the machine that wrote the file
    file: Mapped[str] = mapped_column(Text)  # its name in the WARC folder
    offset: Mapped[int] = mapped_column(BigInteger)  # of the response record
    length: Mapped[int] = mapped_column(BigInteger)  # of the response and request records
    target_uri: Mapped[str] = mapped_column(Text)
    status: Mapped[int]
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the WARC-Date
    payload_digest: Mapped[str] = mapped_column(Text)  # WARC-Payload-Digest, "sha1:..."


class CounterObservation(Base):
    """One reading of a site's visitor counter."""

    __tablename__ = "counter_observations"
    __table_args__ = (Index("ix_counter_observations_site_observed_at", "site", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    total: Mapped[int | None] = mapped_column(BigInteger)
    online: Mapped[int | None]
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)


class ChangeEvent(Base):
    """One change a crawl found: the single record the diff, the alerts and the report read."""

    __tablename__ = "change_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('baseline', 'new', 'changed', 'removed', 'restored', 'counter_anomaly')",
            name="kind",
        ),
        Index("ix_change_events_site_detected_at", "site", "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    article_pk: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The 404/410 answer of a removal, in the WARC files.
    warc_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("warc_records.id", ondelete="SET NULL")
    )

    article: Mapped[Article | None] = relationship()
    warc_record: Mapped[WarcRecord | None] = relationship()


class AlertChannel(Base):
    """One place alerts go to: the e-mail recipients, or one Apprise URL (coopspider.config).

    Each channel has its own batches, so one channel's failure never holds back or repeats another.
    A channel covers the change events and health issues from the first ones no channel had
    alerted when it was first used: adding a channel does not send it the whole history.
    """

    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "email", or "apprise:" and a digest of the URL with its secrets masked (never a secret).
    key: Mapped[str] = mapped_column(String(100), unique=True)
    # How people see it: "e-mail", or the Apprise URL with its secrets masked.
    label: Mapped[str] = mapped_column(Text)
    first_event_id: Mapped[int] = mapped_column(default=0)
    first_issue_id: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertBatch(Base):
    """One alert message of one channel in the outbox: what it covers, and whether the channel
    accepted it.

    A pending batch with `claimed_by` set is being sent by that process; without it, it waits to
    be sent again as it is (an earlier attempt may have reached the server: same Message-ID).
    """

    __tablename__ = "alert_batches"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent')", name="status"),
        Index("ix_alert_batches_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="CASCADE"), index=True
    )
    # The --site the batch was built for; None when it covers every site.
    site: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    message_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    # Why the last attempt failed, with no secret in it.
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertBatchEvent(Base):
    """A change event covered by an alert batch of a channel; its key keeps an event in one
    batch of each channel at most."""

    __tablename__ = "alert_channel_events"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("change_events.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("alert_batches.id", ondelete="CASCADE"), index=True
    )


class AlertBatchIssue(Base):
    """A health issue covered by an alert batch of a channel: alerted once to each channel."""

    __tablename__ = "alert_channel_issues"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("alert_channels.id", ondelete="CASCADE"), primary_key=True
    )
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("health_issues.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("alert_batches.id", ondelete="CASCADE"), index=True
    )


class HealthIssue(Base):
    """A crawl health problem of one site, open from the run that showed it until a run without it.

    It is alerted once to each channel (`AlertBatchIssue`), however many runs it lasts.
    """

    __tablename__ = "health_issues"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('no_articles', 'run_failed', 'pages_unparsed', 'dates_unparsed')",
            name="kind",
        ),
        Index("ix_health_issues_site_kind", "site", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    first_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the first run showed (counts, finish reason), for the alert text.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

    first_run: Mapped[CrawlRun] = relationship(foreign_keys=[first_run_id])


class HealthCheckedRun(Base):
    """A crawl run whose health has been examined, so it is examined once."""

    __tablename__ = "health_checked_runs"

    crawl_run_id: Mapped[int] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True
    )
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The search index follows every inserted version through a mapper event of storage.fulltext:
# imported here, so that whoever uses the models has it, whichever of the package's names it
# imports (the package imports its modules only on first use).
from storage import fulltext as _fulltext  # noqa: E402, F401
