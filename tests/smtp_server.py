"""A real SMTP server for the e-mail tests (aiosmtpd on a free local port), keeping what it receives.

It speaks SMTP as a mail server does: it can require a login (checking the user and password it
was given), offer STARTTLS with a certificate the test trusts or not, and refuse a recipient for
good (550) or for now (451), so the sender's handling of each is tested against the protocol,
not against a mock of our own code.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        """The text/`subtype` alternative's decoded content."""
        found = self.message.get_body(preferencelist=(subtype,))
        assert found is not None and found.get_content_type() == f"text/{subtype}", f"no text/{subtype} part"
        return str(found.get_content())  # type: ignore[attr-defined]


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply, e.g. "550 5.1.1 no such user"
    _cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._cond:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            self._cond.notify_all()
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), for STARTTLS; trusted only where a test says so."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class LocalSmtp:
    """`with LocalSmtp(...) as smtp:` a server on 127.0.0.1:`smtp.port`; `smtp.wait(n)` for messages."""

    def __init__(
        self, *, login: tuple[str, str] | None = None, tls: tuple[Path, Path] | None = None, **kwargs: Any
    ) -> None:
        self.handler = Handler()
        self.port = free_port()
        self.logins: list[str] = []
        options: dict[str, Any] = {}
        if login is not None:
            options.update(
                authenticator=self._authenticator(login), auth_required=True, auth_require_tls=tls is not None
            )
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            options.update(tls_context=context, require_starttls=True)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options, **kwargs)

    def _authenticator(self, login: tuple[str, str]) -> Any:
        def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
            ok = (
                isinstance(auth_data, LoginPassword)
                and (auth_data.login.decode(), auth_data.password.decode()) == login
            )
            if ok:
                self.logins.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False)

        return check

    def __enter__(self) -> LocalSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return list(self.handler.received)

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[Received]:
        with self.handler._cond:
            ok = self.handler._cond.wait_for(lambda: len(self.handler.received) >= count, timeout)
            assert ok, f"waited {timeout}s for {count} message(s); got {len(self.handler.received)}"
            return list(self.handler.received)
