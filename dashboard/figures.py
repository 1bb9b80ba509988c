"""The overview's figures per study and site, and one site's Site 360, from the stored tables.

Triage figures come from `triage.stats` (the same numbers as `GET /api/stats`, per study);
questions, open Ask-my-CRA questions, escalations and deliveries are counted here.
Everything is cut to what the viewer may see (`dashboard.scope`).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.models import OpenQuestionRow
from core.clock import iso
from core.models import DeliveryRow, PersonRow
from dashboard import questions
from dashboard.scope import NotAllowed, Viewer, visible_sites
from escalation.models import EscalationRow, EventRow
from triage import stats
from triage.classify import Classifier
from triage.models import ItemRow, SiteStateRow, UpdateRow

OPEN_ESCALATION = ("raised", "notified", "handed_on", "acknowledged")  # not resolved yet


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1): a value that happened, not an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n*q), at least 1
    return ordered[int(rank) - 1]


def _spread(values: list[float]) -> dict[str, float | None]:
    return {
        "n": len(values),
        "median_h": round(statistics.median(values), 2) if values else None,
        "p90_h": round(percentile(values, 0.9), 2) if values else None,  # type: ignore[arg-type]
    }


def week_of(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def _weekly(
    session: Session, *, studies: list[str], site_ids: set[str], since: datetime
) -> dict[str, dict[str, dict[str, list[int]]]]:
    """study -> site -> ISO week -> [immediate, digest] messages sent that carried the study's updates."""
    out: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0, 0]))
    )
    for study, recipient, kind, sent_at in session.execute(
        select(ItemRow.study, DeliveryRow.recipient, DeliveryRow.kind, DeliveryRow.sent_at)
        .join(ItemRow, ItemRow.delivery_key == DeliveryRow.dedupe_key)
        .where(
            DeliveryRow.channel == "site",
            DeliveryRow.kind.in_(("immediate", "digest")),
            DeliveryRow.status == "sent",
            DeliveryRow.created_at >= since,
            ItemRow.study.in_(studies),
        )
        .group_by(ItemRow.study, DeliveryRow.id, DeliveryRow.recipient, DeliveryRow.kind, DeliveryRow.sent_at)
    ):
        if recipient in site_ids:
            out[study][recipient][week_of(sent_at)][0 if kind == "immediate" else 1] += 1
    return out


def _waiting_deliveries(session: Session, site_ids: list[str]) -> dict[str, int]:
    """Messages to each site not out yet (pending or being sent), whatever their age."""
    return {
        r: int(n)
        for r, n in session.execute(
            select(DeliveryRow.recipient, func.count())
            .where(
                DeliveryRow.channel == "site",
                DeliveryRow.recipient.in_(site_ids),
                DeliveryRow.status.in_(("pending", "sending")),
            )
            .group_by(DeliveryRow.recipient)
        )
    }


def _question_counts(asked: list[questions.AskedQuestion]) -> dict[str, int]:
    return {
        "asked": len(asked),
        "answered": sum(1 for q in asked if q.answer_id is not None and not q.abstained),
        "abstained": sum(1 for q in asked if q.abstained),
        "helpful": sum(1 for q in asked if "helpful" in q.feedback),
        "not_helpful": sum(1 for q in asked if "not_helpful" in q.feedback),
    }


def _escalations(
    session: Session, *, study: str, site_ids: list[str], now: datetime, since: datetime
) -> dict[str, Any]:
    rows = list(
        session.execute(
            select(EscalationRow).where(EscalationRow.study == study, EscalationRow.site.in_(site_ids))
        ).scalars()
    )
    open_rows = [e for e in rows if e.status in OPEN_ESCALATION]
    recent = [e for e in rows if e.raised_at >= since]
    missed = Counter(
        site
        for (site,) in session.execute(
            select(EscalationRow.site)
            .join(EventRow, EventRow.escalation_id == EscalationRow.id)
            .where(
                EscalationRow.study == study,
                EscalationRow.site.in_(site_ids),
                EventRow.kind == "hand_on",
                EventRow.at >= since,
            )
        )
    )
    return {
        "open": [
            {
                "id": e.id,
                "site": e.site,
                "level": e.level,
                "status": e.status,
                "category": e.category,
                "severity": e.severity,
                "age_h": _hours(now - e.raised_at),
            }
            for e in sorted(open_rows, key=lambda e: e.raised_at)
        ],
        "open_by_level": {str(k): v for k, v in sorted(Counter(e.level for e in open_rows).items())},
        "time_to_ack": _spread([_hours(e.acked_at - e.raised_at) for e in recent if e.acked_at]),
        "time_to_resolve": _spread([_hours(e.resolved_at - e.raised_at) for e in recent if e.resolved_at]),
        "acks_missed": sum(missed.values()),
        "acks_missed_by_site": dict(sorted(missed.items())),
        "raised": len(recent),
    }


