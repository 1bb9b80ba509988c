"""E-mail delivery of outbox messages over SMTP (the standard library's `smtplib`), saying whether a
failure is worth retrying.

The router (`assistant/outbound.py`) picks e-mail only as the last resort: for a person with no
chat address or whose chat delivery failed for good, and for an urgent update to a site with no
chat address (sent to its staff). An escalation notice carries the ladder so far and a one-time
acknowledge link issued for this reader (`links.py`). Failures map to the outbox's outcomes:
unreachable server, timeouts and 4xx replies are retried; a 5xx refusal of the recipient fails
for good; a refused login or a server without STARTTLS holds the row (`blocked`) until the
settings are fixed. Logs name the delivery id and the outcome, never an address or message text.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from assistant.outbound import Address
from bot.email import links
from bot.email.render import render
from core.db import transaction
from core.notify import RECORD_ONLY_KINDS, OutboundMessage, SendResult

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from core.settings import Settings
    from siteline.container import Container

log = logging.getLogger("siteline.bot.email")

TIMEOUT_S = 15.0
# Replies that mean the account, not the message, is wrong (530 authentication required, 535 bad
# credentials, 534 mechanism too weak): no mail can go until the settings are fixed.
AUTH_CODES = frozenset({530, 534, 535, 538})


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        assert settings.smtp_host and settings.smtp_from  # email_enabled, and the settings check
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from.strip(),
            username=settings.smtp_username or None,
            password=password,
            starttls=settings.smtp_starttls,
        )

    def __repr__(self) -> str:  # never print the password
        return f"SmtpConfig(host={self.host!r}, port={self.port}, starttls={self.starttls})"


# A plain addr-spec, nothing a header could be bent with (the directory's `email` is free text).
ADDRESS = re.compile(r"^[^@\s,;<>\"()\[\]]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def recipients_of(address: Address) -> list[str]:
    """A person's address (`user_id`), or a site's staff list (`conversation_id`, comma-separated);
    anything that is not a plain address is left out."""
    raw = address.user_id or address.conversation_id or ""
    return [a.strip() for a in raw.split(",") if ADDRESS.match(a.strip())]


class EmailSender:
    platform = "email"

    def __init__(
        self,
        config: SmtpConfig,
        factory: sessionmaker[Session],
        now: Callable[[], datetime],
        public_url: str,
        connect: Callable[..., smtplib.SMTP] = smtplib.SMTP,
    ) -> None:
        self.config = config
        self.factory = factory
        self.now = now
        self.public_url = public_url
        self.connect = connect

    def send_to(self, address: Address, message: OutboundMessage) -> SendResult:
        if message.kind in RECORD_ONLY_KINDS:
            return SendResult.sent()
        to = recipients_of(address)
        if not to:
            return SendResult.failed(f"{message.channel} {message.recipient} has no valid e-mail address")
        payload: dict[str, Any] = dict(message.payload)
        ack_url = None
        if message.kind == "escalation" and message.channel == "person":
            ack_url = self._prepare_notice(message, payload)
        msg = render(message.kind, payload, ack_url=ack_url)
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(to)
        msg["Date"] = formatdate(self.now().timestamp(), usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2].strip(">") or None)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a bot
        return self.deliver(msg, to, message.delivery_id)

    def _prepare_notice(self, message: OutboundMessage, payload: dict[str, Any]) -> str | None:
        """Issue this reader's acknowledge link; returns the link."""
        esc = payload.get("escalation") or {}
        esc_id = str(esc.get("id") or "")
        if not esc_id:
            return None
        now = self.now()
        with transaction(self.factory) as session:
            payload["reader_id"] = message.recipient
            token = links.issue(
                session,
                escalation_id=esc_id,
                person_id=message.recipient,
                level=int(esc.get("level") or 0),
                now=now,
                expires_at=links.expiry(now, payload.get("ack_by")),
                delivery_id=message.delivery_id,
            )
        return links.url(self.public_url, token)

    def deliver(self, msg: EmailMessage, to: list[str], delivery_id: int) -> SendResult:
        """One SMTP session: connect, STARTTLS, log in, send; the outcome as the outbox understands it."""
        c = self.config
        try:
            with self.connect(c.host, c.port, timeout=TIMEOUT_S) as smtp:
                smtp.ehlo()
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if c.username and c.password:
                    smtp.login(c.username, c.password)
                refused = smtp.send_message(msg, from_addr=_bare(c.sender), to_addrs=to)
        except Exception as exc:  # every SMTP and socket error becomes an outcome, none escapes
            result = classify(exc)
            log.warning("email delivery %s not sent: %s", delivery_id, result.error)
            return result
        if refused:
            log.warning("email delivery %s: %d of %d recipients refused", delivery_id, len(refused), len(to))
        ref = f"email:{msg['Message-ID']}"[:200]
        log.info("email delivery %s sent to %d recipient(s)", delivery_id, len(to) - len(refused))
        return SendResult.sent(external_ref=ref)


def _bare(sender: str) -> str:
    """`Siteline <bot@example.org>` → `bot@example.org` (the envelope sender)."""
    return sender.rpartition("<")[2].rstrip(">").strip() if "<" in sender else sender.strip()


def classify(exc: Exception) -> SendResult:
    """An SMTP or socket error as retry / failed for good / held until the settings are fixed."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return SendResult.misconfigured(
            f"the SMTP server refused the login ({exc.smtp_code}): "
            "check SITELINE_SMTP_USERNAME and SITELINE_SMTP_PASSWORD"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendResult.misconfigured(
            "the SMTP server does not offer STARTTLS (or login); set SITELINE_SMTP_STARTTLS=false only for a "
            "trusted local relay"
        )
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        name = type(exc).__name__
        return SendResult.misconfigured(f"TLS with the SMTP server failed ({name}): check its certificate")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if any(400 <= code < 500 for code in codes):
            return SendResult.retry(f"the SMTP server deferred the recipient(s) ({', '.join(map(str, codes))})")
        return SendResult.failed(f"the SMTP server refused the recipient(s) ({', '.join(map(str, codes))})")
    if isinstance(exc, smtplib.SMTPResponseException):
        code = int(exc.smtp_code)
        if code in AUTH_CODES:
            return SendResult.misconfigured(
                f"the SMTP server requires a login ({code}): set SITELINE_SMTP_USERNAME and SITELINE_SMTP_PASSWORD"
            )
        if isinstance(exc, smtplib.SMTPSenderRefused) and code >= 500:
            return SendResult.misconfigured(f"the SMTP server refused the sender ({code}): check SITELINE_SMTP_FROM")
        if 400 <= code < 500 or isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
            return SendResult.retry(f"the SMTP server answered {code}, try again later")
        return SendResult.failed(f"the SMTP server refused the message ({code})")
    if isinstance(exc, smtplib.SMTPException | OSError):  # disconnected, refused, timed out, DNS
        return SendResult.retry(f"SMTP server unreachable ({type(exc).__name__})")
    return SendResult.retry(f"e-mail failed ({type(exc).__name__})")


def sender(container: Container) -> EmailSender | None:
    """The e-mail half of the Notifier, or None while `SITELINE_SMTP_HOST` is unset."""
    settings = container.settings
    if not settings.email_enabled:
        return None
    return EmailSender(SmtpConfig.from_settings(settings), container.factory, container.clock.now, settings.public_url)
