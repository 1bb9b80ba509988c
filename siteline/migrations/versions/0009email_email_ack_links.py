"""email ack links: one-time acknowledge links sent by e-mail (hash of the token, escalation, person, level)

Revision ID: 0009email
Revises: 0009sess
"""

import sqlalchemy as sa
from alembic import op

revision = "0009email"
down_revision = "0009sess"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_ack_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("escalation_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_ack_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_ack_links_token_hash")),
    )
    op.create_index(op.f("ix_email_ack_links_escalation_id"), "email_ack_links", ["escalation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_email_ack_links_escalation_id"), table_name="email_ack_links")
    op.drop_table("email_ack_links")
