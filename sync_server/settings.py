"""Server settings from the environment (``MUSO_SERVER_*``, and ``DATABASE_URL``).

Zero set-up by default: a SQLite file in the working directory and the
``development`` environment. Outside development the server refuses to start
with a secret left at its default, so a forgotten variable can never ship.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MUSO_SERVER_", extra="ignore", populate_by_name=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///muso-server.db",
        validation_alias=AliasChoices("DATABASE_URL", "MUSO_SERVER_DATABASE_URL", "database_url"),
    )
    # Signs coordinators' short-lived session tokens. Kiosks need no server
    # secret at all: they are authenticated by their Ed25519 keys.
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    admin_token_ttl_s: int = Field(default=3600, ge=60)

    # Kiosk request signatures: how far a kiosk's (corrected) clock may be from ours.
    signature_window_s: int = Field(default=300, ge=10)
    enrollment_ttl_hours: int = Field(default=72, ge=1)

    # Caps. A batch is bounded so that one request always finishes on 2G and a
    # failure never costs more than one batch; the decompressed cap stops
    # decompression bombs before they reach memory.
    max_batch_events: int = Field(default=500, ge=1)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    max_decompressed_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    pull_page: int = Field(default=500, ge=1)
    restore_page: int = Field(default=1000, ge=1)

    # Per-kiosk request rate (token bucket, per worker process: see ratelimit.py),
    # and per client address for the unauthenticated endpoints (enrollment, login).
    kiosk_rate_per_minute: float = Field(default=120.0, gt=0)
    kiosk_burst: int = Field(default=60, ge=1)
    anonymous_rate_per_minute: float = Field(default=30.0, gt=0)
    anonymous_burst: int = Field(default=10, ge=1)

    # The coordinators' console (sync_server/web): sessions, login throttling, what counts as silent.
    session_idle_s: int = Field(default=8 * 3600, ge=60)  # logged out after this long without a request
    session_max_s: int = Field(default=7 * 24 * 3600, ge=300)  # and after this long in any case
    # Secure cookies: "auto" when the request came over HTTPS (behind a proxy: run serve --proxy-headers).
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    login_max_failures: int = Field(default=5, ge=1)  # per user name, before it is locked for a while
    login_addr_max_failures: int = Field(default=30, ge=1)  # per client address
    login_lock_s: int = Field(default=60, ge=1)  # first lock; doubles with each further failure
    login_lock_max_s: int = Field(default=900, ge=1)
    silent_days: int = Field(default=14, ge=1)  # a kiosk without a push for longer is flagged

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development" and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise ValueError(
                f"MUSO_SERVER_SECRET_KEY is still the default: set it before running in {self.environment}"
            )
        if len(self.secret_key.get_secret_value()) < 8:
            raise ValueError("MUSO_SERVER_SECRET_KEY is too short (8 characters at least, 32 random ones advised)")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
