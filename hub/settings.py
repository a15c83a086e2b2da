"""Settings, read once from the environment into one typed object.

Flags of the CLI override the environment. Secrets are wrapped in :class:`portal.config.Secret`
so they never print. ``HUB_SECRET``, when unset, is generated once into ``var/hub_secret``
(mode 0600) and reused by every later start, so sessions' tokens survive restarts.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from portal.config import PortalConfig, Secret, SmtpConfig
from rtc.config import RelayPolicy, RtcConfig


class SettingsError(Exception):
    """An environment variable has a value the hub cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything the hub reads from its environment."""

    host: str = "127.0.0.1"
    """HUB_HOST: address the hub listens on."""
    port: int = 8080
    """HUB_PORT: port the hub listens on."""
    var_dir: Path = Path("var")
    """VAR_DIR: where local state lives (SQLite file, secret, documents, outbox, logs)."""
    database_url: str = ""
    """DATABASE_URL: sqlite:///path or postgresql://user@host/db (default: var/portal.sqlite3)."""
    redis_url: str | None = None
    """REDIS_URL: unset runs a single node in-process; set for several hub nodes."""
    documents_dir: Path = Path("var/documents")
    """DOCUMENTS_DIR: where uploaded documents are stored (outside any served folder)."""
    secret: Secret = field(default_factory=lambda: Secret(""))
    """HUB_SECRET: key for signing tokens (generated into var/hub_secret when unset)."""
    rasa_url: str = "http://127.0.0.1:5005"
    """RASA_URL: the Rasa server (loopback only)."""
    actions_url: str = "http://127.0.0.1:5055"
    """ACTIONS_URL: the Rasa action server."""
    rasa_token: Secret = field(default_factory=lambda: Secret(""))
    """RASA_TOKEN: token of Rasa's HTTP API (generated into var/rasa_token when unset)."""
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    """ICE_SERVERS: JSON list of RTCIceServer objects handed to browsers."""
    public_url: str = ""
    """PUBLIC_URL: how patients reach the portal (links in e-mails); default from host/port."""
    smtp: SmtpConfig | None = None
    """SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, SMTP_FROM: outgoing mail."""
    demo_password: Secret | None = None
    """DEMO_PASSWORD: the demo logins' password (random and printed when unset)."""
    trust_proxy: bool = False
    """HUB_TRUST_PROXY=1: take scheme and client address from X-Forwarded-* headers."""
    header_timeout: float = 15.0
    """HUB_HEADER_TIMEOUT: seconds a client has to send a request's line and headers, counted from
    the connection's start or from the end of the previous response (so also how long an idle
    keep-alive connection stays open); then the connection is closed."""
    body_timeout: float = 30.0
    """HUB_BODY_TIMEOUT: seconds the hub waits for each next piece of a request body; then it
    answers 408 and closes the connection."""
    body_min_rate: int = 8192
    """HUB_BODY_MIN_RATE: bytes per second a request body must average, so that a body dripping
    a byte now and then cannot hold a connection: the whole body must arrive within
    HUB_BODY_TIMEOUT plus its length (or, unannounced, the largest body taken) at this rate."""
    relay_timeout: float = 5.0
    """RELAY_TIMEOUT: seconds a direct call may take to connect before it goes through the hub."""
    relay_policy: RelayPolicy = "auto"
    """RELAY_POLICY: ``auto`` (direct first, relay on timeout or failure) or ``relay`` (always)."""
    max_relayed_rooms: int = 4
    """RTC_MAX_RELAYS: consultations one hub node relays at once."""
    max_echo_peers: int = 8
    """RTC_MAX_ECHO: device checks one hub node runs at once."""
    log_level: str = "INFO"
    """LOG_LEVEL: Python logging level."""
    allowed_origins: tuple[str, ...] = ()
    """ALLOWED_ORIGINS: comma-separated origins whose pages may open the chat (Socket.IO CORS
    and WebSocket Origin check); empty means PUBLIC_URL, http://127.0.0.1:<port> and
    http://localhost:<port> (see :meth:`chat_origins`)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        var_dir = Path(env.get("VAR_DIR", "var"))
        host = env.get("HUB_HOST", "127.0.0.1")
        port = _int(env, "HUB_PORT", 8080)
        smtp = None
        if env.get("SMTP_HOST"):
            password = env.get("SMTP_PASSWORD")
            smtp = SmtpConfig(
                host=env["SMTP_HOST"],
                port=_int(env, "SMTP_PORT", 587),
                username=env.get("SMTP_USERNAME") or None,
                password=Secret(password) if password else None,
                sender=env.get("SMTP_FROM", SmtpConfig.sender),
            )
        demo = env.get("DEMO_PASSWORD")
        return cls(
            host=host,
            port=port,
            var_dir=var_dir,
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'portal.sqlite3'}",
            redis_url=env.get("REDIS_URL") or None,
            documents_dir=Path(env.get("DOCUMENTS_DIR", str(var_dir / "documents"))),
            secret=Secret(env.get("HUB_SECRET", "")),
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            actions_url=env.get("ACTIONS_URL", "http://127.0.0.1:5055").rstrip("/"),
            rasa_token=Secret(env.get("RASA_TOKEN", "")),
            ice_servers=_ice_servers(env.get("ICE_SERVERS", "")),
            public_url=(env.get("PUBLIC_URL") or f"http://{host}:{port}").rstrip("/"),
            smtp=smtp,
            demo_password=Secret(demo) if demo else None,
            trust_proxy=env.get("HUB_TRUST_PROXY", "") in ("1", "true", "yes"),
            header_timeout=_float(env, "HUB_HEADER_TIMEOUT", 15.0),
            body_timeout=_float(env, "HUB_BODY_TIMEOUT", 30.0),
            body_min_rate=_positive(env, "HUB_BODY_MIN_RATE", 8192),
            relay_timeout=_float(env, "RELAY_TIMEOUT", 5.0),
            relay_policy=_relay_policy(env.get("RELAY_POLICY", "auto")),
            max_relayed_rooms=_int(env, "RTC_MAX_RELAYS", 4),
            max_echo_peers=_int(env, "RTC_MAX_ECHO", 8),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            allowed_origins=tuple(
                origin.strip().rstrip("/")
                for origin in env.get("ALLOWED_ORIGINS", "").split(",")
                if origin.strip()
            ),
        )

    def with_overrides(self, host: str | None = None, port: int | None = None) -> Settings:
        """A copy with CLI flags applied."""
        changed = self
        if host is not None:
            changed = replace(changed, host=host)
        if port is not None:
            changed = replace(changed, port=port)
        return changed

    def ensure_secret(self) -> Settings:
        """A copy whose secrets are set: from the environment, else from (or into) var/.

        HUB_SECRET goes to ``var/hub_secret`` and RASA_TOKEN to ``var/rasa_token`` (mode 0600),
        generated once and reused by every later start.
        """
        changed = self
        if not self.secret.reveal():
            changed = replace(changed, secret=Secret(self._stored_secret("hub_secret")))
        if not self.rasa_token.reveal():
            changed = replace(changed, rasa_token=Secret(self._stored_secret("rasa_token")))
        return changed

    def _stored_secret(self, name: str) -> str:
        path = self.var_dir / name
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(value + "\n")
        return value

    def chat_origins(self) -> tuple[str, ...]:
        """The origins allowed to open the chat: ALLOWED_ORIGINS, or the hub's own."""
        if self.allowed_origins:
            return self.allowed_origins
        defaults = (
            self.public_url or f"http://{self.host}:{self.port}",
            f"http://127.0.0.1:{self.port}",
            f"http://localhost:{self.port}",
        )
        return tuple(dict.fromkeys(defaults))

    def rtc_config(self) -> RtcConfig:
        """The consultation rooms' share of the settings."""
        return RtcConfig(
            ice_servers=tuple(self.ice_servers),
            relay_timeout=self.relay_timeout,
            relay_policy=self.relay_policy,
            max_relayed_rooms=self.max_relayed_rooms,
            max_echo_peers=self.max_echo_peers,
        )

    def portal_config(self) -> PortalConfig:
        """The domain's share of the settings."""
        return PortalConfig(
            secret=self.secret,
            public_url=self.public_url,
            documents_dir=self.documents_dir,
            outbox_dir=self.var_dir / "outbox",
            smtp=self.smtp,
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, not {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 < value <= 120:
        raise SettingsError(f"{name} must be between 0 and 120 seconds, not {raw!r}")
    return value


def _relay_policy(raw: str) -> RelayPolicy:
    value = raw.strip().lower() or "auto"
    if value == "auto":
        return "auto"
    if value == "relay":
        return "relay"
    raise SettingsError(f"RELAY_POLICY must be 'auto' or 'relay', not {raw!r}")


def _ice_servers(raw: str) -> list[dict[str, Any]]:
    if not raw.strip():
        return []
    if raw.strip().startswith("["):
        try:
            value = json.loads(raw)
        except ValueError:
            raise SettingsError("ICE_SERVERS is not valid JSON") from None
        if not isinstance(value, list):
            raise SettingsError("ICE_SERVERS must be a JSON list of RTCIceServer objects")
        return value
    return [{"urls": url.strip()} for url in raw.split(",") if url.strip()]
