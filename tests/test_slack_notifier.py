"""The Notifier the engines send through: routing by the directory, Slack rendering per kind, and
whether a failure is worth retrying (429 → Retry-After), against the recording fake Slack API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels import build_notifier
from core.db import transaction
from core.directory import parse_entries, upsert
from core.models import DeliveryRow
from core.notify import OutboundMessage
from core.outbox import enqueue
from core.settings import Settings
from scheduler.runner import Ticker
from siteline.container import Container, build
from tests.chat_world import load_directory
from tests.digest_sizes import SIZES, digest_payload, expected, titles_in
from tests.fake_slack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    yield f
    f.stop()


@pytest.fixture
def container(tmp_path: Path, fake: FakeSlack) -> Iterator[Container]:
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path,
        SITELINE_DATABASE_URL=f"sqlite:///{tmp_path / 'n.db'}",
        SLACK_BOT_TOKEN="xoxb-n",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=fake.api_url,
    )
    c = build(settings)
    load_directory(c.factory)
    yield c
    c.engine.dispose()


def message(kind: str, channel: str, recipient: str, **payload: object) -> OutboundMessage:
    return OutboundMessage(delivery_id=7, channel=channel, recipient=recipient, kind=kind, payload=payload)


def test_an_open_question_is_a_dm_to_the_cra_with_an_answer_button(container, fake) -> None:
    result = build_notifier(container).send(
        message(
            "open_question",
            "person",
            "carla",
            question_id=3,
            site="S01",
            site_name="Berlin Heart Centre",
            study="ORION",
            asked_by="anna",
            asked_by_name="Anna Site",
            question="Can visit 4 move?",
            bot_answer="Not found in the study documents.",
            abstained=True,
            citations=[],
        )
    )
    assert result.ok and result.external_ref == "DU_CARLA:1700000000.000001"
    assert fake.of("conversations.open")[0].args["users"] == "U_CARLA"
    [post] = fake.of("chat.postMessage")
    assert post.args["channel"] == "DU_CARLA" and "Anna Site" in post.text_of_blocks
    assert "couldn't find this" in post.text_of_blocks
    assert post.args["blocks"][-1]["elements"][0]["action_id"] == "answer_question"


def test_a_cra_answer_goes_into_its_thread_and_a_digest_to_the_site_channel(container, fake) -> None:
    notifier = build_notifier(container)
    conv = {"platform": "slack", "conversation_id": "C_S01", "thread_ref": "1700.5"}
    assert notifier.send(
        message(
            "cra_answer",
            "site",
            "S01",
            answer="Yes, +/- 2 days.",
            cra_name="Carla CRA",
            question="Can visit 4 move?",
            conversation=conv,
        )
    ).ok
    items = [
        {"id": "m1", "priority": "action", "reason": "asks for a reply", "subject": "Re-consent v3", "merged": ["m4"]},
        {"id": "m2", "priority": "fyi", "reason": "newsletter", "subject": "Newsletter"},
    ]
    assert notifier.send(message("digest", "site", "S01", items=items)).ok
    answer, digest = fake.of("chat.postMessage")
    assert (answer.args["channel"], answer.args["thread_ts"]) == ("C_S01", "1700.5")
    assert "Yes, +/- 2 days." in answer.text_of_blocks
    assert digest.args["channel"] == "C_S01" and "thread_ts" not in digest.args
    assert "Re-consent v3" in digest.text_of_blocks and "asks for a reply" in digest.text_of_blocks
    assert "m4" in digest.text_of_blocks


def test_record_only_kinds_are_not_posted(container, fake) -> None:
    assert build_notifier(container).send(message("suppressed", "site", "S01", items=[{"id": "m3"}])).ok
    assert fake.calls == []


def test_rate_limits_and_errors_say_whether_to_retry(container, fake) -> None:
    notifier = build_notifier(container)
    esc = message("escalation", "person", "carla", escalation={"id": "e1", "level": 1, "category": "safety"})
    fake.fail_once("chat.postMessage", status=429, error="ratelimited", retry_after=7)
    limited = notifier.send(esc)
    assert not limited.ok and limited.recoverable and limited.retry_after == 7.0
    fake.fail_once("chat.postMessage", error="channel_not_found")
    gone = notifier.send(message("digest", "site", "S01", items=[]))
    assert not gone.ok and not gone.recoverable and "channel_not_found" in gone.error
    fake.fail_once("chat.postMessage", status=503, error="service_unavailable")
    assert notifier.send(esc).recoverable
    assert notifier.send(esc).ok


@pytest.mark.parametrize("code", ["invalid_auth", "not_authed", "token_revoked"])
def test_a_wrong_bot_token_holds_the_delivery_instead_of_failing_it(container, fake, code: str) -> None:
    """Issue 10 item 11: a mistyped token must not drop an escalation DM for good."""
    fake.fail_once("chat.postMessage", error=code)
    held = build_notifier(container).send(message("digest", "site", "S01", items=[]))
    assert (held.ok, held.blocked, held.recoverable) == (False, True, True)
    assert code in held.error and "SLACK_BOT_TOKEN" in held.error


@pytest.mark.parametrize("n", SIZES)
def test_a_big_digest_is_split_within_slacks_limits_and_every_item_appears_exactly_once(container, fake, n) -> None:
    """Issue 10 item 12: 16+ items broke Slack's limits (msg_blocks_too_long) and the digest failed."""
    result = build_notifier(container).send(message("digest", "site", "S01", **digest_payload(n)))
    assert result.ok, result.error
    posts = [c for c in fake.of("chat.postMessage") if not c.refused]
    assert fake.rejected == []
    assert sorted(titles_in([c.text_of_blocks for c in posts])) == expected(n)
    if len(posts) > 1:
        assert [c.args["blocks"][0]["text"]["text"].split(" for ")[0] for c in posts] == [
            f":newspaper: Digest ({k}/{len(posts)})" for k in range(1, len(posts) + 1)
        ]


