"""Typed settings, built once at start-up and passed in (engines never read the environment)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    """Everything configurable, from env vars or a `.env` file. Secrets are `SecretStr` so they never print."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    home: Path = Field(default=Path(".siteline"), validation_alias="SITELINE_HOME")
    database_url: str | None = Field(default=None, validation_alias="SITELINE_DATABASE_URL")
    api_token: SecretStr | None = Field(default=None, validation_alias="SITELINE_API_TOKEN")
    log_level: str = Field(default="INFO", validation_alias="SITELINE_LOG_LEVEL")
    # Bearer token a scraper must send to `GET /metrics`; unset: open, for an internal network only.
    metrics_token: SecretStr | None = Field(default=None, validation_alias="SITELINE_METRICS_TOKEN")
    # Key that signs the audit chain's checkpoint; unset: a random key kept in `home/audit.key`.
    audit_key: SecretStr | None = Field(default=None, validation_alias="SITELINE_AUDIT_KEY")
    # `json`: one JSON object a line (with the request id), for log collectors; `text` for people.
    log_format: Literal["text", "json"] = Field(default="text", validation_alias="SITELINE_LOG_FORMAT")
    # Serve `/docs` and `/openapi.json` (off by default: they map the API for anyone who can reach it).
    api_docs: bool = Field(default=False, validation_alias="SITELINE_API_DOCS")
    # Every process migrates the schema at start (under a lock); off: refuse an old schema (`siteline db upgrade`).
    auto_migrate: bool = Field(default=True, validation_alias="SITELINE_AUTO_MIGRATE")

    # Knowledge: a Chroma server at scale, the embedded persistent client by default.
    chroma_host: str | None = Field(default=None, validation_alias="SITELINE_CHROMA_HOST")
    chroma_port: int = Field(default=8000, validation_alias="SITELINE_CHROMA_PORT")
    chroma_ssl: bool = Field(default=False, validation_alias="SITELINE_CHROMA_SSL")
    # TLS certificate check: `true`, `false` (never in production) or the path of a CA bundle file.
    chroma_ssl_verify: bool | Path = Field(default=True, validation_alias="SITELINE_CHROMA_SSL_VERIFY")
    chroma_token: SecretStr | None = Field(default=None, validation_alias="SITELINE_CHROMA_TOKEN")
    # Where the token goes: `Authorization` (as a bearer token) or `X-Chroma-Token`.
    chroma_token_header: Literal["Authorization", "X-Chroma-Token"] = Field(
        default="Authorization", validation_alias="SITELINE_CHROMA_TOKEN_HEADER"
    )
    # Asks one process computes at once (retrieval and answer are CPU-bound); the rest queue in arrival
    # order. 0: no limit. About one per core trims the tail of a serve that mostly answers questions, but
    # in a mixed load it hands the CPU from asks to updates and escalations (docs/scale.md).
    ask_concurrency: int = Field(default=0, ge=0, validation_alias="SITELINE_ASK_CONCURRENCY")
    max_file_mb: int = Field(default=100, validation_alias="SITELINE_MAX_FILE_MB")
    # What one document may unpack to (a DOCX's zip members) and the text it may yield: zip bombs stop here.
    max_unpacked_mb: int = Field(default=100, ge=1, validation_alias="SITELINE_MAX_UNPACKED_MB")
    max_text_chars: int = Field(default=10_000_000, ge=1000, validation_alias="SITELINE_MAX_TEXT_CHARS")

    # Optional LLM through any OpenAI-compatible server.
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="SITELINE_LLM_MODEL")
    llm_timeout_s: float = Field(default=60.0, validation_alias="SITELINE_LLM_TIMEOUT")

    # Slack: off unless both the bot token and the signing secret are set.
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")

    # Microsoft Teams (Microsoft 365 Agents SDK); anonymous local mode when no credentials.
    teams_app_id: str | None = Field(default=None, validation_alias="TEAMS_APP_ID")
    teams_app_password: SecretStr | None = Field(default=None, validation_alias="TEAMS_APP_PASSWORD")
    teams_tenant_id: str | None = Field(default=None, validation_alias="TEAMS_TENANT_ID")
    # Local testing only: accept unauthenticated activities when no Teams app credentials are set.
    teams_anonymous: bool = Field(default=False, validation_alias="SITELINE_TEAMS_ANONYMOUS")

    # Scheduling: the process that runs timers and delivery (one leader at scale).
    run_scheduler: bool = Field(default=True, validation_alias="SITELINE_RUN_SCHEDULER")
    tick_seconds: float = Field(default=15.0, validation_alias="SITELINE_TICK_SECONDS")
    # Log deliveries and mark them sent without any chat platform (a demo or staging run). Off by
    # default: without a platform, deliveries are held as `blocked` until one is configured.
    delivery_dry_run: bool = Field(default=False, validation_alias="SITELINE_DELIVERY_DRY_RUN")
    open_question_escalate_after_h: float = Field(default=24.0, validation_alias="SITELINE_ASK_CRA_ESCALATE_AFTER_H")
    # Escalation routing policy YAML used until a policy is stored (None: the built-in default).
    escalation_policy_path: Path | None = Field(default=None, validation_alias="SITELINE_ESCALATION_POLICY_PATH")
    # Let the LLM (when configured) refine inferred escalation category/severity; it may never lower safety.
    escalation_llm_refine: bool = Field(default=False, validation_alias="SITELINE_ESCALATION_LLM")
    # Triage rules YAML a sponsor may edit (None: the built-in triage/default_policy.yaml).
    triage_policy_path: Path | None = Field(default=None, validation_alias="SITELINE_TRIAGE_POLICY_PATH")

    # Dashboard: the address people reach `siteline serve` at (sign-in links point there) and how long a
    # dashboard session lasts before the person must follow a new link.
    public_url: str = Field(default="http://127.0.0.1:3000", validation_alias="SITELINE_PUBLIC_URL")
    dashboard_session_h: float = Field(default=8.0, gt=0, le=168, validation_alias="SITELINE_DASHBOARD_SESSION_H")
    # Optional dashboard sign-in with the organisation's OpenID Connect provider: on when the issuer, client id
    # and client secret are all set. The `oidc_claim` of the ID token is matched to a directory person's email.
    oidc_issuer: str | None = Field(default=None, validation_alias="SITELINE_OIDC_ISSUER")
    oidc_client_id: str | None = Field(default=None, validation_alias="SITELINE_OIDC_CLIENT_ID")
    oidc_client_secret: SecretStr | None = Field(default=None, validation_alias="SITELINE_OIDC_CLIENT_SECRET")
    oidc_scopes: str = Field(default="openid email profile", validation_alias="SITELINE_OIDC_SCOPES")
    oidc_claim: str = Field(default="email", min_length=1, validation_alias="SITELINE_OIDC_CLAIM")

    # E-mail (bot/email): the last resort for escalation notices and urgent updates to people with no
    # chat address or whose chat delivery failed for good; off while the host is unset.
    smtp_host: str | None = Field(default=None, validation_alias="SITELINE_SMTP_HOST")
    smtp_port: int = Field(default=587, ge=1, le=65535, validation_alias="SITELINE_SMTP_PORT")
    smtp_from: str | None = Field(default=None, validation_alias="SITELINE_SMTP_FROM")
    smtp_username: str | None = Field(default=None, validation_alias="SITELINE_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, validation_alias="SITELINE_SMTP_PASSWORD")
    # Upgrade the connection with STARTTLS (and check the certificate); `false` only for a trusted local relay.
    smtp_starttls: bool = Field(default=True, validation_alias="SITELINE_SMTP_STARTTLS")

    @model_validator(mode="after")
    def _smtp_complete(self) -> Settings:
        """A half-configured SMTP server is an error at start, naming what is missing, not a failed send later."""
        if self.smtp_host and not (self.smtp_from or "").strip():
            raise ValueError("SITELINE_SMTP_FROM must be set when SITELINE_SMTP_HOST is (the sender address)")
        if bool(self.smtp_username) != bool(self.smtp_password):
            raise ValueError("SITELINE_SMTP_USERNAME and SITELINE_SMTP_PASSWORD go together: set both or neither")
        return self

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; use one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("oidc_scopes")
    @classmethod
    def _openid_scope(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError(f"{value!r} must include the scope 'openid' (space-separated scopes)")
        return " ".join(value.split())

    @model_validator(mode="after")
    def _oidc_all_or_none(self) -> Settings:
        """Half an OIDC configuration is a mistake to name at start-up, not a sign-in button that fails."""
        parts = {
            "SITELINE_OIDC_ISSUER": self.oidc_issuer,
            "SITELINE_OIDC_CLIENT_ID": self.oidc_client_id,
            "SITELINE_OIDC_CLIENT_SECRET": self.oidc_client_secret,
        }
        missing = [name for name, value in parts.items() if not value]
        if missing and len(missing) < len(parts):
            raise ValueError(f"OIDC sign-in needs {', '.join(parts)} together; missing {', '.join(missing)}")
        if self.oidc_issuer and not self.oidc_issuer.startswith(("https://", "http://")):
            raise ValueError(
                f"SITELINE_OIDC_ISSUER {self.oidc_issuer!r} must start with https:// (http:// for a test provider)"
            )
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or a SQLite file under `home`."""
        if self.database_url:
            return self.database_url
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.home / 'siteline.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def teams_enabled(self) -> bool:
        """Teams is on with app credentials, or in the explicit anonymous local mode."""
        return bool(self.teams_app_id and self.teams_app_password and self.teams_tenant_id) or self.teams_anonymous

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_base_url or self.openai_api_key)
