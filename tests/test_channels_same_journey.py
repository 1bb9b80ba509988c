"""One escalation journey, the same assertions, through Slack, Teams and e-mail (issue 11's "done when").

One `serve` app (uvicorn on a free port, virtual clock) runs all three channels at once: a fake
Slack Web API, a fake Teams connector and a real local SMTP server. The directory makes the level-1
CRA for the site's IP-supply issues, Carla, reachable on exactly one channel per run, in her own
time zone (Tokyo on Slack, Kolkata on Teams, Paris by e-mail), so the deadline she reads must be
in that zone. Each test body is the same for every channel; a small driver per channel knows how
to read the notice she received, how she (or a stranger) presses Acknowledge, and where the site
reads what it was told:

raise through `POST /api/escalations` → the ticker delivers → her notice names the escalation, the
summary and "Please acknowledge by <her time> (<her zone>) (within 4 h), or it goes to the study
manager." → she acknowledges → acknowledged by her, no hand-on past the deadline, the site told,
audited → a second press changes nothing and says so → a stranger's press is refused.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import select

from bot.channels import build_notifier
from core.clock import VirtualClock
from core.db import transaction
from core.directory import parse_entries, upsert
from core.models import AuditRow, DeliveryRow
from core.settings import Settings
from escalation.models import EscalationRow
from scheduler.plugins import load_plugins, timer_handlers
from scheduler.runner import Ticker, run_virtual_until
from siteline.container import Container, build
from siteline.server import create_app
from tests.chat_world import PEOPLE, SITES
from tests.fake_slack import Call, FakeSlack, SlackPayloads
from tests.fake_teams_connector import SITE_CHANNELS, TEAMS_USERS, Activities, FakeConnector, card_texts
from tests.smtp_server import LocalSmtp
from tests.test_teams_bot import ServerThread

START = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # a Monday: working hours in Tokyo, Kolkata and Paris alike
DEADLINE = START + timedelta(hours=4)  # IP supply, high: the CRA has 4 h (escalation/default_policy.yaml)
SUMMARY = "IP shipment arrived warm this morning; 12 kits quarantined"
API = {"Authorization": "Bearer api-token"}
SECRET = "signing-secret"
PUBLIC = "https://siteline.example.org"
CARLA_EMAIL = "carla@sponsor.example.org"
S01_TEAMS = SITE_CHANNELS["S01"]
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Reader:
    """Carla on one channel: her zone, and the times she must read in it (worked out by hand)."""

    channel: str
    tz: str
    deadline: str  # DEADLINE (11:30 UTC) in her zone
    acked_at: str  # START (07:30 UTC) in her zone


READERS = {
    "slack": Reader("slack", "Asia/Tokyo", "Mon 2 Mar 20:30", "Mon 2 Mar 16:30"),
    "teams": Reader("teams", "Asia/Kolkata", "Mon 2 Mar 17:00", "Mon 2 Mar 13:00"),
    "email": Reader("email", "Europe/Paris", "Mon 2 Mar 12:30", "Mon 2 Mar 08:30"),
}


def plain(markup: str) -> str:
    """Text as the reader sees it: tags and styles, Slack/Teams emphasis and HTML entities gone, spaces
    folded."""
    text = re.sub(r"<style.*?</style>", " ", markup, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("*", "")
    return re.sub(r"\s+", " ", text)


# -- the app with all three channels ----------------------------------------------------------


@dataclass
class App:
    http: httpx.Client
    container: Container
    clock: VirtualClock
    slack: FakeSlack
    teams: FakeConnector
    smtp: LocalSmtp

    def ticker(self) -> Ticker:
        """What `serve` runs each tick: every engine's timers, then the outbox through the one router."""
        handlers = timer_handlers(load_plugins(self.container.settings))
        return Ticker(self.container.factory, timer_handlers=handlers, notifier=build_notifier(self.container),
                      worker_id="test")  # fmt: skip

    def tick(self) -> None:
        self.ticker().run(self.clock.now())

    def run_until(self, when: datetime) -> None:
        run_virtual_until(self.ticker(), self.clock, when)

    def escalation(self, esc_id: str) -> EscalationRow:
        with transaction(self.container.factory) as s:
            row = s.get(EscalationRow, esc_id)
            assert row is not None
            s.expunge(row)
            return row

    def deliveries(self, esc_id: str) -> dict[str, DeliveryRow]:
        with transaction(self.container.factory) as s:
            rows = s.execute(select(DeliveryRow).where(DeliveryRow.dedupe_key.startswith(f"esc:{esc_id}:"))).scalars()
            found = {r.dedupe_key: r for r in rows}
            s.expunge_all()
            return found

    def notices_to_carla(self) -> dict[str, int]:
        """How many messages reached Carla on each channel (she must be told on hers alone)."""
        return {
            "slack": len([c for c in self.slack.of("chat.postMessage") if c.args["channel"] == "DU_CARLA"]),
            "teams": len(self.teams.messages(where=lambda p: p.conversation == f"a:dm-{TEAMS_USERS['carla']}")),
            "email": len([m for m in self.smtp.received if CARLA_EMAIL in m.rcpt_tos]),
        }

    def audit(self, action: str) -> list[AuditRow]:
        with transaction(self.container.factory) as s:
            rows = list(s.execute(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)).scalars())
            s.expunge_all()
            return rows


