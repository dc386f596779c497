"""The archive's tables, declared with SQLAlchemy Core: crawl runs, articles, their versions and
WARC captures, counter readings, change events, and the alert outbox with the health issues.

The ORM models (storage.models) are mapped onto these tables, so the schema is declared once.
Readers query the tables directly (`Database.read()`), which spares a quick read command the
import of the ORM and the declaration of the models: a third of its start-up.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

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


metadata = MetaData(naming_convention=NAMING_CONVENTION)


# One crawl of one site by one spider.
crawl_runs = Table(
    "crawl_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site", String(100), nullable=False),
    Column("spider", String(100), nullable=False),
    Column("base_url", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(16), nullable=False, default="running"),
    Column("finish_reason", String(100)),
    Column("stats", JSON(none_as_null=True)),
    CheckConstraint("status IN ('running', 'finished', 'failed')", name="status"),
    Index("ix_crawl_runs_site_started_at", "site", "started_at"),
)

# One article of one site, identified by the numeric id in its URL.
articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site", String(100), nullable=False),
    Column("article_id", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("category", Text),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("last_run_id", ForeignKey("crawl_runs.id"), nullable=False, index=True),
    # Set when the site stopped serving the article (404/410, or gone from its listing).
    Column("removed_at", UTCDateTime),
    # HTTP validators of the page as last served, sent back to ask "changed since?" (RFC 9110).
    Column("etag", Text),
    Column("last_modified", Text),
    # When a category listing last showed the article: only an article once listed can leave
    # its listing.
    Column("last_listed_at", UTCDateTime),
    UniqueConstraint("site", "article_id"),
)

# One distinct content of an article; a new row only when the normalised content changed.
article_versions = Table(
    "article_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_pk", ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("published_at", UTCDateTime),
    Column("published_raw", Text),
    Column("author", Text),
    Column("summary", Text),
    Column("body", Text, nullable=False),
    Column("images", JSON, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("crawl_run_id", ForeignKey("crawl_runs.id"), nullable=False, index=True),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    # The page this version was read from, in the WARC files (None: written without WARC).
    Column("warc_record_id", ForeignKey("warc_records.id", ondelete="SET NULL")),
    UniqueConstraint("article_pk", "version"),
)

# A response record (and the request record after it) in a WARC file: one capture of an article
# page, a version's or the 404/410 that removed it (storage.warc).
warc_records = Table(
    "warc_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_pk", ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("host", Text, nullable=False),  # the machine that wrote the file
    Column("file", Text, nullable=False),  # its name in the WARC folder
    Column("offset", BigInteger, nullable=False),  # of the response record
    Column("length", BigInteger, nullable=False),  # of the response and request records
    Column("target_uri", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),  # the WARC-Date
    Column("payload_digest", Text, nullable=False),  # WARC-Payload-Digest, "sha1:..."
)

# One reading of a site's visitor counter.
counter_observations = Table(
    "counter_observations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site", String(100), nullable=False),
    Column("url", Text, nullable=False),
    Column("observed_at", UTCDateTime, nullable=False),
    Column("total", BigInteger),
    Column("online", Integer),
    Column("crawl_run_id", ForeignKey("crawl_runs.id"), nullable=False, index=True),
    Index("ix_counter_observations_site_observed_at", "site", "observed_at"),
)

# One change a crawl found: the single record the diff, the alerts and the report read.
change_events = Table(
    "change_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site", String(100), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("article_pk", ForeignKey("articles.id", ondelete="CASCADE"), index=True),
    Column("crawl_run_id", ForeignKey("crawl_runs.id"), nullable=False, index=True),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("details", JSON, nullable=False),
    # The 404/410 answer of a removal, in the WARC files.
    Column("warc_record_id", ForeignKey("warc_records.id", ondelete="SET NULL")),
    CheckConstraint(
        "kind IN ('baseline', 'new', 'changed', 'removed', 'restored', 'counter_anomaly')",
        name="kind",
    ),
    Index("ix_change_events_site_detected_at", "site", "detected_at"),
)

# One place alerts go to: the e-mail recipients, or one Apprise URL (coopspider.config). Each
# channel has its own batches, so one channel's failure never holds back or repeats another. A
# channel covers the change events and health issues from the first ones no channel had alerted
# when it was first used: adding a channel does not send it the whole history.
alert_channels = Table(
    "alert_channels",
    metadata,
    Column("id", Integer, primary_key=True),
    # "email", or "apprise:" and a digest of the URL with its secrets masked (never a secret).
    Column("key", String(100), nullable=False, unique=True),
    # How people see it: "e-mail", or the Apprise URL with its secrets masked.
    Column("label", Text, nullable=False),
    Column("first_event_id", Integer, nullable=False, default=0),
    Column("first_issue_id", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
)

# One alert message of one channel in the outbox: what it covers, and whether the channel
# accepted it. A pending batch with `claimed_by` set is being sent by that process; without it,
# it waits to be sent again as it is (an earlier attempt may have reached the server: same
# Message-ID).
alert_batches = Table(
    "alert_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "channel_id",
        ForeignKey("alert_channels.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # The --site the batch was built for; None when it covers every site.
    Column("site", String(100)),
    Column("status", String(16), nullable=False, default="pending"),
    Column("message_id", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(255)),
    Column("claimed_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    # Why the last attempt failed, with no secret in it.
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    CheckConstraint("status IN ('pending', 'sent')", name="status"),
    Index("ix_alert_batches_status", "status"),
)

# A change event covered by an alert batch of a channel; its key keeps an event in one batch of
# each channel at most.
alert_channel_events = Table(
    "alert_channel_events",
    metadata,
    Column("channel_id", ForeignKey("alert_channels.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "event_id",
        ForeignKey("change_events.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column(
        "batch_id", ForeignKey("alert_batches.id", ondelete="CASCADE"), nullable=False, index=True
    ),
)

# A health issue covered by an alert batch of a channel: alerted once to each channel.
alert_channel_issues = Table(
    "alert_channel_issues",
    metadata,
    Column("channel_id", ForeignKey("alert_channels.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "issue_id",
        ForeignKey("health_issues.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column(
        "batch_id", ForeignKey("alert_batches.id", ondelete="CASCADE"), nullable=False, index=True
    ),
)

# A crawl health problem of one site, open from the run that showed it until a run without it.
# It is alerted once to each channel (alert_channel_issues), however many runs it lasts.
health_issues = Table(
    "health_issues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site", String(100), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("first_run_id", ForeignKey("crawl_runs.id"), nullable=False),
    Column("last_run_id", ForeignKey("crawl_runs.id"), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    # What the first run showed (counts, finish reason), for the alert text.
    Column("details", JSON, nullable=False),
    CheckConstraint(
        "kind IN ('no_articles', 'run_failed', 'pages_unparsed', 'dates_unparsed')",
        name="kind",
    ),
    Index("ix_health_issues_site_kind", "site", "kind"),
)

# A crawl run whose health has been examined, so it is examined once.
health_checked_runs = Table(
    "health_checked_runs",
    metadata,
    Column("crawl_run_id", ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("checked_at", UTCDateTime, nullable=False),
)
