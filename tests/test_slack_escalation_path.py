"""`/siteline escalation-path [site] [category] [severity]`: the ladder a site's issue would climb,
with roles, names from the directory, time limits after the tier factor and what critical
changes; through signed slash commands, answered privately through the response URL."""

from __future__ import annotations

import pytest

from core.db import transaction
from core.models import SiteRow
from tests.fake_slack import Call
from tests.test_slack_triage_notify import World, fake, w  # noqa: F401  (fixtures)


@pytest.fixture
def world(w: World) -> World:  # noqa: F811  (the shared harness, under this module's name)
    return w


def ask(world: World, user: str, text: str, channel: str = "C_S01") -> Call:
    world.fake.reset()
    assert world.command(user, channel, text).status_code == 200
    return world.fake.wait_for(f"/commands/{user}")[0]


def test_a_site_sees_its_ladder_with_roles_names_and_time_limits(world: World) -> None:
    reply = ask(world, "U_ANNA", "escalation-path ip")
    assert reply.args["response_type"] == "ephemeral" and reply.args["text"] == "Escalation path for IP / drug supply"
    text = reply.text_of_blocks
    assert "*Who an issue from Berlin Heart Centre on ORION reaches*" in text
    assert "*Level 1 · CRA:* Carla CRA (carla)" in text and "4 h to acknowledge" in text
    assert "*Level 2 · study manager:* Sam Manager (sam)" in text and "8 h to acknowledge" in text
    assert "*Level 3 · head of clinical operations:* _nobody is registered for this role yet_" in text
    assert "08:00–18:00 Mon–Fri, their time" in text
    assert "*If it is critical:* levels 1 to 2 (CRA and study manager) are told at once, day or night" in text


def test_the_tier_factor_and_a_critical_path_are_explained(world: World) -> None:
    with transaction(world.container.factory) as s:
        site = s.get(SiteRow, "S01")
        assert site is not None
        site.tier = "strategic"  # timeout factor 0.5, SRMs also told at level 1
    text = ask(world, "U_ANNA", "escalation-path ip_supply").text_of_blocks
    assert "2 h to acknowledge" in text and "Your site is a strategic site: every time limit is ×0.5." in text
    critical = ask(world, "U_ANNA", "escalation-path safety critical").text_of_blocks
    assert "Safety, critical" in critical and "Critical issues are sent at once, day or night." in critical
    assert "If it is critical" not in critical


def test_words_it_does_not_know_are_named_and_the_categories_listed(world: World) -> None:
    reply = ask(world, "U_ANNA", "escalation-path plumbing")
    assert (
        "I don't know \u201cplumbing\u201d" in reply.args["text"]
        and "ip_supply (IP / drug supply)" in reply.args["text"]
    )


def test_sponsor_people_name_a_site_and_strangers_are_refused(world: World) -> None:
    assert "Tell me which site" in ask(world, "U_SAM", "escalation-path").args["text"]
    text = ask(world, "U_SAM", "escalation-path S03 data").text_of_blocks
    assert "Boston General on ORION" in text and "Data &amp; queries" in text  # escaped for mrkdwn
    assert "directory" in ask(world, "U_STRANGER", "escalation-path").args["text"]
