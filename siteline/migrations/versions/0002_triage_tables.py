"""triage tables: updates received, per-site decisions, each site's next digest slot

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "triage_updates",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("update_id", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("org", sa.String(length=16), nullable=False),
        sa.Column("study", sa.String(length=64), nullable=False),
        sa.Column("addressed", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("declared_priority", sa.String(length=16), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("core_text", sa.Text(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_updates")),
        sa.UniqueConstraint("update_id", name=op.f("uq_triage_updates_update_id")),
    )
    with op.batch_alter_table("triage_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_updates_received_at"), ["received_at"], unique=False)
        batch_op.create_index("ix_triage_updates_study_received", ["study", "received_at"], unique=False)
        batch_op.create_index("ix_triage_updates_sender_received", ["sender", "received_at"], unique=False)

    op.create_table(
        "triage_items",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("update_id", sa.String(length=128), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("study", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("carrier_id", sa.String(length=128), nullable=True),
        sa.Column("merged", sa.JSON(), nullable=False),
        sa.Column("delivery_key", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_items")),
        sa.UniqueConstraint("update_id", "site_id", name=op.f("uq_triage_items_update_id")),
    )
    with op.batch_alter_table("triage_items", schema=None) as batch_op:
        batch_op.create_index("ix_triage_items_site_status", ["site_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_triage_items_delivery_key"), ["delivery_key"], unique=False)

    op.create_table(
        "triage_site_state",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("next_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slot_note", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_triage_site_state")),
    )
    with op.batch_alter_table("triage_site_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_site_state_next_digest_at"), ["next_digest_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("triage_site_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_site_state_next_digest_at"))
    op.drop_table("triage_site_state")
    with op.batch_alter_table("triage_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_items_delivery_key"))
        batch_op.drop_index("ix_triage_items_site_status")
    op.drop_table("triage_items")
    with op.batch_alter_table("triage_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_updates_sender_received")
        batch_op.drop_index("ix_triage_updates_study_received")
        batch_op.drop_index(batch_op.f("ix_triage_updates_received_at"))
    op.drop_table("triage_updates")