def test_a_split_digest_interrupted_midway_resumes_after_the_parts_already_out(container, fake) -> None:
    """Part 2 of 3 gets a 503: the retry sends parts 2 and 3 only, so part 1 is never shown twice."""
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with transaction(container.factory) as s:
        enqueue(s, dedupe_key="big", now=t0, due_at=t0, channel="site", recipient="S01", kind="digest",
                payload=digest_payload(40))  # fmt: skip
    notifier = build_notifier(container)
    client = notifier.senders["slack"].client  # type: ignore[attr-defined]
    real_post, count = client.chat_postMessage, [0]

    def second_post_fails(**kwargs):
        count[0] += 1
        if count[0] == 2:
            fake.fail_once("chat.postMessage", status=503, error="service_unavailable")
        return real_post(**kwargs)

    client.chat_postMessage = second_post_fails
    ticker = Ticker(container.factory, timer_handlers={}, notifier=notifier, worker_id="w")
    ticker.run(t0)
    with transaction(container.factory) as s:
        row = s.execute(select(DeliveryRow)).scalar_one()
        assert (row.status, row.payload.get("parts_sent")) == ("pending", 1)
        retry_at = row.due_at
    ticker.run(retry_at)
    with transaction(container.factory) as s:
        assert s.execute(select(DeliveryRow.status)).scalar_one() == "sent"
    posts = fake.of("chat.postMessage")
    shown = [c for n, c in enumerate(posts) if n != 1]  # the 2nd post was refused with the 503
    assert len(posts) >= 3 and sorted(titles_in([c.text_of_blocks for c in shown])) == expected(40)


def test_no_chat_address_fails_with_a_reason(container, fake) -> None:
    with transaction(container.factory) as s:
        upsert(s, *parse_entries([("p", {"type": "person", "person_id": "nochat", "role": "cra"})]))
    result = build_notifier(container).send(message("escalation", "person", "nochat", escalation={"id": "e2"}))
    assert not result.ok and not result.recoverable and "nochat has no chat address on slack" in result.error


def test_slack_unreachable_is_recoverable(container, fake) -> None:
    notifier = build_notifier(container)
    fake.stop()
    result = notifier.send(message("digest", "site", "S01", items=[]))
    assert not result.ok and result.recoverable
