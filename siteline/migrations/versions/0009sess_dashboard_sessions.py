"""dashboard sessions kept server-side (hash of the cookie's secret, so they can be revoked) and OIDC sign-ins under way

Revision ID: 0009sess
Revises: 0008dash
"""

import sqlalchemy as sa
from alembic import op

revision = "0009sess"
down_revision = "0008dash"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_dashboard_sessions_secret_hash")),
    )
    op.create_index(op.f("ix_dashboard_sessions_person_id"), "dashboard_sessions", ["person_id"], unique=False)
    op.create_table(
        "dashboard_oidc_states",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_oidc_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_dashboard_oidc_states_state_hash")),
    )


def downgrade() -> None:
    op.drop_table("dashboard_oidc_states")
    op.drop_index(op.f("ix_dashboard_sessions_person_id"), table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
