"""The clarification flow end to end: three sites ask the same unclear thing in chat, the dashboard
clusters it, a study manager publishes a clarification, the sites receive it through triage at their
digest slot, and a fourth site's question is answered citing the clarification."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.types import InboundMessage
from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.directory import upsert
from core.domain import Person, Site
from core.models import DeliveryRow
from core.notify import RecordingNotifier
from core.settings import Settings
from dashboard.signin import issue
from scheduler.runner import Ticker, run_virtual_until
from siteline.container import build
from siteline.server import create_app
from triage.digest import flush_due
from triage.engine import DIGEST_TIMER

START = parse_instant("2026-03-02T12:00:00Z")
SITES = [
    Site(
        site_id=f"Z{n}",
        name=f"Site {n}",
        tz="Europe/Paris",
        studies=["ZETA-100"],
        digest_times=["09:00"],
        quiet_hours=["19:00", "07:00"],
        chat={"slack": f"CZ{n}"},
    )
    for n in range(1, 5)
]
PEOPLE = [
    *(
        Person(
            person_id=f"crc-z{n}", role="site_staff", sites=[f"Z{n}"], studies=["ZETA-100"], chat={"slack": f"UZ{n}"}
        )
        for n in range(1, 5)
    ),
    Person(person_id="cra-z", role="cra", sites=["Z1", "Z2", "Z3", "Z4"], studies=["ZETA-100"]),
    Person(person_id="sm-zeta", role="study_manager", studies=["ZETA-100"]),
]
PROTOCOL = """# ZETA-100 Clinical Study Protocol

## 6 Schedule of visits

Visit 2 takes place on Day 14 after randomisation, with a window of plus or minus 2 days.
At each clinic visit the site measures blood pressure and heart rate after 5 minutes of rest.
Blood samples for the central laboratory are drawn at Visit 2 and at Visit 4.

## 8 Adverse events

Serious adverse events are reported to the sponsor within 24 hours of the site becoming aware.
"""
ASKED = [
    ("Z1", "Are participants refunded for their taxi to visits?"),
    ("Z2", "Do we refund a participant's taxi to and from visits?"),
    ("Z3", "Is taxi travel for visits paid back to participants?"),
]


def test_three_sites_ask_a_cluster_is_published_and_the_fourth_site_is_answered(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}",
        SITELINE_RUN_SCHEDULER=False,
    )
    clock = VirtualClock(START)
    c = build(settings, clock=clock)
    with transaction(c.factory) as s:
        upsert(s, SITES, PEOPLE)
    doc = tmp_path / "ZETA-100_Protocol.md"
    doc.write_text(PROTOCOL, encoding="utf-8")
    c.knowledge.ingest([doc], study="ZETA-100", kind="protocol", version="1.0", now=START, progress=False)

    def ask(site: str, text: str) -> object:
        n = site[1:]
        return c.assistant.handle(
            InboundMessage(platform="slack", user_id=f"UZ{n}", conversation_id=f"CZ{n}", is_direct=False, text=text),
            clock.now(),
        )

    for site, text in ASKED:
        reply = ask(site, text)
        assert reply.status == "not_found", (site, reply.text)  # the protocol does not say
    ask("Z1", "When are serious adverse events reported?")  # answered, and not a cluster

    with TestClient(create_app(c)) as client:
        link = issue_link(c, "sm-zeta")
        assert client.post(link, follow_redirects=False).status_code == 303
        clusters = client.get("/api/dashboard/clusters").json()["clusters"]
        assert len(clusters) == 1, clusters
        cluster = clusters[0]
        assert cluster["sites"] == ["Z1", "Z2", "Z3"] and cluster["unclear"] == 3 and cluster["weight"] == 9
        assert sorted(w["text"] for w in cluster["wordings"]) == sorted(t for _, t in ASKED)
        page = client.get("/dashboard/clusters")
        assert f'action="/dashboard/clusters/{cluster["id"]}/clarification"' in page.text

        r = client.post(
            f"/api/dashboard/clusters/{cluster['id']}/clarification",
            json={
                "subject": "Taxi fares to visits",
                "body": "Participants' taxi fares to and from clinic visits are reimbursed up to 40 EUR per visit.",
            },
        )
        assert r.status_code == 201, r.text
        published = r.json()
        decision = published["decision"]
        assert sorted(s["site"] for s in decision["sites"]) == ["Z1", "Z2", "Z3"]
        assert decision["priority"] != "urgent" and {s["outcome"] for s in decision["sites"]} == {"digest"}
        again = client.get("/api/dashboard/clusters").json()["clusters"][0]
        assert again["clarifications"]  # the cluster shows its clarification

        # a CRA may see the cluster but not publish
        client.cookies.clear()
        assert client.post(issue_link(c, "cra-z"), follow_redirects=False).status_code == 303
        refused = client.post(
            f"/api/dashboard/clusters/{cluster['id']}/clarification", json={"subject": "x", "body": "y"}
        )
        assert refused.status_code == 403

    notifier = RecordingNotifier()
    ticker = Ticker(
        c.factory,
        timer_handlers={DIGEST_TIMER: lambda s, t, now: flush_due(s, t, now)},
        notifier=notifier,
        worker_id="test",
    )
    run_virtual_until(ticker, clock, START + timedelta(days=1))
    got = {
        m.recipient
        for m in notifier.sent
        if m.kind == "digest" and any(i["id"] == published["update"] for i in m.payload["items"])
    }
    assert got == {"Z1", "Z2", "Z3"}
    ids = [m.delivery_id for m in notifier.sent if m.recipient in got and m.kind == "digest"]
    with transaction(c.factory) as s:
        sent = set(s.execute(select(DeliveryRow.sent_at).where(DeliveryRow.id.in_(ids))).scalars())
    assert sent == {parse_instant("2026-03-03T08:00:00Z")}  # 09:00 in Paris: the sites' digest slot

    fourth = ask("Z4", "can a pt claim back the taxi fare for their visit?")
    assert fourth.status == "answered", fourth.text
    assert fourth.citations[0].doc.startswith("clarification-"), fourth.citations
    assert "taxi fares" in fourth.text
    c.engine.dispose()


def issue_link(c: object, person_id: str) -> str:
    with transaction(c.factory) as s:  # type: ignore[attr-defined]
        url = issue(
            s,
            person_id=person_id,
            ttl=timedelta(minutes=15),
            now=c.clock.now(),  # type: ignore[attr-defined]
            public_url="http://x",
            actor="test",
        )
    return url.removeprefix("http://x")
