"""dashboard sign-in: one-time login links (hash of the token, person, expiry, when used)

Revision ID: 0008dash
Revises: 0007d
"""

import sqlalchemy as sa
from alembic import op

revision = "0008dash"
down_revision = "0007d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_login_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_login_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_dashboard_login_tokens_token_hash")),
    )
    op.create_index(op.f("ix_dashboard_login_tokens_person_id"), "dashboard_login_tokens", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dashboard_login_tokens_person_id"), table_name="dashboard_login_tokens")
    op.drop_table("dashboard_login_tokens")
