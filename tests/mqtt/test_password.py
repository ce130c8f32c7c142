"""Where the broker password comes from: a file (systemd credential) or an environment variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core.errors import ConfigError
from monitor.mqtt import MqttSettings, read_password


def test_password_file_expands_the_credentials_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mqtt-password").write_text("s3cret\nignored second line\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    settings = MqttSettings(username="sitbreak", password_file="${CREDENTIALS_DIRECTORY}/mqtt-password")
    assert read_password(settings) == "s3cret"


def test_missing_password_file_names_the_key_and_the_path(tmp_path: Path) -> None:
    settings = MqttSettings(username="sitbreak", password_file=str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match=r"^mqtt\.password_file: cannot read .*nope: No such file"):
        read_password(settings)


def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITBREAK_MQTT_PASSWORD", "from-env")
    assert read_password(MqttSettings(username="u", password_env="SITBREAK_MQTT_PASSWORD")) == "from-env"
    monkeypatch.delenv("SITBREAK_MQTT_PASSWORD")
    with pytest.raises(ConfigError, match="SITBREAK_MQTT_PASSWORD is not set or empty"):
        read_password(MqttSettings(username="u", password_env="SITBREAK_MQTT_PASSWORD"))
