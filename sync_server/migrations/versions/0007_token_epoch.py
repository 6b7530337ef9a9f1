"""users.token_epoch: API tokens end with the account's sessions

API tokens are not stored (HMAC-signed, one hour): a new password ended them through the digest of the
password hash they carry, but logging out one's other devices, disabling an account or changing its role
ended only the console's sessions. Each of these now raises the account's epoch, and a token carries the
epoch it was made under: one made before is refused.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_epoch")