def directory(reader: Reader, teams_url: str) -> tuple[list[Any], list[Any]]:
    """tests.chat_world's sites and people. Everyone but Carla has a Slack and a Teams account; Carla
    (level 1: the CRA of S01 / ORION) has exactly the channel under test, and her own zone. S01 talks
    in Teams when Teams is under test, else in Slack (a site is never told by e-mail of an escalation:
    e-mail is the last resort for people, `assistant/outbound.py`)."""
    sites = []
    for s in SITES:
        site = dict(s)
        if s["site_id"] == "S01" and reader.channel == "teams":
            site.pop("slack_channel_id")
            site.update(teams_conversation_id=S01_TEAMS, teams_service_url=teams_url)
        sites.append(site)
    people = []
    for p in PEOPLE:
        person = {**p, "teams_user_id": TEAMS_USERS[p["person_id"]]}
        if p["person_id"] == "carla":
            person = {k: v for k, v in p.items() if k != "slack_user_id"} | {"tz": reader.tz}
            person |= {"slack": {"slack_user_id": "U_CARLA"}, "teams": {"teams_user_id": TEAMS_USERS["carla"]},
                       "email": {"email": CARLA_EMAIL}}[reader.channel]  # fmt: skip
        people.append(person)
    entries = [(s["site_id"], {"type": "site", **s}) for s in sites]
    entries += [(p["person_id"], {"type": "person", **p}) for p in people]
    return parse_entries(entries)


@pytest.fixture
def app(tmp_path: Path, db_url: str, reader: Reader) -> Iterator[App]:
    slack, teams = FakeSlack().start(), FakeConnector().start()
    with LocalSmtp() as smtp:
        settings = Settings(
            _env_file=None,
            SITELINE_HOME=tmp_path / "home",
            SITELINE_DATABASE_URL=db_url,
            SITELINE_RUN_SCHEDULER=False,
            SITELINE_API_TOKEN="api-token",
            SITELINE_PUBLIC_URL=PUBLIC,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.api_url,
            SITELINE_TEAMS_ANONYMOUS=True,
            SITELINE_SMTP_HOST="127.0.0.1",
            SITELINE_SMTP_PORT=smtp.port,
            SITELINE_SMTP_FROM="Siteline <siteline@example.org>",
            SITELINE_SMTP_STARTTLS=False,
        )
        clock = VirtualClock(START)
        container = build(settings, clock=clock)
        with transaction(container.factory) as s:
            upsert(s, *directory(reader, teams.url))
        assert set(build_notifier(container).senders) == {"slack", "teams", "email"}
        try:
            with ServerThread(create_app(container)) as base, httpx.Client(base_url=base, timeout=20) as http:
                yield App(http, container, clock, slack, teams, smtp)
        finally:
            container.engine.dispose()
            slack.stop()
            teams.stop()


# -- the drivers: how each channel shows a notice and takes a press -----------------------------


@dataclass
class Driver:
    """What differs per channel. `notice` is the text of the one notice Carla received; `acknowledge`
    presses its button as her and returns what she is shown; `strangers_press` returns, per stranger,
    what they are shown; `site_heard` is what the site's chat got since the last press."""

    app: App
    reader: Reader
    refusals: dict[str, str]  # stranger -> words their refusal must contain

    def __post_init__(self) -> None:
        pass

    def notice(self) -> str:
        raise NotImplementedError

    def acknowledge(self, esc_id: str) -> str:
        raise NotImplementedError

    def strangers_press(self, esc_id: str) -> dict[str, str]:
        raise NotImplementedError

    def site_heard(self) -> list[str]:
        raise NotImplementedError


