"""Change events (new, changed, removed, ...) and the time an article was removed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("removed_at", _TIME, nullable=True))

    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("article_pk", sa.Integer(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=False),
        sa.Column("detected_at", _TIME, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('baseline', 'new', 'changed', 'removed', 'restored', 'counter_anomaly')",
            name=op.f("ck_change_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["article_pk"],
            ["articles.id"],
            name=op.f("fk_change_events_article_pk_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_change_events_crawl_run_id_crawl_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
    )
    op.create_index("ix_change_events_site_detected_at", "change_events", ["site", "detected_at"])
    op.create_index(op.f("ix_change_events_article_pk"), "change_events", ["article_pk"])
    op.create_index(op.f("ix_change_events_crawl_run_id"), "change_events", ["crawl_run_id"])


def downgrade() -> None:
    op.drop_table("change_events")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("removed_at")
