"""coordinators' console: user scopes, sessions, login throttle, kiosk placement, rollups, query indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

The rollup tables start empty: ``muso-server migrate`` fills them from the journals
already held (sync_server/rollup.py ``rebuild``), after this revision ran.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_months",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("members", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("women", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("savings", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("loans", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("loans_active", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("aid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("income", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cash_verte", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cash_rouge", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cash_bleue", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("lender", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("attended", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("slots", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("meetings", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "group_id", "month", name=op.f("pk_console_months")),
    )
    with op.batch_alter_table("console_months", schema=None) as batch_op:
        batch_op.create_index("ix_console_months_month", ["month"], unique=False)

    op.create_table(
        "console_totals",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("members", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("women", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("savings", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("loans", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("loans_active", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("aid", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("income", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cash_verte", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cash_rouge", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cash_bleue", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("lender", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("attended", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("slots", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("meetings", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "group_id", name=op.f("pk_console_totals")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.BigInteger(), nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("cooperative", sa.Text(), nullable=True))

    with op.batch_alter_table("p_groups", schema=None) as batch_op:
        batch_op.create_index("ix_p_groups_place", ["country", "cooperative"], unique=False)

    with op.batch_alter_table("p_loans", schema=None) as batch_op:
        batch_op.create_index("ix_p_loans_member", ["kiosk_id", "member_id"], unique=False)
        batch_op.create_index("ix_p_loans_status", ["status", "kiosk_id", "group_id"], unique=False)

    with op.batch_alter_table("p_meetings", schema=None) as batch_op:
        batch_op.create_index("ix_p_meetings_group", ["kiosk_id", "group_id", "date"], unique=False)

    with op.batch_alter_table("p_members", schema=None) as batch_op:
        batch_op.create_index("ix_p_members_group", ["kiosk_id", "group_id"], unique=False)

    with op.batch_alter_table("p_transactions", schema=None) as batch_op:
        batch_op.create_index("ix_p_transactions_kind", ["kiosk_id", "group_id", "kind"], unique=False)
        batch_op.create_index("ix_p_transactions_loan", ["kiosk_id", "loan_id"], unique=False)
        batch_op.create_index("ix_p_transactions_member", ["kiosk_id", "member_id", "seq"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("countries", sa.Text(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("cooperatives", sa.Text(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("cooperatives")
        batch_op.drop_column("countries")

    with op.batch_alter_table("p_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_p_transactions_member")
        batch_op.drop_index("ix_p_transactions_loan")
        batch_op.drop_index("ix_p_transactions_kind")

    with op.batch_alter_table("p_members", schema=None) as batch_op:
        batch_op.drop_index("ix_p_members_group")

    with op.batch_alter_table("p_meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_p_meetings_group")

    with op.batch_alter_table("p_loans", schema=None) as batch_op:
        batch_op.drop_index("ix_p_loans_status")
        batch_op.drop_index("ix_p_loans_member")

    with op.batch_alter_table("p_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_p_groups_place")

    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.drop_column("cooperative")
        batch_op.drop_column("country")

    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))

    op.drop_table("web_sessions")
    op.drop_table("login_throttle")
    op.drop_table("console_totals")
    with op.batch_alter_table("console_months", schema=None) as batch_op:
        batch_op.drop_index("ix_console_months_month")

    op.drop_table("console_months")
