"""Article ids and categories of any length, as SQLite always stored them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

VARCHAR(100) and VARCHAR(200) were limits on PostgreSQL only: a 150-digit id or a 250-character
category was stored on SQLite and refused there. Both are TEXT now; the one limit left, on the
length of an article id, is the spider's (coopspider.items.MAX_ARTICLE_ID_CHARS), the same on
both databases. The view `latest_articles` reads both columns, so it is made again around the
change (PostgreSQL refuses to retype a column a view uses; SQLite rebuilds the table).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VIEW = "latest_articles"


def _view_definition() -> str:
    """The CREATE VIEW statement that makes the view again as the database holds it now."""
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = :name"
        return str(connection.scalar(sa.text(query), {"name": _VIEW}))
    definition = connection.scalar(
        sa.text("SELECT pg_get_viewdef(CAST(:name AS regclass))"), {"name": _VIEW}
    )
    return f"CREATE VIEW {_VIEW} AS {definition}"


def _retype(article_id: sa.types.TypeEngine, category: sa.types.TypeEngine) -> None:
    view = _view_definition()
    op.execute(f"DROP VIEW {_VIEW}")
    with op.batch_alter_table("articles") as batch:
        batch.alter_column("article_id", type_=article_id, existing_nullable=False)
        batch.alter_column("category", type_=category, existing_nullable=True)
    op.execute(view)


def upgrade() -> None:
    _retype(sa.Text(), sa.Text())


def downgrade() -> None:
    _retype(sa.String(100), sa.String(200))
