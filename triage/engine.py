"""Triage of one update, in stages that each give a reason: audience → classify → dedupe → batch.

`plan` decides without writing (the Slack modal's preview uses it); `receive` decides and stores
the update, one decision row per site, the outbox rows for what goes out at once, and each
site's next digest slot, all in the caller's transaction: nothing is sent that was not first
stored, and a crash leaves either the whole decision or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.clock import iso
from core.outbox import enqueue_many
from scheduler import timers
from triage import queries
from triage.audience import SiteInfo, resolve
from triage.classify import Classifier, Judgment, Refiner, SenderRecord
from triage.decision import Decision, SiteOutcome
from triage.dedupe import find_matches
from triage.fingerprint import Fingerprint, fingerprint
from triage.models import ItemRow, SiteStateRow, UpdateRow
from triage.payloads import details_of, item_json
from triage.policy import TriagePolicy
from triage.schemas import UpdateIn
from triage.slots import next_slot
from triage.states import lock_states, set_next_slots

DIGEST_TIMER = "triage.digest"
REASON_MAX = 300


@dataclass(frozen=True)
class Carrier:
    """An earlier item at a site that a repeat folds into."""

    item_id: int
    update_id: str
    status: str  # pending | queued
    priority: str
    reason: str
    merged: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    update: UpdateIn
    judgment: Judgment
    fp: Fingerprint
    flooding: bool
    outcomes: list[SiteOutcome]
    carriers: dict[str, Carrier]
    new_slots: dict[str, tuple[datetime, str]]  # site -> (slot, note) for sites with no slot yet

    def decision(self, *, already_received: bool = False) -> Decision:
        j = self.judgment
        return Decision(self.update.id, j.priority, j.reason, j.rule, self.outcomes, self.flooding, already_received)


def wake_key(at: datetime) -> str:
    return f"{DIGEST_TIMER}@{iso(at)}"


class TriageEngine:
    def __init__(self, policy: TriagePolicy, refiner: Refiner | None = None) -> None:
        self.policy = policy
        self.classifier = Classifier(policy, refiner)
        self._urgent_rule_ids = frozenset(r.id for r in policy.urgent_rules)

    # -- read side ---------------------------------------------------------------------------

    def sender_record(self, session: Session, sender: str, now: datetime) -> SenderRecord:
        since = now - timedelta(days=self.policy.sender_flood.window_days)
        total, urgent = session.execute(queries.SENDER_RECORD, {"sender": sender, "since": since}).one()
        return SenderRecord(int(total), int(urgent))

    def plan(self, session: Session, update: UpdateIn, now: datetime, *, lock: bool = False) -> Plan:
        """Decide everything about `update` at `now`; writes nothing. `lock` takes the row locks a
        store needs (site states, then carrier items: the same order as a digest flush)."""
        sites = resolve(session, study=update.study, sites=update.sites)
        record = self.sender_record(session, update.sender, now)
        flooding = self.classifier.is_flooding(record)
        fp = fingerprint(update.subject, update.body, self.policy.dedupe.state_words, update.study)
        judgment = self.classifier.judge(
            subject=update.subject,
            body=update.body,
            due=update.due,
            declared=update.declared_priority,
            sender=update.sender,
            record=record,
            core=fp.core,
        )
        site_ids = [s.site_id for s in sites]
        content_rule = judgment.rule if judgment.rule in self._urgent_rule_ids else None
        scan = partial(
            find_matches, session, update_id=update.id, study=update.study, fp=fp, due=update.due, now=now,
            policy=self.policy.dedupe, urgent_rule=content_rule,
        )  # fmt: skip
        # The window is read and scored before the lock; under it, only what was stored since (same result).
        earlier = scan() if lock else None
        states = lock_states(session, site_ids, lock=lock)
        matches = scan(earlier=earlier).best_first()
        carriers = self._carriers(session, [m.update_id for m in matches], site_ids, lock=lock)
        outcomes: list[SiteOutcome] = []
        new_slots: dict[str, tuple[datetime, str]] = {}
        for site in sites:
            outcomes.append(self._outcome(site, judgment, carriers.get(site.site_id), states, new_slots, now))
        return Plan(update, judgment, fp, flooding, outcomes, carriers, new_slots)

    def _carriers(
        self, session: Session, update_ids: list[str], site_ids: list[str], *, lock: bool
    ) -> dict[str, Carrier]:
        """Per site, the best-matching item still pending or already queued there (`update_ids` best first)."""
        if not update_ids or not site_ids:
            return {}
        order = {uid: n for n, uid in enumerate(update_ids)}
        stmt = queries.carriers(session.get_bind().dialect.name, lock)
        rows = session.execute(stmt, {"uids": update_ids, "ids": site_ids}).all()
        found: dict[str, Carrier] = {}
        for r in sorted(rows, key=lambda r: order[r.update_id]):
            if r.site_id not in found:
                found[r.site_id] = Carrier(r.id, r.update_id, r.status, r.priority, r.reason, tuple(r.merged or ()))
        return found

    def _outcome(
        self,
        site: SiteInfo,
        judgment: Judgment,
        carrier: Carrier | None,
        states: dict[str, datetime | None],
        new_slots: dict[str, tuple[datetime, str]],
        now: datetime,
    ) -> SiteOutcome:
        sid = site.site_id
        if carrier is not None and carrier.status == "queued":
            return SiteOutcome(
                sid, "suppressed", f"repeat of {carrier.update_id}, already delivered", carrier.update_id
            )
        if carrier is not None and judgment.priority == "urgent" and carrier.priority != "urgent":
            return SiteOutcome(
                sid, "merged", f"repeat of {carrier.update_id}; now urgent, sent at once", carrier.update_id
            )
        if carrier is not None:
            at = states.get(sid) or self._slot(site, now, new_slots)
            return SiteOutcome(sid, "merged", f"repeat of {carrier.update_id}, still pending", carrier.update_id, at)
        if judgment.priority == "urgent":
            return SiteOutcome(sid, "immediate", judgment.reason)
        at = states.get(sid) or self._slot(site, now, new_slots)
        return SiteOutcome(sid, "digest", judgment.reason, None, at)

    def _slot(self, site: SiteInfo, now: datetime, new_slots: dict[str, tuple[datetime, str]]) -> datetime:
        slot = next_slot(now, tz=site.tz, digest_times=site.digest_times, quiet_hours=site.quiet_hours)
        new_slots[site.site_id] = (slot.at, slot.note)
        return slot.at

    # -- write side --------------------------------------------------------------------------

    def receive(self, session: Session, update: UpdateIn, now: datetime, *, source: str, actor: str) -> Decision:
        """Triage and store `update` (idempotent by id: a repeat submission stores nothing new)."""
        if session.execute(queries.UPDATE_EXISTS, {"uid": update.id}).first():
            return self.stored_decision(session, update.id)
        plan = self.plan(session, update, now, lock=True)
        self._store(session, plan, now, source)
        decision = plan.decision()
        carriers: dict[str, int] = {}
        for o in plan.outcomes:
            if o.carrier:
                carriers[o.carrier] = carriers.get(o.carrier, 0) + 1
        # One audit entry per update: what was received, from whom, and what was decided (the
        # per-site decisions and their reasons are the triage_items rows of the same transaction).
        audit.record(
            session,
            now=now,
            actor=actor,
            action="triage.update",
            subject=update.id,
            detail={"received": {"study": update.study, "from": update.sender, "org": update.org, "source": source,
                                 "declared": update.declared_priority, "addressed": update.sites if update.sites ==
                                 "all" else len(update.sites)},
                    "decided": {"priority": decision.priority, "reason": decision.reason, "rule": decision.rule,
                                "counts": decision.counts(), "carriers": carriers,
                                "sender_flooding": plan.flooding}},
        )  # fmt: skip
        return decision

    def _store(self, session: Session, plan: Plan, now: datetime, source: str) -> None:
        u, j = plan.update, plan.judgment
        session.execute(
            queries.INSERT_UPDATE,
            [{"update_id": u.id, "received_at": now, "source": source, "sender": u.sender, "org": u.org,
              "study": u.study, "addressed": u.sites, "subject": u.subject, "body": u.body,
              "declared_priority": u.declared_priority, "due": u.due, "priority": j.priority,
              "reason": j.reason[:REASON_MAX], "rule": j.rule, "core_text": plan.fp.core,
              "keys": sorted(plan.fp.keys)}],
        )  # fmt: skip
        details = details_of(u)
        items: list[dict[str, Any]] = []
        outbox: list[dict[str, Any]] = []
        merges: list[dict[str, Any]] = []
        promotions: list[dict[str, Any]] = []
        for o in plan.outcomes:
            row = {
                "update_id": u.id, "site_id": o.site_id, "study": u.study, "received_at": now, "decided_at": now,
                "priority": j.priority, "due": u.due, "reason": o.reason[:REASON_MAX], "carrier_id": o.carrier,
                "merged": [], "delivery_key": None,
            }  # fmt: skip
            if o.outcome == "immediate":
                key = f"triage:immediate:{u.id}:{o.site_id}"
                row.update(status="queued", delivery_key=key)
                payload = {"items": [item_json(u.id, j.priority, j.reason, [])], "details": details, "study": u.study}
                outbox.append(_row(key, now, o.site_id, "immediate", payload))
            elif o.outcome == "digest":
                row.update(status="pending")
            elif o.outcome == "suppressed":
                key = f"triage:suppressed:{u.id}:{o.site_id}"
                row.update(status="suppressed", delivery_key=key)
                payload = {"items": [{"id": u.id, "duplicate_of": o.carrier}], "study": u.study}
                outbox.append(_row(key, now, o.site_id, "suppressed", payload))
            else:  # merged into a pending carrier (which goes out at once if this repeat is urgent)
                row.update(status="merged")
                c = plan.carriers[o.site_id]
                merged = [*c.merged, u.id]
                if o.digest_at is None:
                    key = f"triage:immediate:{c.update_id}:{o.site_id}"
                    promotions.append({"row_id": c.item_id, "v_merged": merged, "v_reason": j.reason[:REASON_MAX],
                                       "v_key": key})  # fmt: skip
                    payload = {"items": [item_json(c.update_id, "urgent", j.reason, merged)], "study": u.study}
                    outbox.append(_row(key, now, o.site_id, "immediate", payload))
                else:
                    merges.append({"row_id": c.item_id, "v_merged": merged})
            items.append(row)
        if items:
            session.execute(queries.INSERT_ITEMS, items)
        if merges:
            session.execute(queries.SET_MERGED, merges)
        if promotions:
            session.execute(queries.PROMOTE, promotions)
        enqueue_many(session, outbox, now=now)
        if plan.new_slots:
            set_next_slots(session, plan.new_slots)
            wakes = sorted({at for at, _ in plan.new_slots.values()})
            timers.schedule_many(session, [(wake_key(at), DIGEST_TIMER, at, {}) for at in wakes])

    def stored_decision(self, session: Session, update_id: str) -> Decision:
        """The decision made when `update_id` was first received (for a repeated submission)."""
        u = session.execute(select(UpdateRow).where(UpdateRow.update_id == update_id)).scalar_one()
        states = dict(session.execute(select(SiteStateRow.site_id, SiteStateRow.next_digest_at)).all())
        outcomes = []
        for it in session.execute(
            select(ItemRow).where(ItemRow.update_id == update_id).order_by(ItemRow.site_id)
        ).scalars():
            kind = {"queued": "immediate", "pending": "digest"}.get(it.status, it.status)
            if it.status == "queued" and it.delivery_key and ":immediate:" not in it.delivery_key:
                kind = "digest"
            at = states.get(it.site_id) if it.status in ("pending", "merged") else None
            outcomes.append(SiteOutcome(it.site_id, kind, it.reason, it.carrier_id, at))
        return Decision(u.update_id, u.priority, u.reason, u.rule, outcomes, False, already_received=True)


def _row(key: str, now: datetime, site_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"dedupe_key": key, "due_at": now, "channel": "site", "recipient": site_id, "kind": kind, "payload": payload}
