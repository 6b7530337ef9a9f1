"""kiosks.reapplied_at: when `muso-server reapply` last rebuilt a kiosk's projections

A push reduces its batch on a snapshot, outside the kiosk's lock, and keeps that work if the kiosk's
cursor has not moved meanwhile. A reapply rebuilds the projections without moving the cursor: the push
must see that too, or it writes rows reduced from the books as they were before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reapplied_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.drop_column("reapplied_at")
