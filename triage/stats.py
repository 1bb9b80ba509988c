"""How much Siteline spared each site, and which senders cry wolf.

Per site: raw update-site pairs against messages actually delivered (the noise ratio),
interruptions (immediate messages, and how many fell in quiet hours), urgent latency (arrival to
send), merges and suppressions. Per sender: updates, how many they declared urgent (the rate
that turns their hint off) and how many Siteline judged urgent.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session

from core.clock import iso
from core.models import DeliveryRow, SiteRow
from triage.classify import Classifier, SenderRecord
from triage.models import ItemRow, UpdateRow
from triage.slots import in_quiet_hours


@dataclass
class SiteStats:
    site_id: str
    raw_updates: int = 0
    delivered_messages: int = 0
    noise_ratio: float | None = None
    digests: int = 0
    interruptions: int = 0
    quiet_hour_interruptions: int = 0
    merged: int = 0
    suppressed: int = 0
    pending: int = 0
    failed_deliveries: int = 0
    blocked_deliveries: int = 0  # held: no usable chat platform (none configured, or a wrong token)
    urgent_latency_median_s: float | None = None
    urgent_latency_max_s: float | None = None


@dataclass
class SenderStats:
    sender: str
    updates: int = 0
    declared_urgent: int = 0
    declared_urgent_rate: float = 0.0
    judged_urgent: int = 0
    hint_ignored: bool = False  # the sender declares urgent so often that the hint is ignored


@dataclass
class StatsReport:
    since: datetime
    until: datetime
    sites: list[SiteStats] = field(default_factory=list)
    senders: list[SenderStats] = field(default_factory=list)
    # Every delivery not yet out (any kind, sites and people: escalation DMs too), by status, and
    # the latest reason a held one gave: what an operator must fix so nothing waits in silence.
    undelivered: dict[str, int] = field(default_factory=dict)
    held_reason: str | None = None

    def totals(self) -> dict[str, Any]:
        raw = sum(s.raw_updates for s in self.sites)
        delivered = sum(s.delivered_messages for s in self.sites)
        return {
            "raw_updates": raw,
            "delivered_messages": delivered,
            "noise_ratio": round(delivered / raw, 3) if raw else None,
            "interruptions": sum(s.interruptions for s in self.sites),
            "quiet_hour_interruptions": sum(s.quiet_hour_interruptions for s in self.sites),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "totals": self.totals(),
            "sites": [asdict(s) for s in self.sites],
            "senders": [asdict(s) for s in self.senders],
            "undelivered": dict(self.undelivered),
            "held_reason": self.held_reason,
        }


def build(
    session: Session, *, now: datetime, days: float, classifier: Classifier, studies: Collection[str] | None = None
) -> StatsReport:
    """The report over the last `days`; with `studies`, only those studies' updates and the messages
    carrying them (a digest mixing two studies counts for each: the dashboard's per-study view)."""
    if studies is None:
        return _build(session, now=now, days=days, classifier=classifier, studies=None)[ALL]
    merged = _build(session, now=now, days=days, classifier=classifier, studies=studies, one_group=True)
    return merged.get(ALL) or StatsReport(since=now - timedelta(days=days), until=now)


def build_by_study(
    session: Session, *, now: datetime, days: float, classifier: Classifier, studies: Collection[str]
) -> dict[str, StatsReport]:
    """One report per study, computed in one pass (the dashboard shows many studies at once)."""
    reports = _build(session, now=now, days=days, classifier=classifier, studies=studies)
    return {study: reports.get(study) or StatsReport(since=now - timedelta(days=days), until=now) for study in studies}


ALL = "*"


def _build(
    session: Session,
    *,
    now: datetime,
    days: float,
    classifier: Classifier,
    studies: Collection[str] | None,
    one_group: bool = False,
) -> dict[str, StatsReport]:
    """Reports keyed by study (or ALL when `studies` is None or `one_group`)."""
    since = now - timedelta(days=days)
    grouped = studies is not None and not one_group
    item_scope = ItemRow.study.in_(list(studies)) if studies is not None else true()
    by = [ItemRow.study] if grouped else []  # the group column, first in each row when grouped
    sites: dict[str, dict[str, SiteStats]] = defaultdict(dict)

    def site(group: str, site_id: str) -> SiteStats:
        return sites[group].setdefault(site_id, SiteStats(site_id))

    for group, site_id, status, n in _keyed(
        session.execute(
            select(*by, ItemRow.site_id, ItemRow.status, func.count())
            .where(ItemRow.received_at >= since, item_scope)
            .group_by(*by, ItemRow.site_id, ItemRow.status)
        ),
        grouped,
    ):
        s = site(group, site_id)
        s.raw_updates += n
        if status in ("merged", "suppressed", "pending"):
            setattr(s, status, getattr(s, status) + n)
    zones = {
        r.site_id: (r.tz, r.quiet_hours)
        for r in session.execute(select(SiteRow.site_id, SiteRow.tz, SiteRow.quiet_hours))
    }
    wanted = (
        DeliveryRow.channel == "site",
        DeliveryRow.kind.in_(("immediate", "digest")),
        DeliveryRow.created_at >= since,
    )
    if studies is None:
        sent = session.execute(
            select(DeliveryRow.recipient, DeliveryRow.kind, DeliveryRow.status, DeliveryRow.sent_at).where(*wanted)
        )
    else:  # a message counts for each study it carried an item of
        sent = session.execute(
            select(*by, DeliveryRow.recipient, DeliveryRow.kind, DeliveryRow.status, DeliveryRow.sent_at)
            .join(ItemRow, ItemRow.delivery_key == DeliveryRow.dedupe_key)
            .where(*wanted, item_scope)
            .group_by(
                *by,
                DeliveryRow.id,
                DeliveryRow.recipient,
                DeliveryRow.kind,
                DeliveryRow.status,
                DeliveryRow.sent_at,
            )
        )
    for group, recipient, kind, status, sent_at in _keyed(sent, grouped):
        s = site(group, recipient)
        if status == "failed":
            s.failed_deliveries += 1
        if status == "blocked":
            s.blocked_deliveries += 1
        if status != "sent":
            continue
        s.delivered_messages += 1
        if kind == "digest":
            s.digests += 1
            continue
        s.interruptions += 1
        tz, quiet = zones.get(recipient, ("UTC", None))
        if sent_at is not None and in_quiet_hours(sent_at.astimezone(ZoneInfo(tz)).time(), quiet):
            s.quiet_hour_interruptions += 1
    latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
    for group, site_id, received, sent_at in _keyed(
        session.execute(
            select(*by, ItemRow.site_id, ItemRow.received_at, DeliveryRow.sent_at)
            .join(DeliveryRow, DeliveryRow.dedupe_key == ItemRow.delivery_key)
            .where(
                ItemRow.received_at >= since, item_scope, DeliveryRow.kind == "immediate", DeliveryRow.status == "sent"
            )
        ),
        grouped,
    ):
        latencies[(group, site_id)].append((sent_at - received).total_seconds())
    senders = _senders(session, since, classifier, studies, grouped=grouped)
    undelivered, held_reason = _undelivered(session)
    reports: dict[str, StatsReport] = {}
    for group in set(sites) | set(senders) | ({ALL} if not grouped else set()):
        for s in sites[group].values():
            if s.raw_updates:
                s.noise_ratio = round(s.delivered_messages / s.raw_updates, 3)
            if latencies.get((group, s.site_id)):
                s.urgent_latency_median_s = statistics.median(latencies[(group, s.site_id)])
                s.urgent_latency_max_s = max(latencies[(group, s.site_id)])
        reports[group] = StatsReport(
            since=since,
            until=now,
            sites=sorted(sites[group].values(), key=lambda s: s.site_id),
            senders=senders.get(group, []),
            undelivered=dict(undelivered),
            held_reason=held_reason,
        )
    return reports


def _keyed(rows: Iterable[Any], grouped: bool) -> Iterator[tuple[Any, ...]]:
    """Rows with their group first: the study when grouped (already first), else ALL (no SQL constant:
    PostgreSQL refuses a constant in GROUP BY)."""
    for row in rows:
        yield tuple(row) if grouped else (ALL, *row)


def _undelivered(session: Session) -> tuple[dict[str, int], str | None]:
    """Counts of rows not sent yet, whatever their age, and why the newest held one is held."""
    counts = {
        status: int(n)
        for status, n in session.execute(
            select(DeliveryRow.status, func.count())
            .where(DeliveryRow.status.in_(("pending", "sending", "blocked", "failed")))
            .group_by(DeliveryRow.status)
        )
    }
    reason = session.execute(
        select(DeliveryRow.last_error)
        .where(DeliveryRow.status == "blocked")
        .order_by(DeliveryRow.claimed_at.desc(), DeliveryRow.id.desc())
        .limit(1)
    ).scalar()
    return counts, reason


def _senders(
    session: Session, since: datetime, classifier: Classifier, studies: Collection[str] | None, *, grouped: bool
) -> dict[str, list[SenderStats]]:
    by = [UpdateRow.study] if grouped else []
    rows = session.execute(
        select(
            *by,
            UpdateRow.sender,
            func.count(),
            func.sum(case((UpdateRow.declared_priority == "urgent", 1), else_=0)),
            func.sum(case((UpdateRow.priority == "urgent", 1), else_=0)),
        )
        .where(UpdateRow.received_at >= since, UpdateRow.study.in_(list(studies)) if studies is not None else true())
        .group_by(*by, UpdateRow.sender)
        .order_by(UpdateRow.sender)
    )
    out: dict[str, list[SenderStats]] = defaultdict(list)
    for key, sender, n, declared, judged in _keyed(rows, grouped):
        record = SenderRecord(int(n), int(declared or 0))
        out[key].append(
            SenderStats(
                sender=sender,
                updates=record.updates,
                declared_urgent=record.declared_urgent,
                declared_urgent_rate=round(record.declared_urgent_rate, 3),
                judged_urgent=int(judged or 0),
                hint_ignored=classifier.is_flooding(record),
            )
        )
    return out