REFUSED_CHAT = {  # the escalation engine's one rule, said by the assistant's desk on every chat
    "victor": "You can't acknowledge escalation {id}: only the sponsor team of site S01 / ORION can.",
    "stranger": "I don't have you in the Siteline directory yet",
}


def wait_until(found: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := found()):
        assert time.monotonic() < deadline, f"waited {timeout}s for {what}"
        time.sleep(0.02)
    return result


class SlackDriver(Driver):
    """Signed `block_actions` into `/slack/events`; the DM and the site channel at the fake Web API."""

    DM, MESSAGE_TS = "DU_CARLA", "1700000000.000777"
    USERS: ClassVar[dict[str, str]] = {"carla": "U_CARLA", "victor": "U_VICTOR", "stranger": "U_STRANGER"}

    def __post_init__(self) -> None:
        self.payloads = SlackPayloads(SECRET, self.app.slack)
        self.dm: Call | None = None

    def notice(self) -> str:
        [self.dm] = self.app.slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == self.DM)
        assert self.app.slack.of("conversations.open")[0].args["users"] == "U_CARLA"
        return plain(self.dm.text_of_blocks)

    def press(self, who: str, esc_id: str) -> str:
        assert self.dm is not None, "read the notice first"
        user = self.USERS[who]
        self.app.slack.reset()
        message = {"ts": self.MESSAGE_TS, "blocks": self.dm.args["blocks"]}
        body = self.payloads.click(user, "escalation_ack", esc_id, channel=self.DM, message=message)
        headers = self.payloads.headers(body, FORM)
        assert self.app.http.post("/slack/events", content=body, headers=headers).status_code == 200

        def shown() -> list[Call]:  # the DM rewritten in place, or a private reply to the clicker
            calls = list(self.app.slack.calls)
            return [c for c in calls if c.method == f"/response/{user}" or
                    (c.method == "chat.update" and c.args["channel"] == self.DM)]  # fmt: skip

        [call] = wait_until(shown, f"Slack's answer to {who}'s click")
        return plain(call.text_of_blocks or call.args["text"])

    def acknowledge(self, esc_id: str) -> str:
        return self.press("carla", esc_id)

    def strangers_press(self, esc_id: str) -> dict[str, str]:
        return {who: self.press(who, esc_id) for who in ("victor", "stranger")}

    def site_heard(self) -> list[str]:
        posts = self.app.slack.of("chat.postMessage")
        return [plain(c.args.get("text", "")) for c in posts if c.args["channel"] == "C_S01"]


class TeamsDriver(Driver):
    """`adaptiveCard/action` invokes into `/api/messages`; the 1:1 chat and the site at the fake connector."""

    def __post_init__(self) -> None:
        self.activities = Activities(self.app.teams.url)
        self.chat = f"a:dm-{TEAMS_USERS['carla']}"

    def notice(self) -> str:
        [post] = self.app.teams.wait_for(where=lambda p: p.conversation == self.chat)
        assert self.app.teams.created()[0].body["members"] == [{"id": TEAMS_USERS["carla"]}]
        assert post.action_titles() == ["Acknowledge", "Resolve"]
        return plain(post.all_text)

    def press(self, who: str, esc_id: str) -> str:
        self.app.teams.reset()
        on = {"id": "msg-esc", "conversation": {"id": self.chat, "conversationType": "personal"}}
        invoke = self.activities.invoke(who, "escalation_ack", {"escalation_id": esc_id}, on=on)
        resp = self.app.http.post("/api/messages", json=invoke)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        value = answer["value"]
        shown = "\n".join(card_texts(value)) if isinstance(value, dict) else str(value)
        assert not re.search(r"[✅🏁] [✅🏁]", shown), shown  # one mark per outcome (was "✅ ✅ Acknowledged…")
        return plain(shown)

    def acknowledge(self, esc_id: str) -> str:
        return self.press("carla", esc_id)

    def strangers_press(self, esc_id: str) -> dict[str, str]:
        return {who: self.press(who, esc_id) for who in ("victor", "stranger")}

    def site_heard(self) -> list[str]:
        return [plain(p.all_text) for p in self.app.teams.messages(where=lambda p: p.conversation == S01_TEAMS)]


