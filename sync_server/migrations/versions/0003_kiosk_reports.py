"""kiosk reports: app version, receipts waiting, printer error, events left to send

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("app_version", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("print_pending", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("printer_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("events_pending", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        for name in ("reported_at", "events_pending", "printer_error", "print_pending", "app_version"):
            batch_op.drop_column(name)
