"""slack tables: the site-channel thread of each escalation (channel id and root message ts)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_escalation_threads",
        sa.Column("escalation_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("escalation_id", name=op.f("pk_slack_escalation_threads")),
    )


def downgrade() -> None:
    op.drop_table("slack_escalation_threads")