def overview(session: Session, viewer: Viewer, *, now: datetime, days: float, classifier: Classifier) -> dict[str, Any]:
    """Per visible study: each visible site's figures, weekly message counts, senders, escalations."""
    since = now - timedelta(days=days)
    sites = visible_sites(session, viewer)
    by_study: dict[str, list[str]] = defaultdict(list)
    for site_id, (_, studies) in sites.items():
        for study in studies:
            by_study[study].append(site_id)
    asked = questions.load(session, since=since, site_ids=set(sites))
    open_qs = list(
        session.execute(
            select(OpenQuestionRow).where(OpenQuestionRow.status == "open", OpenQuestionRow.site_id.in_(list(sites)))
        ).scalars()
    )
    waiting = _waiting_deliveries(session, list(sites))
    reports = stats.build_by_study(session, now=now, days=days, classifier=classifier, studies=sorted(by_study))
    all_weekly = _weekly(session, studies=sorted(by_study), site_ids=set(sites), since=since)
    out: list[dict[str, Any]] = []
    for study in sorted(by_study):
        site_ids = sorted(by_study[study])
        report = reports[study]
        triage_by_site = {s.site_id: s for s in report.sites}
        weekly = all_weekly[study]
        rows = []
        for site_id in site_ids:
            site = sites[site_id][0]
            t = triage_by_site.get(site_id) or stats.SiteStats(site_id)
            site_asked = [q for q in asked if q.site_id == site_id and study in q.studies]
            site_open = [q for q in open_qs if q.site_id == site_id and q.study == study]
            rows.append(
                {
                    "site_id": site_id,
                    "name": site.name,
                    "tier": site.tier,
                    **{k: v for k, v in asdict(t).items() if k != "site_id"},
                    "saved_messages": max(t.raw_updates - t.delivered_messages, 0),
                    "waiting_deliveries": waiting.get(site_id, 0),
                    "weeks": {w: {"immediate": c[0], "digest": c[1]} for w, c in sorted(weekly[site_id].items())},
                    "questions": _question_counts(site_asked),
                    "open_questions": len(site_open),
                    "oldest_open_question_h": max((_hours(now - q.created_at) for q in site_open), default=None),
                }
            )
        weeks: dict[str, dict[str, int]] = defaultdict(lambda: {"immediate": 0, "digest": 0})
        for r in rows:
            for w, c in r["weeks"].items():
                weeks[w]["immediate"] += c["immediate"]
                weeks[w]["digest"] += c["digest"]
        out.append(
            {
                "study": study,
                "sites": rows,
                "weeks": dict(sorted(weeks.items())),
                "totals": {
                    **stats.StatsReport(
                        report.since, report.until, sites=[triage_by_site[r] for r in site_ids if r in triage_by_site]
                    ).totals(),
                    "questions": _question_counts([q for q in asked if study in q.studies]),
                    "open_questions": sum(r["open_questions"] for r in rows),
                    "failed_deliveries": sum(r["failed_deliveries"] for r in rows),
                    "waiting_deliveries": sum(r["waiting_deliveries"] for r in rows),
                },
                "senders": [asdict(s) for s in report.senders],
                "open_questions": [
                    {"id": q.id, "site": q.site_id, "age_h": _hours(now - q.created_at)}
                    for q in sorted(open_qs, key=lambda q: q.created_at)
                    if q.study == study
                ],
                "escalations": _escalations(session, study=study, site_ids=site_ids, now=now, since=since),
            }
        )
    return {"since": iso(since), "until": iso(now), "days": days, "viewer": viewer.to_json(), "studies": out}


