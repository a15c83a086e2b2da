"""chat turns: how far the assistant's answer to a patient message got

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 23:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_messages") as batch:
        batch.add_column(sa.Column("turn", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("turn_node", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_messages") as batch:
        batch.drop_column("turn_node")
        batch.drop_column("turn")
