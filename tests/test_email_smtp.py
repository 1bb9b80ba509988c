"""The e-mail sender against a real SMTP server (aiosmtpd): login, STARTTLS with a checked certificate,
and each kind of refusal mapped to what the outbox does with it (retry, fail for good, hold until the
settings are fixed); the settings check; the rendering of each kind, escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from assistant.outbound import Address
from bot.email.render import render
from bot.email.sender import EmailSender, SmtpConfig
from core.notify import OutboundMessage, SendResult
from core.settings import Settings
from tests.smtp_server import LocalSmtp, free_port, self_signed

# aiosmtpd warns when a server takes a login without TLS: the plain-login tests do that on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
UPDATE = OutboundMessage(
    delivery_id=7,
    channel="person",
    recipient="cra1",
    kind="escalation_update",
    payload={
        "escalation": {"id": "esc-9", "status": "resolved"},
        "text": "Escalation esc-9 (S03, ALPHA) was resolved by Claire CRA (cra1). Nothing more to do.",
        "site": "S03",
        "study": "ALPHA",
    },
)
TO = Address("email", user_id="claire@example.org")


def sender(port: int, **config: Any) -> EmailSender:
    smtp = SmtpConfig(**{"host": "127.0.0.1", "port": port, "sender": "siteline@example.org", "starttls": False,
                         **config})  # fmt: skip
    return EmailSender(smtp, factory=None, now=lambda: NOW, public_url="https://x.example")  # type: ignore[arg-type]


def test_delivered_with_a_login_and_the_message_says_what_the_update_says() -> None:
    with LocalSmtp(login=("siteline", "pa55")) as smtp:
        result = sender(smtp.port, username="siteline", password="pa55").send_to(TO, UPDATE)
        assert result.ok and (result.external_ref or "").startswith("email:<")
        (mail,) = smtp.wait(1)
    assert smtp.logins == ["siteline"] and mail.rcpt_tos == ["claire@example.org"]
    assert mail.message["Subject"] == "Escalation esc-9: resolved"
    assert "was resolved by Claire CRA (cra1). Nothing more to do." in mail.part("plain")
    assert "<h2>Escalation esc-9: resolved</h2>" in mail.part("html")
    assert mail.message["Message-ID"].endswith("@example.org>") and mail.message["Date"]


def test_a_wrong_password_holds_the_row_naming_the_settings_never_the_password() -> None:
    with LocalSmtp(login=("siteline", "pa55")) as smtp:
        result = sender(smtp.port, username="siteline", password="wrong-one").send_to(TO, UPDATE)
        assert smtp.received == []
    assert result.blocked and not result.ok
    assert "SITELINE_SMTP_PASSWORD" in result.error and "wrong-one" not in result.error


def test_a_server_that_requires_a_login_we_do_not_have_holds_the_row() -> None:
    with LocalSmtp(login=("siteline", "pa55")) as smtp:
        result = sender(smtp.port).send_to(TO, UPDATE)
    assert result.blocked and "requires a login (530)" in result.error


def test_starttls_required_but_not_offered_holds_the_row() -> None:
    with LocalSmtp() as smtp:
        result = sender(smtp.port, starttls=True).send_to(TO, UPDATE)
        assert smtp.received == []
    assert result.blocked and "does not offer STARTTLS" in result.error


def test_starttls_checks_the_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    with LocalSmtp(tls=(cert, key), login=("siteline", "pa55")) as smtp:
        untrusted = sender(smtp.port, starttls=True, username="siteline", password="pa55").send_to(TO, UPDATE)
        assert untrusted.blocked and "check its certificate" in untrusted.error and smtp.received == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the deployment trusts this server's certificate
        trusted = sender(smtp.port, starttls=True, username="siteline", password="pa55").send_to(TO, UPDATE)
        assert trusted.ok, trusted.error
        (mail,) = smtp.wait(1)  # the server requires STARTTLS before MAIL: delivered means encrypted
    assert smtp.logins == ["siteline"] and "resolved by Claire CRA" in mail.part("plain")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("550 5.1.1 no such mailbox", SendResult.failed("the SMTP server refused the recipient(s) (550)")),
        ("451 4.3.0 try again later", SendResult.retry("the SMTP server deferred the recipient(s) (451)")),
    ],
)
def test_a_refused_recipient_fails_for_good_or_is_retried_by_its_code(reply: str, expected: SendResult) -> None:
    with LocalSmtp() as smtp:
        smtp.handler.refuse["claire@example.org"] = reply
        assert sender(smtp.port).send_to(TO, UPDATE) == expected
        assert smtp.received == []


def test_one_refused_colleague_does_not_stop_the_others() -> None:
    staff = Address("email", conversation_id="a@s04.example.org, gone@s04.example.org")
    with LocalSmtp() as smtp:
        smtp.handler.refuse["gone@s04.example.org"] = "550 5.1.1 no such mailbox"
        assert sender(smtp.port).send_to(staff, UPDATE).ok
        (mail,) = smtp.wait(1)
    assert mail.rcpt_tos == ["a@s04.example.org"]


def test_an_unreachable_server_is_retried() -> None:
    result = sender(free_port()).send_to(TO, UPDATE)  # nothing listens there
    assert result.recoverable and not result.blocked and "unreachable (ConnectionRefusedError)" in result.error


def test_settings_refuse_half_an_smtp_configuration_by_name() -> None:
    with pytest.raises(ValidationError, match="SITELINE_SMTP_FROM must be set"):
        Settings(_env_file=None, SITELINE_SMTP_HOST="smtp.example.org")
    with pytest.raises(ValidationError, match="SITELINE_SMTP_USERNAME and SITELINE_SMTP_PASSWORD go together"):
        Settings(_env_file=None, SITELINE_SMTP_HOST="h", SITELINE_SMTP_FROM="a@b.c", SITELINE_SMTP_USERNAME="u")
    s = Settings(_env_file=None, SITELINE_SMTP_HOST="h", SITELINE_SMTP_FROM="a@b.c", SITELINE_SMTP_USERNAME="u",
                 SITELINE_SMTP_PASSWORD="hunter2")  # fmt: skip
    assert s.email_enabled and (s.smtp_port, s.smtp_starttls) == (587, True)
    assert "hunter2" not in repr(s) and "hunter2" not in repr(SmtpConfig.from_settings(s))
    assert not Settings(_env_file=None).email_enabled


def test_payload_text_is_escaped_in_html_and_never_becomes_a_link() -> None:
    hostile = '<script>alert(1)</script> <a href="https://evil.example">click</a>'
    payload = {
        "escalation": {"id": "e<1>", "level": 1, "category": "other", "severity": "low"},
        "summary": hostile,
        "site": "S01",
        "site_name": "Nord & Sud",
        "reader_tz": "Europe/Paris",
        "chain_position": {"level": 1, "of": 2},
        "role": "cra",
        "ack_within_text": "4 h",
        "ack_by": "2026-03-09T13:00:00Z",
        "hands_on_to": "study_manager",
    }
    msg = render("escalation", payload, ack_url="https://x.example/ack/tok")
    html = msg.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="https://evil.example"' not in html and "href='https://x.example/ack/tok'" in html
    assert "Nord &amp; Sud" in html and "Escalation e&lt;1&gt;" in html
    assert hostile in text  # plain text is shown as text by every mail client
    assert msg["Subject"] == "Escalation e<1> from Nord & Sud (S01): please acknowledge"
    assert "Please acknowledge by Mon 9 Mar 14:00 (Europe/Paris) (within 4 h), or it goes to the study manager." in text


def test_any_other_kind_is_its_own_text_and_the_last_level_is_told_so() -> None:
    answer = render("handoff", {"text": "Visit 3 may be done within ±3 days.\n\nSee protocol §6.2."})
    assert answer["Subject"] == "Siteline: Visit 3 may be done within ±3 days."
    body = answer.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Visit 3 may be done within ±3 days.\n\nSee protocol §6.2." in body
    last = render("escalation", {"escalation": {"id": "e1"}, "chain_position": {"level": 3, "of": 3}})
    assert "You are the last level of this escalation" in last.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_a_question_handed_to_a_cra_and_the_answer_back_say_what_chat_says() -> None:
    question = render(
        "open_question",
        {
            "question": "Can visit 3 be moved by 4 days?",
            "asked_by_name": "Sam Site",
            "site": "S01",
            "site_name": "Hôpital Nord",
            "study": "ALPHA",
            "bot_answer": "Visit 3 has a window of ±3 days.",
            "abstained": False,
            "citations": [{"title": "ALPHA Protocol", "version": "2.0", "section": "6.2 Visit Windows", "page": 12}],
        },
    )
    assert question["Subject"] == "Question from Sam Site (Hôpital Nord (S01))"
    text = question.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "> Can visit 3 be moved by 4 days?" in text and "> Visit 3 has a window of ±3 days." in text
    assert "- ALPHA Protocol v2.0, 6.2 Visit Windows, p. 12" in text and "Replies to this e-mail are not read" in text
    answer = render("cra_answer", {"question": "Q?", "answer": "Yes, within\nthe window.", "cra_name": "Claire CRA"})
    assert answer["Subject"] == "Answer from your CRA, Claire CRA"
    body = answer.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Claire CRA answered:\n\n> Yes, within\n> the window." in body


def test_a_malformed_directory_address_is_never_written_into_a_header() -> None:
    with LocalSmtp() as smtp:
        bent = Address("email", user_id="claire@example.org\r\nBcc: spy@evil.example")
        result = sender(smtp.port).send_to(bent, UPDATE)
        assert not result.ok and not result.recoverable and "no valid e-mail address" in result.error
        mixed = Address("email", conversation_id="not an address,ok@s04.example.org")
        assert sender(smtp.port).send_to(mixed, UPDATE).ok
        (mail,) = smtp.wait(1)
    assert mail.rcpt_tos == ["ok@s04.example.org"] and mail.message["To"] == "ok@s04.example.org"
