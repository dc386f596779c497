"""The alert outbox (batches and the change events each covers) and crawl health issues.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("claimed_at", _TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", _TIME, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent')", name=op.f("ck_alert_batches_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_batches")),
    )
    op.create_index("ix_alert_batches_status", "alert_batches", ["status"])

    op.create_table(
        "alert_batch_events",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["change_events.id"],
            name=op.f("fk_alert_batch_events_event_id_change_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["alert_batches.id"],
            name=op.f("fk_alert_batch_events_batch_id_alert_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_alert_batch_events")),
    )
    op.create_index(op.f("ix_alert_batch_events_batch_id"), "alert_batch_events", ["batch_id"])

    op.create_table(
        "health_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME, nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("alert_batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('no_articles', 'run_failed', 'pages_unparsed', 'dates_unparsed')",
            name=op.f("ck_health_issues_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_health_issues_first_run_id_crawl_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_health_issues_last_run_id_crawl_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_batch_id"],
            ["alert_batches.id"],
            name=op.f("fk_health_issues_alert_batch_id_alert_batches"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_issues")),
    )
    op.create_index("ix_health_issues_site_kind", "health_issues", ["site", "kind"])
    op.create_index(op.f("ix_health_issues_alert_batch_id"), "health_issues", ["alert_batch_id"])

    op.create_table(
        "health_checked_runs",
        sa.Column("crawl_run_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_health_checked_runs_crawl_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("crawl_run_id", name=op.f("pk_health_checked_runs")),
    )


def downgrade() -> None:
    op.drop_table("health_checked_runs")
    op.drop_table("health_issues")
    op.drop_table("alert_batch_events")
    op.drop_table("alert_batches")
