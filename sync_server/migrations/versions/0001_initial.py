"""initial schema: users, kiosks, keys, enrollment, journal, batches, projections, reference

Revision ID: 0001
Revises:
Create Date: 2026-11-29

The projection tables (p_*) are frozen copies of kiosk.domain.projections.TABLES as
they were when this was written, with kiosk_id added to each key: a later change
to TABLES needs a migration of its own (tests/test_sync_server_db.py notices).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("to_seq", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("new_events", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_kiosk_id"), ["kiosk_id"], unique=False)

    op.create_table(
        "boot_anchors",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("server_ms", sa.BigInteger(), nullable=False),
        sa.Column("mono_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "boot_id", name=op.f("pk_boot_anchors")),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "enrollment_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("replace", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("used_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_enrollment_codes")),
    )
    op.create_table(
        "incidents",
        sa.Column(
            "incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kiosk_id", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incidents")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_created_at"), ["created_at"], unique=False)

    op.create_table(
        "journal",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("device_time", sa.BigInteger(), nullable=False),
        sa.Column("boot_id", sa.String(length=64), nullable=False),
        sa.Column("mono_ms", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("est_time", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "seq", name=op.f("pk_journal")),
    )
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index("ix_journal_boot", ["kiosk_id", "boot_id"], unique=False)

    op.create_table(
        "kiosks",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=True),
        sa.Column("last_push_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", name=op.f("pk_kiosks")),
    )
    op.create_table(
        "p_accounts",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("account", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("fund", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("balance", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "group_id", "account", name=op.f("pk_p_accounts")),
    )
    op.create_table(
        "p_attendance",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("status", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("represented_by", sa.Text(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "meeting_id", "member_id", name=op.f("pk_p_attendance")),
    )
    op.create_table(
        "p_groups",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("country", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("cooperative", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("village", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("created_seq", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("rules_version", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("member_count", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("meeting_count", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("open_meeting", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("last_meeting_date", sa.Text(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "group_id", name=op.f("pk_p_groups")),
    )
    op.create_table(
        "p_loans",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("loan_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("member_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("fund", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("kind", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("principal", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("method", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("rate_bp", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("term_months", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("rounding_unit", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("penalty_bp", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("start", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("meeting_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("txn_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("paf_charged", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("paf_paid", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("principal_paid", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("penalty_charged", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("penalty_paid", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("paf_until", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("penalty_until", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("status", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("last_repayment", sa.Text(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "loan_id", name=op.f("pk_p_loans")),
    )
    op.create_table(
        "p_meetings",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("date", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("status", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("opened_seq", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("closed_seq", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("open_officers", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("close_officers", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("open_count", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("close_count", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("open_expected", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("close_expected", sa.Text(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "meeting_id", name=op.f("pk_p_meetings")),
    )
    op.create_table(
        "p_member_numbers",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.Text(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "group_id", "number", name=op.f("pk_p_member_numbers")),
    )
    op.create_table(
        "p_members",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("name", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("sex", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("phone", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("role", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("joined", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("left_on", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("active", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("active_loans", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("aid_received", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "member_id", name=op.f("pk_p_members")),
    )
    op.create_table(
        "p_postings",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("txn_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("leg", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("account", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("amount", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "txn_id", "leg", name=op.f("pk_p_postings")),
    )
    op.create_table(
        "p_receipts",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("receipt_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("meeting_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("member_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("kind", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("txns", sa.Text(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "receipt_id", name=op.f("pk_p_receipts")),
    )
    op.create_table(
        "p_rules",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("meeting_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("adopted_seq", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "group_id", "version", name=op.f("pk_p_rules")),
    )
    op.create_table(
        "p_transactions",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("txn_id", sa.Text(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("meeting_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("kind", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("member_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("fund", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("amount", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("loan_id", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("reverses", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("reversed_by", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("reason", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("detail", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("recorded_by", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("approvers", sa.Text(), autoincrement=False, nullable=True),
        sa.Column("legs", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("kiosk_id", "txn_id", name=op.f("pk_p_transactions")),
    )
    op.create_table(
        "reference",
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "key", "scope", name=op.f("pk_reference")),
    )
    with op.batch_alter_table("reference", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reference_version"), ["version"], unique=False)

    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "kiosk_keys",
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.kiosk_id"], name=op.f("fk_kiosk_keys_kiosk_id_kiosks")),
        sa.PrimaryKeyConstraint("public_key", name=op.f("pk_kiosk_keys")),
    )
    with op.batch_alter_table("kiosk_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_keys_kiosk_id"), ["kiosk_id"], unique=False)

    op.bulk_insert(
        sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger)),
        [{"name": "reference", "value": 0}],
    )


def downgrade() -> None:
    with op.batch_alter_table("kiosk_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_keys_kiosk_id"))

    op.drop_table("kiosk_keys")
    op.drop_table("users")
    with op.batch_alter_table("reference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_version"))

    op.drop_table("reference")
    op.drop_table("p_transactions")
    op.drop_table("p_rules")
    op.drop_table("p_receipts")
    op.drop_table("p_postings")
    op.drop_table("p_members")
    op.drop_table("p_member_numbers")
    op.drop_table("p_meetings")
    op.drop_table("p_loans")
    op.drop_table("p_groups")
    op.drop_table("p_attendance")
    op.drop_table("p_accounts")
    op.drop_table("kiosks")
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_boot")

    op.drop_table("journal")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_created_at"))

    op.drop_table("incidents")
    op.drop_table("enrollment_codes")
    op.drop_table("counters")
    op.drop_table("boot_anchors")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_kiosk_id"))

    op.drop_table("batches")