def site360(session: Session, viewer: Viewer, site_id: str, *, now: datetime, days: float) -> dict[str, Any]:
    """One site: its settings, people and studies, what it received and why, questions, escalations, feedback.

    Raises LookupError for an unknown site and NotAllowed for one outside the viewer's scope."""
    sites = visible_sites(session, viewer)
    if site_id not in sites:
        from core.models import SiteRow

        if session.get(SiteRow, site_id) is None:
            raise LookupError(f"site {site_id!r} is not in the directory")
        raise NotAllowed(f"site {site_id} is outside what {viewer.person_id} may see")
    site, studies = sites[site_id]
    since = now - timedelta(days=days)
    people = [
        {"person_id": p.person_id, "name": p.name, "role": p.role}
        for p in session.execute(select(PersonRow).order_by(PersonRow.role, PersonRow.person_id)).scalars()
        if site_id in (p.sites or []) and (not p.studies or set(p.studies) & set(studies))
    ]
    state = session.get(SiteStateRow, site_id)
    stream = [
        {
            "update_id": item.update_id,
            "study": item.study,
            "received_at": iso(item.received_at),
            "subject": subject,
            "priority": item.priority,
            "status": item.status,
            "reason": item.reason,
            "delivery": delivery_status,
            "sent_at": iso(sent_at) if sent_at else None,
        }
        for item, subject, delivery_status, sent_at in session.execute(
            select(ItemRow, UpdateRow.subject, DeliveryRow.status, DeliveryRow.sent_at)
            .join(UpdateRow, UpdateRow.update_id == ItemRow.update_id)
            .outerjoin(DeliveryRow, DeliveryRow.dedupe_key == ItemRow.delivery_key)
            .where(ItemRow.site_id == site_id, ItemRow.study.in_(studies), ItemRow.received_at >= since)
            .order_by(ItemRow.received_at.desc(), ItemRow.id.desc())
            .limit(200)
        )
    ]
    asked = [q for q in questions.load(session, since=since, site_ids={site_id}) if set(q.studies) & set(studies)]
    topics: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in asked:
        cited = q.citations[0] if q.citations and not q.abstained else None
        topic = f"{cited.get('doc')} § {cited.get('section') or '-'}" if cited else "not found in the documents"
        topics[topic].append(
            {
                "question_id": q.question_id,
                "at": iso(q.at),
                "text": q.text,
                "abstained": q.abstained,
                "feedback": sorted(q.feedback),
            }
        )
    escalations = []
    for esc in session.execute(
        select(EscalationRow)
        .where(EscalationRow.site == site_id, EscalationRow.study.in_(studies))
        .order_by(EscalationRow.raised_at.desc())
        .limit(100)
    ).scalars():
        events = session.execute(
            select(EventRow).where(EventRow.escalation_id == esc.id).order_by(EventRow.at, EventRow.id)
        ).scalars()
        escalations.append(
            {
                "id": esc.id,
                "study": esc.study,
                "category": esc.category,
                "severity": esc.severity,
                "status": esc.status,
                "level": esc.level,
                "raised_at": iso(esc.raised_at),
                "age_h": _hours(now - esc.raised_at),
                "history": [{"at": iso(e.at), "kind": e.kind, "level": e.level, "actor": e.actor} for e in events],
            }
        )
    return {
        "site": {
            "site_id": site.site_id,
            "name": site.name,
            "tier": site.tier,
            "tz": site.tz,
            "digest_times": list(site.digest_times or []),
            "quiet_hours": site.quiet_hours,
            "next_digest_at": iso(state.next_digest_at) if state and state.next_digest_at else None,
        },
        "studies": studies,
        "people": people,
        "stream": stream,
        "questions": _question_counts(asked),
        "topics": dict(sorted(topics.items(), key=lambda kv: -len(kv[1]))),
        "escalations": escalations,
        "feedback": [
            {"question_id": q.question_id, "at": iso(q.at), "value": v} for q in asked for v in sorted(q.feedback)
        ],
        "since": iso(since),
        "until": iso(now),
    }
