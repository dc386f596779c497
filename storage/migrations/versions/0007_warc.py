"""WARC records: where the page behind each version, and the 404/410 behind a removal, is kept.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

`warc_records` holds one row per captured page (file, offset and length of its response and
request records, the machine that wrote the file, the fetch time and payload digest);
`article_versions.warc_record_id` and `change_events.warc_record_id` point at it. Older rows
have no record (they were archived before WARC writing existed).

SQLite adds a column with a foreign key by rebuilding the table (batch mode), which the view
`latest_articles` reading article_versions would stop: it is made again around the change, as
in 0006.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POINTING = ("article_versions", "change_events")
_VIEW = "latest_articles"


def _fk_name(table: str) -> str:
    return f"fk_{table}_warc_record_id_warc_records"


def upgrade() -> None:
    op.create_table(
        "warc_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_pk", sa.Integer(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("target_uri", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_digest", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_pk"],
            ["articles.id"],
            name=op.f("fk_warc_records_article_pk_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warc_records")),
    )
    op.create_index(op.f("ix_warc_records_article_pk"), "warc_records", ["article_pk"])
    _around_view(_add_pointers)


def _add_pointers() -> None:
    for table in _POINTING:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("warc_record_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                _fk_name(table), "warc_records", ["warc_record_id"], ["id"], ondelete="SET NULL"
            )


def _drop_pointers() -> None:
    for table in _POINTING:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(_fk_name(table), type_="foreignkey")
            batch.drop_column("warc_record_id")


def _around_view(change: Callable[[], None]) -> None:
    view = _view_definition()
    op.execute(f"DROP VIEW {_VIEW}")
    change()
    op.execute(view)


def _view_definition() -> str:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = :name"
        return str(connection.scalar(sa.text(query), {"name": _VIEW}))
    definition = connection.scalar(
        sa.text("SELECT pg_get_viewdef(CAST(:name AS regclass))"), {"name": _VIEW}
    )
    return f"CREATE VIEW {_VIEW} AS {definition}"


def downgrade() -> None:
    _around_view(_drop_pointers)
    op.drop_index(op.f("ix_warc_records_article_pk"), table_name="warc_records")
    op.drop_table("warc_records")
