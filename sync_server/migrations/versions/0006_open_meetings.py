"""ix_p_meetings_status: the meetings left open, found without reading every meeting

The console's overview lists meetings open for more than a week. Without an index on the status it
read all of them (520,000 on 2,000 groups × 5 years) at every visit; open ones are a handful.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_p_meetings_status", "p_meetings", ["status", "date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_p_meetings_status", table_name="p_meetings")
