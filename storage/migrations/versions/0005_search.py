"""Full-text search index, filled for the articles already archived; views for browsing tools.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

The index holds text folded by storage.fulltext (see its docstring for why folding is done in
Python); the views `latest_articles` and `counter_series` make the archive readable in Datasette
or any SQL client, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage.fulltext import add_to_index

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL_BATCH = 2000

_LATEST_ARTICLES = """
CREATE VIEW latest_articles AS
SELECT a.id AS article_pk, a.site, a.article_id, a.url, a.category, v.version, v.title,
       v.published_at, v.published_raw, v.author, v.summary, v.body,
       a.first_seen_at, a.last_seen_at, a.removed_at
FROM articles AS a
JOIN article_versions AS v ON v.article_pk = a.id
WHERE v.version = (SELECT MAX(version) FROM article_versions WHERE article_pk = a.id)
"""

# Days between two readings: the one expression the two databases spell differently.
_DAYS_BETWEEN = {
    "sqlite": "julianday(observed_at) - julianday(LAG(observed_at) OVER w)",
    "postgresql": "EXTRACT(EPOCH FROM observed_at - LAG(observed_at) OVER w) / 86400.0",
}

_COUNTER_SERIES = """
CREATE VIEW counter_series AS
SELECT site, observed_at, total, online, previous_total, total - previous_total AS delta,
       days_elapsed,
       CASE WHEN days_elapsed > 0 AND total >= previous_total
            THEN ROUND((total - previous_total) / days_elapsed) END AS visits_per_day
FROM (
    SELECT site, observed_at, total, online, LAG(total) OVER w AS previous_total,
           {days_between} AS days_elapsed
    FROM counter_observations
    WHERE total IS NOT NULL
    WINDOW w AS (PARTITION BY site ORDER BY observed_at, id)
) AS readings
"""


def upgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "title, body, content='', tokenize='unicode61 remove_diacritics 2')"
        )
    else:
        op.create_table(
            "search_index",
            sa.Column("article_pk", sa.Integer(), nullable=False),
            sa.Column("version_id", sa.Integer(), nullable=False),
            sa.Column("title", postgresql.TSVECTOR(), nullable=False),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(
                ["article_pk"],
                ["articles.id"],
                name=op.f("fk_search_index_article_pk_articles"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["version_id"],
                ["article_versions.id"],
                name=op.f("fk_search_index_version_id_article_versions"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("article_pk", name=op.f("pk_search_index")),
        )
        op.create_index(
            "ix_search_index_document", "search_index", ["document"], postgresql_using="gin"
        )
    op.execute(_LATEST_ARTICLES)
    op.execute(_COUNTER_SERIES.format(days_between=_DAYS_BETWEEN[dialect]))
    _backfill(connection)


def _backfill(connection: sa.Connection) -> None:
    """Index the latest version of every article archived before this revision."""
    latest = sa.text(
        "SELECT v.article_pk, v.id, v.title, v.body FROM article_versions AS v "
        "WHERE v.id > :after AND v.version = "
        "(SELECT MAX(version) FROM article_versions WHERE article_pk = v.article_pk) "
        "ORDER BY v.id LIMIT :batch"
    )
    after = 0
    while rows := connection.execute(latest, {"after": after, "batch": _BACKFILL_BATCH}).all():
        add_to_index(connection, [tuple(row) for row in rows])
        after = rows[-1][1]


def downgrade() -> None:
    op.execute("DROP VIEW counter_series")
    op.execute("DROP VIEW latest_articles")
    op.drop_table("search_index")
