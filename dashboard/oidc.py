"""The organisation's OpenID Connect provider, as the dashboard sign-in talks to it.

Discovery, the authorization URL (code flow with PKCE S256, `state`, `nonce`), the code exchange
and the ID token's validation: signature against the provider's JWKS (asymmetric algorithms only;
the key set is fetched again once when a token names an unknown key), `iss`, `aud` (and `azp`),
`exp`/`iat`/`nbf` against the `now` passed in with a minute's leeway, and the `nonce`. PyJWT does
the signature and claim checks; the time checks are ours because PyJWT reads the wall clock.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jwt

from core.settings import Settings

# Asymmetric only: a symmetric algorithm would let the client secret, or a public key read as one, sign.
ACCEPTED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY = timedelta(seconds=60)
TIMEOUT_S = 10.0


class OidcRefused(Exception):
    """The sign-in cannot be accepted; the message is safe to show and names what failed."""

    def __init__(self, message: str, status: int = 400, *, person_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.person_id = person_id  # the directory person refused, when there is one


class ProviderUnavailable(Exception):
    """The provider did not answer, or answered something that is not OIDC; the message says which."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    claim: str
    redirect_uri: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        if not settings.oidc_enabled:
            return None
        assert settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            scopes=settings.oidc_scopes,
            claim=settings.oidc_claim,
            redirect_uri=f"{settings.public_url.rstrip('/')}/dashboard/oidc/callback",
        )


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=TIMEOUT_S, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"the sign-in provider did not answer ({what}: {type(exc).__name__})") from None
    if response.status_code != 200:
        raise ProviderUnavailable(f"the sign-in provider answered HTTP {response.status_code} ({what})")
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderUnavailable(f"the sign-in provider's {what} is not a JSON object")
    return data


