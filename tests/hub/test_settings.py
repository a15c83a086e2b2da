"""Settings come from the environment once; the secret never shows itself."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hub.settings import Settings, SettingsError


def test_defaults_point_at_var(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert settings.redis_url is None
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.public_url == "http://127.0.0.1:8080"


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "HUB_HOST": "127.0.0.2",
            "HUB_PORT": "9000",
            "DATABASE_URL": "postgresql://postgres@127.0.0.1/x",
            "REDIS_URL": "redis://127.0.0.1:6379/2",
            "ICE_SERVERS": "stun:stun.example.org:3478, turn:turn.example.org",
            "SMTP_HOST": "mail.example.org",
            "SMTP_PASSWORD": "smtp-secret",
            "HUB_TRUST_PROXY": "1",
        }
    )
    assert (settings.host, settings.port) == ("127.0.0.2", 9000)
    assert settings.database_url.startswith("postgresql://")
    assert settings.redis_url == "redis://127.0.0.1:6379/2"
    assert settings.ice_servers == [
        {"urls": "stun:stun.example.org:3478"},
        {"urls": "turn:turn.example.org"},
    ]
    assert settings.smtp is not None
    assert settings.smtp.host == "mail.example.org"
    assert settings.trust_proxy
    assert "smtp-secret" not in repr(settings)
    assert settings.with_overrides(port=9001).port == 9001


def test_ice_servers_as_json() -> None:
    raw = '[{"urls": ["turn:t.example.org"], "username": "u", "credential": "c"}]'
    assert Settings.from_env({"ICE_SERVERS": raw}).ice_servers[0]["username"] == "u"
    with pytest.raises(SettingsError):
        Settings.from_env({"ICE_SERVERS": "[not json"})


def test_bad_port_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="HUB_PORT"):
        Settings.from_env({"HUB_PORT": "eighty"})


def test_secret_generated_once_with_private_mode(tmp_path: Path) -> None:
    first = Settings.from_env({"VAR_DIR": str(tmp_path)}).ensure_secret()
    second = Settings.from_env({"VAR_DIR": str(tmp_path)}).ensure_secret()
    value = first.secret.reveal()
    assert len(value) >= 48
    assert second.secret.reveal() == value
    mode = stat.S_IMODE((tmp_path / "hub_secret").stat().st_mode)
    assert mode == 0o600
    assert value not in repr(first)
    assert value not in str(first.secret)


def test_secret_from_environment_is_not_written(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAR_DIR": str(tmp_path), "HUB_SECRET": "s3cret"})
    assert settings.ensure_secret().secret.reveal() == "s3cret"
    assert not (tmp_path / "hub_secret").exists()


def test_consultation_settings_reach_the_rooms() -> None:
    settings = Settings.from_env(
        {
            "ICE_SERVERS": "stun:stun.example.pl:3478",
            "RELAY_TIMEOUT": "2.5",
            "RELAY_POLICY": "relay",
            "RTC_MAX_RELAYS": "2",
            "RTC_MAX_ECHO": "3",
        }
    )
    rtc = settings.rtc_config()
    assert list(rtc.ice_servers) == [{"urls": "stun:stun.example.pl:3478"}]
    assert (rtc.relay_timeout, rtc.relay_policy) == (2.5, "relay")
    assert (rtc.max_relayed_rooms, rtc.max_echo_peers) == (2, 3)
    assert Settings.from_env({}).rtc_config().relay_policy == "auto"


@pytest.mark.parametrize(
    ("name", "value"),
    [("RELAY_POLICY", "sometimes"), ("RELAY_TIMEOUT", "soon"), ("RELAY_TIMEOUT", "0")],
)
def test_bad_consultation_settings_are_clear_errors(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_http_timeouts_come_from_the_environment() -> None:
    assert (Settings().header_timeout, Settings().body_timeout) == (15.0, 30.0)
    found = Settings.from_env({"HUB_HEADER_TIMEOUT": "4", "HUB_BODY_TIMEOUT": "7.5"})
    assert (found.header_timeout, found.body_timeout) == (4.0, 7.5)
    for name in ("HUB_HEADER_TIMEOUT", "HUB_BODY_TIMEOUT"):
        for value in ("slow", "0", "-1", "121"):
            with pytest.raises(SettingsError, match=name):
                Settings.from_env({name: value})
    assert Settings().body_min_rate == 8192
    assert Settings.from_env({"HUB_BODY_MIN_RATE": "1000"}).body_min_rate == 1000
    for value in ("fast", "0", "-5"):
        with pytest.raises(SettingsError, match="HUB_BODY_MIN_RATE"):
            Settings.from_env({"HUB_BODY_MIN_RATE": value})
