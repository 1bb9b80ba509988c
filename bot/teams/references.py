"""Conversation references: remembered from inbound activities, looked up to send proactively.

Functions take the caller's session and `now`; they store ids and URLs only, never text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from microsoft_agents.activity import Activity
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.teams.models import TeamsConversationRow
from bot.teams.translate import where
from core.directory import Directory
from core.domain import Person


@dataclass(frozen=True)
class Target:
    """Where one proactive post goes: a conversation at a connector, and who the bot is there."""

    conversation_id: str
    service_url: str
    tenant_id: str | None = None
    bot_id: str | None = None


def remember(session: Session, activity: Activity, now: datetime) -> None:
    """Upsert the conversation of an inbound activity (a 1:1 chat also records its user)."""
    if not activity.conversation or not activity.conversation.id or not activity.service_url:
        return
    w = where(activity)
    sender = activity.from_property
    row = session.get(TeamsConversationRow, w.conversation_id)
    if row is None:
        row = TeamsConversationRow(conversation_id=w.conversation_id, kind=w.kind)
        session.add(row)
    row.kind = w.kind
    row.service_url = activity.service_url
    row.tenant_id = activity.conversation.tenant_id or _channel_tenant(activity) or row.tenant_id
    row.bot_id = (activity.recipient.id if activity.recipient else None) or row.bot_id
    if w.is_direct and sender is not None and sender.id and not sender.id.startswith("28:"):
        row.user_id, row.aad_object_id = sender.id, sender.aad_object_id or row.aad_object_id
    row.updated_at = now


def _channel_tenant(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant") if isinstance(data.get("tenant"), dict) else {}
    value = tenant.get("id") if tenant else None
    return str(value) if value else None


def user_key(session: Session, teams_id: str, aad_object_id: str | None) -> str:
    """The id the directory knows this sender by: the Teams id (`29:…`) or the Entra object id."""
    directory = Directory(session)
    if directory.person_by("teams", teams_id) is None and aad_object_id and directory.person_by("teams", aad_object_id):
        return aad_object_id
    return teams_id


def personal_chat(session: Session, teams_user_id: str) -> Target | None:
    """The 1:1 conversation with a user (by Teams id or Entra object id), most recent first."""
    row = session.execute(
        select(TeamsConversationRow)
        .where(
            TeamsConversationRow.kind == "personal",
            or_(TeamsConversationRow.user_id == teams_user_id, TeamsConversationRow.aad_object_id == teams_user_id),
        )
        .order_by(TeamsConversationRow.updated_at.desc())
        .limit(1)
    ).scalar()
    return _target(row) if row else None


def conversation(session: Session, conversation_id: str) -> Target | None:
    """A conversation by id: the site's directory entry gives its serviceUrl, else what traffic taught us."""
    row = session.get(TeamsConversationRow, conversation_id)
    site = Directory(session).site_by("teams", conversation_id)
    url = (site.chat_detail.get("teams", {}).get("service_url") if site else None) or (row.service_url if row else None)
    if not url:
        return None
    return Target(conversation_id, url, row.tenant_id if row else None, row.bot_id if row else None)


def place_for_new_chat(session: Session, person: Person | None) -> Target | None:
    """Where to open a 1:1 chat with someone who never wrote to the bot: the connector and tenant of
    their site's channel, else of the most recent conversation seen (conversation_id left empty)."""
    directory = Directory(session)
    for site_id in person.sites if person else []:
        site = directory.site(site_id)
        if site and site.chat.get("teams"):
            known = conversation(session, site.chat["teams"])
            if known:
                return Target("", known.service_url, known.tenant_id, known.bot_id)
    row = session.execute(
        select(TeamsConversationRow).order_by(TeamsConversationRow.updated_at.desc()).limit(1)
    ).scalar()
    return Target("", row.service_url, row.tenant_id, row.bot_id) if row else None


def remember_personal(session: Session, *, user: str, target: Target, now: datetime) -> None:
    """Store a 1:1 conversation the bot just created, so the next message reuses it."""
    row = session.get(TeamsConversationRow, target.conversation_id)
    if row is None:
        row = TeamsConversationRow(conversation_id=target.conversation_id, kind="personal")
        session.add(row)
    row.service_url, row.tenant_id, row.bot_id, row.updated_at = (
        target.service_url,
        target.tenant_id,
        target.bot_id,
        now,
    )
    if user.startswith("29:"):
        row.user_id = user
    else:
        row.aad_object_id = user


def _target(row: TeamsConversationRow) -> Target:
    return Target(row.conversation_id, row.service_url, row.tenant_id, row.bot_id)
