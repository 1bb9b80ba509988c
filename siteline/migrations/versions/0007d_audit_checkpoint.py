"""audit checkpoint: a keyed head (row count, last hash) for the audit chain; TRUNCATE refused

Deleting the newest audit rows, or `TRUNCATE audit_log` on PostgreSQL (which skips row
triggers), left a chain that verified. The checkpoint is signed with the key handed to the
migration (`alembic_config(..., audit_key)`), created here from the rows already stored.

Revision ID: 0007d
Revises: 0006
"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0007d"
down_revision = "0006"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _key() -> bytes:
    config = op.get_context().config
    return bytes(config.attributes.get("audit_key", b"")) if config is not None else b""


def upgrade() -> None:
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    bind = op.get_bind()
    count = bind.execute(sa.text("SELECT COUNT(*) FROM audit_log")).scalar() or 0
    last = bind.execute(sa.text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")).scalar() or GENESIS
    # Same message as core.audit.head_mac (copied: a migration must not change when the app code does).
    mac = hmac.new(_key(), f"siteline-audit-head:{count}:{last}".encode(), hashlib.sha256).hexdigest()
    op.bulk_insert(head, [{"id": 1, "row_count": count, "last_hash": last, "mac": mac}])
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE FUNCTION audit_head_forward_only() RETURNS trigger AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' AND NEW.row_count >= OLD.row_count THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'audit_head only moves forward'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_change BEFORE UPDATE OR DELETE ON audit_head "
            "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
            "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE ON audit_head WHEN NEW.row_count < OLD.row_count "
            "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_change ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward_only()")
    op.drop_table("audit_head")
