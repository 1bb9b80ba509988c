"""chat identities as data: (platform, kind, external id) -> owner rows, copied from the per-platform columns

Revision ID: 0010ident
Revises: 0009email

Every non-empty `persons.slack_user_id`/`teams_user_id` and `sites.slack_channel_id`/`teams_conversation_id`
becomes a `chat_identities` row (a site's `teams_service_url` rides along as the Teams row's detail), then the
columns go. Nothing is dropped silently: two sites sharing one channel (allowed by the old schema, ambiguous
to every lookup) stop the upgrade with their names. The downgrade copies Slack and Teams identities back and
refuses while identities of other platforms exist, since the old columns have no room for them.
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0010ident"
down_revision = "0009email"
branch_labels = None
depends_on = None

PERSON_COLUMNS = {"slack_user_id": "slack", "teams_user_id": "teams"}
SITE_COLUMNS = {"slack_channel_id": "slack", "teams_conversation_id": "teams"}
SERVICE_URL = "service_url"  # the detail key of a site's Teams identity

identities = sa.table(
    "chat_identities",
    sa.column("platform", sa.String),
    sa.column("kind", sa.String),
    sa.column("external_id", sa.String),
    sa.column("owner_id", sa.String),
    sa.column("detail", sa.JSON),
)


def _rows(kind: str, key: str, columns: dict[str, str], extra: tuple[str, ...] = ()) -> list[dict]:
    table = sa.table(kind + "s", sa.column(key), *(sa.column(c) for c in (*columns, *extra)))
    found = []
    for row in op.get_bind().execute(sa.select(table).order_by(table.c[key])).mappings():
        for column, platform in columns.items():
            if row[column]:  # NULL and '' name nobody
                detail = {}
                if kind == "site" and platform == "teams" and row["teams_service_url"]:
                    detail[SERVICE_URL] = row["teams_service_url"]
                found.append(
                    {
                        "platform": platform,
                        "kind": kind,
                        "external_id": row[column],
                        "owner_id": row[key],
                        "detail": detail,
                    }
                )
    return found


def _refuse_shared(rows: list[dict]) -> None:
    owners: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in rows:
        owners[(r["platform"], r["kind"], r["external_id"])].append(r["owner_id"])
    shared = [f"{p} {k} id {x} is shared by {', '.join(o)}" for (p, k, x), o in owners.items() if len(o) > 1]
    if shared:
        raise RuntimeError(
            "cannot move chat identities to rows: " + "; ".join(shared) + ". Give each its own id in the directory "
            "(siteline directory import) on the previous version, then upgrade again"
        )


def upgrade() -> None:
    rows = _rows("person", "person_id", PERSON_COLUMNS) + _rows(
        "site", "site_id", SITE_COLUMNS, extra=("teams_service_url",)
    )
    _refuse_shared(rows)  # before any change, so a refused upgrade leaves the schema as it was
    op.create_table(
        "chat_identities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'site')", name=op.f("ck_chat_identities_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_identities")),
        sa.UniqueConstraint("platform", "kind", "external_id", name=op.f("uq_chat_identities_platform")),
        sa.UniqueConstraint("kind", "owner_id", "platform", name=op.f("uq_chat_identities_kind")),
    )
    if rows:
        op.bulk_insert(identities, rows)
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_persons_slack_user_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_persons_teams_user_id"), type_="unique")
        batch_op.drop_column("slack_user_id")
        batch_op.drop_column("teams_user_id")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_slack_channel_id"))
        batch_op.drop_index(batch_op.f("ix_sites_teams_conversation_id"))
        batch_op.drop_column("slack_channel_id")
        batch_op.drop_column("teams_conversation_id")
        batch_op.drop_column("teams_service_url")


def downgrade() -> None:
    bind = op.get_bind()
    others = bind.execute(
        sa.select(identities.c.platform, sa.func.count())
        .where(identities.c.platform.not_in(["slack", "teams"]))
        .group_by(identities.c.platform)
        .order_by(identities.c.platform)
    ).all()
    if others:
        held = ", ".join(f"{n} on {platform}" for platform, n in others)
        raise RuntimeError(
            f"cannot downgrade below 0010ident: chat identities {held} have no column there; "
            "remove them from the directory first"
        )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_user_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("teams_user_id", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_persons_slack_user_id"), ["slack_user_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_persons_teams_user_id"), ["teams_user_id"])
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_channel_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("teams_conversation_id", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("teams_service_url", sa.String(length=300), nullable=True))
        batch_op.create_index(batch_op.f("ix_sites_slack_channel_id"), ["slack_channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sites_teams_conversation_id"), ["teams_conversation_id"], unique=False)
    for kind, key, columns in (("person", "person_id", PERSON_COLUMNS), ("site", "site_id", SITE_COLUMNS)):
        for column, platform in columns.items():
            table = sa.table(kind + "s", sa.column(key), sa.column(column), sa.column("teams_service_url"))
            chosen = identities.c.platform == platform
            found = bind.execute(
                sa.select(identities.c.owner_id, identities.c.external_id, identities.c.detail).where(
                    identities.c.kind == kind, chosen
                )
            ).all()
            for owner, external_id, detail in found:
                values = {column: external_id}
                if kind == "site" and platform == "teams":
                    values["teams_service_url"] = (detail or {}).get(SERVICE_URL)
                bind.execute(sa.update(table).where(table.c[key] == owner).values(**values))
    op.drop_table("chat_identities")