class EmailDriver(Driver):
    """The acknowledge link in the mail the SMTP server received: GET shows it, POST acknowledges.
    The site reads Slack (sites are never told by e-mail of an escalation). A stranger has no button
    of Carla's to press (the link is hers alone): their equivalent is a link Siteline never sent."""

    LINK = re.compile(re.escape(PUBLIC) + r"/ack/([A-Za-z0-9_-]+)")

    def __post_init__(self) -> None:
        self.token: str | None = None
        self.posts_seen = 0

    def notice(self) -> str:
        [mail] = self.app.smtp.wait(1)
        assert mail.rcpt_tos == [CARLA_EMAIL]
        text = mail.part("plain")
        found = self.LINK.search(text)
        assert found, text
        self.token = found.group(1)
        return plain(text)

    def acknowledge(self, esc_id: str) -> str:
        assert self.token is not None, "read the notice first"
        before = self.app.escalation(esc_id)
        page = self.app.http.get(f"/ack/{self.token}")  # a mail scanner, or Carla opening it
        if before.status == "notified":  # (a spent link's page is the second press's business)
            assert page.status_code == 200 and f"Acknowledge escalation {esc_id}" in page.text
        after = self.app.escalation(esc_id)
        assert (after.status, after.acked_by) == (before.status, before.acked_by)  # opening changes nothing
        self.posts_seen = len(self.app.slack.of("chat.postMessage"))
        return plain(self.app.http.post(f"/ack/{self.token}").text)

    def strangers_press(self, esc_id: str) -> dict[str, str]:
        unknown = "x" * 43
        shown = {}
        for who, resp in (("unknown link (GET)", self.app.http.get(f"/ack/{unknown}")),
                          ("unknown link (POST)", self.app.http.post(f"/ack/{unknown}"))):  # fmt: skip
            assert resp.status_code == 404
            shown[who] = plain(resp.text)
        return shown

    def site_heard(self) -> list[str]:
        posts = self.app.slack.of("chat.postMessage")[self.posts_seen :]
        return [plain(c.args.get("text", "")) for c in posts if c.args["channel"] == "C_S01"]


DRIVERS: dict[str, tuple[type[Driver], dict[str, str]]] = {
    "slack": (SlackDriver, REFUSED_CHAT),
    "teams": (TeamsDriver, REFUSED_CHAT),
    "email": (EmailDriver, dict.fromkeys(("unknown link (GET)", "unknown link (POST)"), "This link is not valid")),
}


@pytest.fixture(params=list(READERS))
def reader(request: pytest.FixtureRequest) -> Reader:
    return READERS[request.param]


@pytest.fixture
def driver(app: App, reader: Reader) -> Driver:
    kind, refusals = DRIVERS[reader.channel]
    return kind(app, reader, refusals)


# -- the journey (the same for every channel) --------------------------------------------------


def raise_and_deliver(app: App) -> str:
    """Anna's site raises it through the API; nothing goes out until the ticker delivers."""
    body = {"site": "S01", "study": "ORION", "raised_by": "anna", "summary": SUMMARY,
            "category": "ip_supply", "severity": "high"}  # fmt: skip
    resp = app.http.post("/api/escalations", json=body, headers=API)
    assert resp.status_code == 201, resp.text
    view = resp.json()
    assert view["current_roles"] == ["cra"] and view["hands_on_at"] == "2026-03-02T11:30:00Z"
    queued = app.deliveries(str(view["id"]))[f"esc:{view['id']}:L1:carla"]
    assert queued.status == "pending"  # the raise only queues it: the ticker sends
    app.tick()
    return str(view["id"])


def sent(app: App, esc_id: str, what: str) -> DeliveryRow | None:
    row = app.deliveries(esc_id).get(f"esc:{esc_id}:{what}")
    return row if row is not None and row.status == "sent" else None


def test_the_level_1_person_reads_the_notice_with_the_deadline_in_their_own_zone(app: App, driver: Driver) -> None:
    esc_id = raise_and_deliver(app)
    notice = driver.notice()
    r = driver.reader
    assert esc_id in notice and SUMMARY in notice
    sentence = f"Please acknowledge by {r.deadline} ({r.tz}) (within 4 h), or it goes to the study manager."
    assert sentence in notice, notice
    assert "(UTC)" not in notice  # her zone, never the server's
    assert app.notices_to_carla() == {channel: int(channel == r.channel) for channel in READERS}
    row = app.deliveries(esc_id)[f"esc:{esc_id}:L1:carla"]
    assert row.status == "sent" and row.external_ref


