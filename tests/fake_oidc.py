"""A fake OpenID Connect provider: a real HTTP server in a thread, checking what it receives as a real one would.

Discovery, `/authorize` (refuses an unknown client or redirect URI, a missing state or nonce, anything but
PKCE S256; then redirects back with a code), `/token` (client_secret_basic, grant type, a code good once,
the same redirect URI, the PKCE verifier against the challenge) and `/jwks` (RSA keys generated when the
fake starts). Tests make it misbehave through `claims` (overrides for the next ID tokens), `sign_with`
(another private key) and `rotate()`; time is the `now` passed in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    user: dict[str, Any]
    used: bool = False


@dataclass
class FakeOidc:
    client_id: str
    client_secret: str
    redirect_uri: str
    now: Callable[[], datetime]
    user: dict[str, Any] = field(default_factory=dict)  # the person who "signs in" at the provider
    claims: dict[str, Any] = field(default_factory=dict)  # overrides for the next ID tokens (None: remove)
    sign_with: rsa.RSAPrivateKey | None = None  # sign with this key instead of the published one
    jwks_fetches: int = 0
    token_errors: list[str] = field(default_factory=list)  # every refusal of /token, for the tests to read
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"k1": _rsa()}
        self.kid = "k1"
        self.grants: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def rotate(self) -> None:
        """Sign with a new key from now on, published alongside the old one (as providers roll keys)."""
        self.kid = f"k{len(self.keys) + 1}"
        self.keys[self.kid] = _rsa()

    # -- what the endpoints answer -------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self) -> dict[str, Any]:
        self.jwks_fetches += 1
        keys = []
        for kid, key in self.keys.items():
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """(status, headers, body): a redirect back with a code, or a 400 page as providers show."""
        self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id:
            return 400, {}, "unknown client_id"
        if query.get("redirect_uri") != self.redirect_uri:
            return 400, {}, "redirect_uri is not registered for this client"
        back = query["redirect_uri"]
        problem = None
        if query.get("response_type") != "code":
            problem = "unsupported_response_type"
        elif "openid" not in query.get("scope", "").split():
            problem = "invalid_scope"
        elif not (query.get("state") and query.get("nonce")):
            problem = "invalid_request"
        elif query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) != 43:
            problem = "invalid_request"  # PKCE required, S256 only: 43 characters of base64url SHA-256
        if problem:
            return 302, {"Location": f"{back}?{urlencode({'error': problem, 'state': query.get('state', '')})}"}, ""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.grants[code] = Grant(self.client_id, back, query["code_challenge"], query["nonce"], dict(self.user))
        return 302, {"Location": f"{back}?{urlencode({'code': code, 'state': query['state']})}"}, ""

    def token(self, authorization: str | None, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        def refuse(status: int, error: str) -> tuple[int, dict[str, Any]]:
            self.token_errors.append(error)
            return status, {"error": error}

        scheme, _, encoded = (authorization or "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return refuse(401, "invalid_client")
        if scheme != "Basic" or unquote(client_id) != self.client_id or unquote(secret) != self.client_secret:
            return refuse(401, "invalid_client")
        if form.get("grant_type") != "authorization_code":
            return refuse(400, "unsupported_grant_type")
        with self._lock:
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used:
                return refuse(400, "invalid_grant")
            grant.used = True
        if form.get("redirect_uri") != grant.redirect_uri:
            return refuse(400, "invalid_grant")
        verifier = form.get("code_verifier", "")
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if not 43 <= len(verifier) <= 128 or computed != grant.challenge:
            return refuse(400, "invalid_grant")
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "id_token": self.id_token(grant),
        }

    def id_token(self, grant: Grant) -> str:
        t = int(self.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "iat": t,
            "exp": t + 300,
            "nonce": grant.nonce,
            **grant.user,
        }
        claims.update(self.claims)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.sign_with or self.keys[self.kid]
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})


def _handler(fake: FakeOidc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: str | dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            ctype = "application/json" if isinstance(body, dict) else "text/plain"
            for name, value in {"Content-Type": ctype, **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._send(200, fake.discovery())
            elif url.path == "/jwks":
                self._send(200, fake.jwks())
            elif url.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, headers, body = fake.authorize(query)
                self._send(status, body, headers)
            else:
                self._send(404, "not found")

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._send(404, "not found")
                return
            if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                self._send(400, {"error": "invalid_request"})
                return
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            status, body = fake.token(self.headers.get("Authorization"), form)
            self._send(status, body)

    return Handler
