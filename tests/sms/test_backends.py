"""Choosing the gateway from settings, and the development gateways."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from hojre.core.settings import Settings
from hojre.sms.backends import (
    ConsoleBackend,
    FileBackend,
    KavenegarBackend,
    OutgoingSms,
    backend_from_settings,
)

pytestmark = pytest.mark.anyio

SMS = OutgoingSms(
    key="hojre-sms-1", to="09121234567", text="code 1234", kind="activation", code="1234"
)


def settings(**values: object) -> Settings:
    return Settings.model_validate({"kavenegar_api_key": None, **values})


async def test_console_backend_logs_the_message(caplog: pytest.LogCaptureFixture) -> None:
    backend = backend_from_settings(settings(sms_backend="console"))
    assert isinstance(backend, ConsoleBackend)
    with caplog.at_level(logging.INFO, logger="hojre.sms"):
        assert await backend.send(SMS) is None
    assert "09121234567" in caplog.text
    await backend.aclose()


async def test_file_backend_appends_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "sms.jsonl"
    backend = backend_from_settings(settings(sms_backend=f"file:{path}"))
    assert isinstance(backend, FileBackend) and backend.path == path
    assert await backend.send(SMS) == "hojre-sms-1"
    await backend.send(OutgoingSms(key="hojre-sms-2", to="09120000000", text="hi", kind="notice"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [
        {
            "key": "hojre-sms-1",
            "to": "09121234567",
            "text": "code 1234",
            "kind": "activation",
            "code": "1234",
        },
        {"key": "hojre-sms-2", "to": "09120000000", "text": "hi", "kind": "notice", "code": None},
    ]
    await backend.aclose()


async def test_kavenegar_backend_from_settings() -> None:
    backend = backend_from_settings(
        settings(
            sms_backend="kavenegar",
            kavenegar_api_key="key",
            kavenegar_base_url="http://127.0.0.1:9",
        )
    )
    assert isinstance(backend, KavenegarBackend)
    await backend.aclose()


def test_kavenegar_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="HOJRE_KAVENEGAR_API_KEY"):
        backend_from_settings(settings(sms_backend="kavenegar"))


@pytest.mark.parametrize("name", ["smsir", "file", "", "Console"])
def test_an_unknown_backend_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown HOJRE_SMS_BACKEND"):
        backend_from_settings(settings(sms_backend=name))


def test_a_file_backend_without_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a path"):
        backend_from_settings(settings(sms_backend="file:"))


@pytest.mark.parametrize("sms_backend", ["console", "file:/tmp/sms.jsonl"])
def test_production_refuses_a_development_gateway(sms_backend: str) -> None:
    with pytest.raises(ValidationError, match="HOJRE_SMS_BACKEND must be a real gateway"):
        Settings(
            env="production",
            database_url="postgresql+asyncpg://hojre@db/hojre",
            sms_backend=sms_backend,
        )


def test_production_refuses_kavenegar_without_a_key() -> None:
    with pytest.raises(ValidationError, match="HOJRE_KAVENEGAR_API_KEY is required"):
        Settings(
            env="production",
            database_url="postgresql+asyncpg://hojre@db/hojre",
            sms_backend="kavenegar",
            kavenegar_api_key=None,
        )


async def test_file_backend_drops_a_resent_key_like_a_gateway(tmp_path: Path) -> None:
    """The outbox resends a row whose sender died after sending; the key must stop it."""
    path = tmp_path / "sms.jsonl"
    first, second = FileBackend(path), FileBackend(path)  # two server processes
    sms = OutgoingSms(key="hojre-sms-7", to="09121234567", text="کد: 12345", kind="activation")
    await first.send(sms)
    await second.send(sms)
    await first.send(sms)
    # A writer killed mid-line leaves a torn line; the next message starts on its own line.
    with path.open("ab") as handle:
        handle.write(b'{"key": "hojre-sms-8", "to": "0912')
    await second.send(OutgoingSms(key="hojre-sms-9", to="09121234567", text="x", kind="k"))
    lines = path.read_text().splitlines()
    keys = [json.loads(line)["key"] for line in lines if line.endswith("}")]
    assert keys == ["hojre-sms-7", "hojre-sms-9"]