class Provider:
    """One configured provider: its discovery document and key set, fetched when first needed and kept."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: list[dict[str, Any]] | None = None

    # -- discovery -----------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        # Fetched outside the lock: while the provider is down, requests do not queue behind each other's timeouts.
        with self._lock:
            if self._metadata is not None:
                return self._metadata
        found = self._discover()
        with self._lock:
            self._metadata = self._metadata or found
            return self._metadata

    def _discover(self) -> dict[str, Any]:
        configured = self.config.issuer.rstrip("/")
        doc = _get_json(f"{configured}/.well-known/openid-configuration", "discovery document")
        issuer = doc.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != configured:
            raise ProviderUnavailable(
                f"the discovery document names issuer {issuer!r}, not SITELINE_OIDC_ISSUER {self.config.issuer!r}"
            )
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = doc.get(field)
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise ProviderUnavailable(f"the discovery document has no usable {field}")
            if issuer.startswith("https://") and not value.startswith("https://"):
                raise ProviderUnavailable(f"the discovery document's {field} is not https")
        if "code" not in doc.get("response_types_supported", ["code"]):
            raise ProviderUnavailable("the provider does not offer the authorization-code flow")
        if not self._algorithms(doc):
            raise ProviderUnavailable(f"the provider signs ID tokens with none of {', '.join(ACCEPTED_ALGORITHMS)}")
        return doc

    @staticmethod
    def _algorithms(doc: dict[str, Any]) -> list[str]:
        offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        return [a for a in ACCEPTED_ALGORITHMS if a in offered]

    def authorization_url(self, *, state: str, nonce: str, code_challenge: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": self.config.redirect_uri,
                "scope": self.config.scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        endpoint = self.metadata()["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    # -- the code exchange ---------------------------------------------------------------------

    def exchange(self, *, code: str, code_verifier: str) -> str:
        """The ID token for an authorization code (sent with the PKCE verifier and the client's secret)."""
        meta = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "code_verifier": code_verifier,
        }
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth: tuple[str, str] | None = None
        if "client_secret_basic" in methods:  # RFC 6749 §2.3.1: form-encode both before Basic
            auth = (quote(self.config.client_id, safe=""), quote(self.config.client_secret, safe=""))
        elif "client_secret_post" in methods:
            form |= {"client_id": self.config.client_id, "client_secret": self.config.client_secret}
        else:
            raise ProviderUnavailable("the provider accepts neither client_secret_basic nor client_secret_post")
        try:
            response = httpx.post(
                meta["token_endpoint"], data=form, auth=auth, timeout=TIMEOUT_S, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"the sign-in provider did not answer (token: {type(exc).__name__})") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            if response.status_code in (400, 401) and isinstance(error, str):
                raise OidcRefused(f"the provider refused the sign-in code ({error[:60]}); start again")
            raise ProviderUnavailable(f"the sign-in provider answered HTTP {response.status_code} (token)")
        token = body.get("id_token")
        if not isinstance(token, str):
            raise OidcRefused("the provider sent no ID token (is the 'openid' scope allowed for this client?)")
        return token

    # -- the ID token --------------------------------------------------------------------------

    def verify(self, token: str, *, nonce: str, now: datetime) -> dict[str, Any]:
        """The ID token's claims once every check passes; OidcRefused naming the first that fails."""
        meta = self.metadata()
        algorithms = self._algorithms(meta)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise OidcRefused("the ID token is not a signed JWT") from None
        alg = header.get("alg")
        if alg not in algorithms:
            raise OidcRefused(f"the ID token is signed with {alg!r}; accepted: {', '.join(algorithms)}")
        key = self._key(header.get("kid"), alg)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.config.client_id,
                issuer=meta["issuer"],
                options={
                    "verify_exp": False,  # checked below against the `now` passed in
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iss", "sub", "aud", "exp", "iat"],
                },
            )
        except jwt.InvalidSignatureError:
            raise OidcRefused("the ID token's signature does not verify with the provider's key") from None
        except jwt.InvalidAudienceError:
            raise OidcRefused("the ID token was issued for another application (audience)") from None
        except jwt.InvalidIssuerError:
            raise OidcRefused("the ID token was issued by another provider (issuer)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise OidcRefused(f"the ID token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise OidcRefused(f"the ID token is not valid ({type(exc).__name__})") from None
        self._check_times(claims, now)
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.config.client_id:
            raise OidcRefused("the ID token names several audiences but not this application as its azp")
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
            raise OidcRefused("the ID token's nonce does not match this sign-in; start again")
        return claims

    @staticmethod
    def _check_times(claims: dict[str, Any], now: datetime) -> None:
        t, slack = now.timestamp(), LEEWAY.total_seconds()
        for name in ("exp", "iat", "nbf"):
            if name in claims and (isinstance(claims[name], bool) or not isinstance(claims[name], int | float)):
                raise OidcRefused(f"the ID token's {name!r} is not a time")
        if t >= claims["exp"] + slack:
            raise OidcRefused("the ID token has expired; start again")
        if claims["iat"] > t + slack or claims.get("nbf", 0) > t + slack:
            raise OidcRefused("the ID token is not valid yet (check this server's clock)")

    def _key(self, kid: object, alg: str) -> jwt.PyJWK:
        """The signing key the token names; an unknown `kid` fetches the key set again, once."""
        found = self._find(kid, refresh=False)
        if found is None:
            found = self._find(kid, refresh=True)
        if found is None:
            raise OidcRefused(f"the ID token is signed with a key the provider does not publish (kid {kid!r})")
        if found.get("alg") not in (None, alg):
            raise OidcRefused(f"the provider's key {kid!r} is for {found['alg']!r}, the token says {alg!r}")
        try:
            return jwt.PyJWK(found, algorithm=alg)
        except jwt.PyJWTError:
            raise OidcRefused(f"the provider's key {kid!r} cannot verify {alg!r}") from None

    def _find(self, kid: object, *, refresh: bool) -> dict[str, Any] | None:
        with self._lock:
            cached = self._keys
        if cached is None or refresh:
            cached = self._fetch_keys()
            with self._lock:
                self._keys = cached
        keys = [k for k in cached if k.get("use", "sig") == "sig"]
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((k for k in keys if k.get("kid") == kid), None)

    def _fetch_keys(self) -> list[dict[str, Any]]:
        data = _get_json(self.metadata()["jwks_uri"], "key set")
        keys = data.get("keys")
        if not isinstance(keys, list):
            raise ProviderUnavailable("the provider's key set has no 'keys' list")
        return [k for k in keys if isinstance(k, dict)]
