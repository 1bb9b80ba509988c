"""chat tables: handled platform events (retry dedupe), where answers were given, Ask-my-CRA questions

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_events")),
        sa.UniqueConstraint("platform", "event_id", name=op.f("uq_chat_events_platform")),
    )
    with op.batch_alter_table("chat_events", schema=None) as batch_op:
        batch_op.create_index("ix_chat_events_received", ["received_at"], unique=False)

    op.create_table(
        "chat_answers",
        sa.Column("answer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=300), nullable=False),
        sa.Column("thread_ref", sa.String(length=100), nullable=True),
        sa.Column("is_direct", sa.Boolean(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("asker", sa.String(length=64), nullable=False),
        sa.Column("studies", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("answer_id", name=op.f("pk_chat_answers")),
    )
    with op.batch_alter_table("chat_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_answers_asker"), ["asker"], unique=False)

    op.create_table(
        "open_questions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("answer_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("study", sa.String(length=64), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=False),
        sa.Column("handed_off_by", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("bot_answer", sa.Text(), nullable=False),
        sa.Column("citations", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=300), nullable=False),
        sa.Column("thread_ref", sa.String(length=100), nullable=True),
        sa.Column("is_direct", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("escalation_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_questions")),
        sa.UniqueConstraint("answer_id", name=op.f("uq_open_questions_answer_id")),
    )
    with op.batch_alter_table("open_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_questions_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_open_questions_asked_by"), ["asked_by"], unique=False)
        batch_op.create_index("ix_open_questions_status", ["status", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("open_questions")
    op.drop_table("chat_answers")
    op.drop_table("chat_events")
