"""Issue 13: "a one-time link the bot sends by chat DM (or e-mail)". From the sign-in page a sponsor-side
person asks for a link with their work e-mail; it goes where Siteline reaches them (here: e-mail, through
a real local SMTP server), works once, and the page never says whether the address is known."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import transaction
from core.models import AuditRow
from tests.test_email_channel import PUBLIC, World, make_world

CLAIRE = "claire.cra@example.org"


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    yield from make_world(tmp_path, db_url, {"cra1": {"email": CLAIRE}, "staff1": {"email": "sam@site.example"}})


def ask(w: World, email: str) -> str:
    page = w.client.post("/dashboard/login/send", data={"email": email})
    assert page.status_code == 200
    return page.text


def test_the_sign_in_page_offers_to_send_a_link(world: World) -> None:
    page = world.client.get("/dashboard/login").text
    assert 'action="/dashboard/login/send"' in page and "Send me a sign-in link" in page


def test_a_link_sent_by_email_signs_in_once(world: World) -> None:
    said = ask(world, "  Claire.CRA@example.org ")
    assert "a sign-in link is on its way" in said
    [mail] = world.smtp.wait(1)
    assert mail.rcpt_tos == [CLAIRE]
    text = mail.part("plain")
    found = re.search(re.escape(PUBLIC) + r"/dashboard/login/([A-Za-z0-9_-]+)", text)
    assert found and "works once, for 15 minutes" in text
    token = found.group(1)
    first = world.client.post(f"/dashboard/login/{token}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/dashboard"
    cookie = first.headers["set-cookie"].split(";")[0]  # Secure (the public URL is https): sent by hand here
    assert world.client.get("/api/dashboard/overview", headers={"Cookie": cookie}).status_code == 200
    again = world.client.post(f"/dashboard/login/{token}", follow_redirects=False)
    assert again.status_code == 400
    with transaction(world.container.factory) as s:
        asked = s.execute(select(AuditRow).where(AuditRow.action == "dashboard.link_requested")).scalars().all()
        assert [(a.subject, a.detail) for a in asked] == [("cra1", {"matched": True})]
        assert token not in str([a.detail for a in s.execute(select(AuditRow)).scalars()])


def test_asking_again_within_two_minutes_sends_nothing_more(world: World) -> None:
    """The page is public: it must not become a way to message a sponsor's staff over and over."""
    ask(world, CLAIRE)
    world.smtp.wait(1)
    said = ask(world, CLAIRE)
    assert "a sign-in link is on its way" in said  # the same answer, but no second message
    world.clock.advance_to(world.clock.now() + timedelta(seconds=119))
    ask(world, CLAIRE)
    assert len(world.smtp.received) == 1
    world.clock.advance_to(world.clock.now() + timedelta(seconds=2))
    ask(world, CLAIRE)
    assert len(world.smtp.wait(2)) == 2


@pytest.mark.parametrize("email", ["nobody@example.org", "sam@site.example"])
def test_unknown_addresses_and_site_staff_get_the_same_answer_and_no_mail(world: World, email: str) -> None:
    said = ask(world, email)
    assert "a sign-in link is on its way" in said
    assert world.smtp.received == []
    with transaction(world.container.factory) as s:
        [asked] = s.execute(select(AuditRow).where(AuditRow.action == "dashboard.link_requested")).scalars().all()
        assert (asked.subject, asked.detail) == ("unknown", {"matched": False})


def test_a_form_without_an_address_is_told_what_is_missing(world: World) -> None:
    page = world.client.post("/dashboard/login/send", data={"email": "claire"})
    assert page.status_code == 422 and "Give your work e-mail address." in page.text