def test_acknowledging_stops_the_ladder_tells_the_site_and_is_audited(app: App, driver: Driver) -> None:
    esc_id = raise_and_deliver(app)
    driver.notice()
    r = driver.reader
    shown = driver.acknowledge(esc_id)
    assert f"Acknowledged by Carla CRA at {r.acked_at} ({r.tz}). It won't go further up; the site was told." in shown

    esc = app.escalation(esc_id)
    assert (esc.status, esc.acked_by, esc.level) == ("acknowledged", "carla", 1)
    # Sent at once by the channel that took the press (Teams a moment later, off the invoke's reply).
    told = wait_until(lambda: sent(app, esc_id, "site:ack"), "the site's row to be sent")
    assert "acknowledged by Carla CRA (carla)" in told.payload["text"]
    heard = wait_until(lambda: [t for t in driver.site_heard() if esc_id in t], "the site to be told")
    assert any("acknowledged by Carla CRA (carla)" in t for t in heard), heard
    [acked] = app.audit("escalation.ack")
    assert (acked.actor, acked.subject) == ("carla", esc_id)

    app.run_until(DEADLINE + timedelta(hours=1))  # past her 4 h: the hand-on timer finds itself stale
    esc = app.escalation(esc_id)
    assert (esc.status, esc.level, esc.acked_by) == ("acknowledged", 1, "carla")
    assert not [k for k in app.deliveries(esc_id) if k.startswith(f"esc:{esc_id}:L2:")]
    assert not [c for c in app.slack.of("chat.postMessage") if c.args["channel"] == "DU_SAM"]  # Sam is on Slack
    assert [m.rcpt_tos for m in app.smtp.received] in ([], [[CARLA_EMAIL]])


def test_unacknowledged_it_goes_to_level_2_after_the_time_limit(app: App, driver: Driver) -> None:
    """The control for the test above: left alone, the same escalation does hand on."""
    esc_id = raise_and_deliver(app)
    driver.notice()
    app.run_until(DEADLINE)  # at the deadline itself: still hers
    assert app.escalation(esc_id).level == 1
    app.run_until(DEADLINE + timedelta(minutes=1))
    esc = app.escalation(esc_id)
    assert (esc.status, esc.level, esc.acked_by) == ("handed_on", 2, None)
    assert sent(app, esc_id, "L2:sam") is not None


def test_a_second_acknowledge_changes_nothing(app: App, driver: Driver) -> None:
    esc_id = raise_and_deliver(app)
    driver.notice()
    driver.acknowledge(esc_id)
    first = app.escalation(esc_id)
    rows = wait_until(lambda: sent(app, esc_id, "site:ack") and app.deliveries(esc_id), "the site's row to be sent")

    driver.acknowledge(esc_id)
    esc = app.escalation(esc_id)
    assert (esc.status, esc.acked_by, esc.acked_at, esc.level) == ("acknowledged", "carla", first.acked_at, 1)
    assert set(app.deliveries(esc_id)) == set(rows)  # nobody is told anything new
    assert [t for t in driver.site_heard() if esc_id in t] == [] and len(app.audit("escalation.ack")) == 1


def test_a_second_acknowledge_says_it_was_already_done(app: App, driver: Driver) -> None:
    esc_id = raise_and_deliver(app)
    driver.notice()
    driver.acknowledge(esc_id)
    again = driver.acknowledge(esc_id)
    assert "Already acknowledged by Carla CRA" in again, again


def test_a_stranger_pressing_acknowledge_is_refused_and_nothing_changes(app: App, driver: Driver) -> None:
    esc_id = raise_and_deliver(app)
    driver.notice()
    rows = app.deliveries(esc_id)
    shown = driver.strangers_press(esc_id)
    assert set(shown) == set(driver.refusals)
    for who, words in driver.refusals.items():
        assert words.format(id=esc_id) in shown[who], (who, shown[who])
    esc = app.escalation(esc_id)
    assert (esc.status, esc.acked_by, esc.level) == ("notified", None, 1)
    assert set(app.deliveries(esc_id)) == set(rows) and app.audit("escalation.ack") == []
