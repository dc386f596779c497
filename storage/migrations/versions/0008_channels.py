"""Alert channels: each channel (the e-mail recipients, each Apprise URL) has its own batches.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Until now the outbox had one channel, e-mail: an event belonged to one batch at most
(`alert_batch_events`) and a health issue named its batch (`health_issues.alert_batch_id`). Now an
event or an issue belongs to one batch *of each channel* at most (`alert_channel_events`,
`alert_channel_issues`), so a channel that failed goes again with the next run without repeating
the others. What the e-mail channel had sent is kept as the e-mail channel's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)
_EMAIL = 1  # the id the e-mail channel gets when the archive had e-mail batches


def _link_table(name: str, column: str, target: str) -> None:
    """A table of (channel, event or issue) -> batch, one row per channel at most."""
    op.create_table(
        name,
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(column, sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["alert_channels.id"],
            name=op.f(f"fk_{name}_channel_id_alert_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            [column],
            [f"{target}.id"],
            name=op.f(f"fk_{name}_{column}_{target}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["alert_batches.id"],
            name=op.f(f"fk_{name}_batch_id_alert_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", column, name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_{column}"), name, [column])
    op.create_index(op.f(f"ix_{name}_batch_id"), name, ["batch_id"])


def upgrade() -> None:
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("first_issue_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channels")),
        sa.UniqueConstraint("key", name=op.f("uq_alert_channels_key")),
    )
    connection = op.get_bind()
    had_email = connection.scalar(sa.text("SELECT count(*) FROM alert_batches")) > 0
    if had_email:
        # E-mail was the only channel: it covered everything from the start.
        connection.execute(
            sa.text(
                "INSERT INTO alert_channels (id, key, label, first_event_id, first_issue_id,"
                " created_at) VALUES (:id, 'email', 'e-mail', 0, 0, :now)"
            ),
            {"id": _EMAIL, "now": datetime.now(UTC)},
        )
    with op.batch_alter_table("alert_batches") as batch:
        batch.add_column(sa.Column("channel_id", sa.Integer(), nullable=True))
    op.execute(sa.text(f"UPDATE alert_batches SET channel_id = {_EMAIL}"))
    with op.batch_alter_table("alert_batches") as batch:
        batch.alter_column("channel_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            op.f("fk_alert_batches_channel_id_alert_channels"),
            "alert_channels",
            ["channel_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_alert_batches_channel_id"), ["channel_id"])

    _link_table("alert_channel_events", "event_id", "change_events")
    _link_table("alert_channel_issues", "issue_id", "health_issues")
    op.execute(
        sa.text(
            "INSERT INTO alert_channel_events (channel_id, event_id, batch_id)"
            f" SELECT {_EMAIL}, event_id, batch_id FROM alert_batch_events"
        )
    )
    op.execute(
        sa.text(
            "INSERT INTO alert_channel_issues (channel_id, issue_id, batch_id)"
            f" SELECT {_EMAIL}, id, alert_batch_id FROM health_issues"
            " WHERE alert_batch_id IS NOT NULL"
        )
    )
    op.drop_table("alert_batch_events")
    with op.batch_alter_table("health_issues") as batch:
        batch.drop_index("ix_health_issues_alert_batch_id")
        batch.drop_constraint("fk_health_issues_alert_batch_id_alert_batches", type_="foreignkey")
        batch.drop_column("alert_batch_id")


def downgrade() -> None:
    """Back to one channel: the e-mail channel's batches stay, the other channels' go."""
    connection = op.get_bind()
    email = connection.scalar(sa.text("SELECT id FROM alert_channels WHERE key = 'email'"))
    email = -1 if email is None else int(email)
    with op.batch_alter_table("health_issues") as batch:
        batch.add_column(sa.Column("alert_batch_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_health_issues_alert_batch_id_alert_batches",
            "alert_batches",
            ["alert_batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_health_issues_alert_batch_id", ["alert_batch_id"])
    op.create_table(
        "alert_batch_events",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["change_events.id"],
            name="fk_alert_batch_events_event_id_change_events",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["alert_batches.id"],
            name="fk_alert_batch_events_batch_id_alert_batches",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name="pk_alert_batch_events"),
    )
    op.create_index("ix_alert_batch_events_batch_id", "alert_batch_events", ["batch_id"])
    op.execute(
        sa.text(
            "INSERT INTO alert_batch_events (event_id, batch_id) SELECT event_id, batch_id"
            f" FROM alert_channel_events WHERE channel_id = {email}"
        )
    )
    op.execute(
        sa.text(
            "UPDATE health_issues SET alert_batch_id = (SELECT batch_id FROM alert_channel_issues"
            f" WHERE issue_id = health_issues.id AND channel_id = {email})"
        )
    )
    op.drop_table("alert_channel_issues")
    op.drop_table("alert_channel_events")
    op.execute(sa.text(f"DELETE FROM alert_batches WHERE channel_id <> {email}"))
    with op.batch_alter_table("alert_batches") as batch:
        batch.drop_index("ix_alert_batches_channel_id")
        batch.drop_constraint("fk_alert_batches_channel_id_alert_channels", type_="foreignkey")
        batch.drop_column("channel_id")
    op.drop_table("alert_channels")
