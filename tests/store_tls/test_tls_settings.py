"""Start-up checks of the stores' TLS settings: each refusal names the setting and the path."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration_api.config import ConfigError, load_settings
from integration_api.store.failure_reason import connection_failure_reason
from integration_api.tls import check_store_tls
from tests.store_tls.conftest import Certificates


def _check(**env: str) -> None:
    settings = load_settings({"POSTGRES__HOST": "db.internal", "REDIS__HOST": "cache", **env})
    check_store_tls(settings.postgres, settings.redis)


def test_verify_modes_need_the_ca_file() -> None:
    with pytest.raises(ConfigError, match="POSTGRES__SSL_MODE=verify-full needs POSTGRES__SSL_"):
        _check(POSTGRES__SSL_MODE="verify-full")


def test_a_ca_file_that_no_mode_would_check_is_refused(certificates: Certificates) -> None:
    for mode in ("disable", "allow", "prefer"):
        with pytest.raises(ConfigError, match=f"POSTGRES__SSL_MODE={mode} never checks"):
            _check(POSTGRES__SSL_MODE=mode, POSTGRES__SSL_ROOT_CERT=str(certificates.ca))
    with pytest.raises(ConfigError, match="REDIS__TLS_CA_CERT is set but REDIS__TLS is not"):
        _check(REDIS__TLS_CA_CERT=str(certificates.ca))


def test_a_file_that_is_not_a_certificate_is_named_with_its_setting(
    certificates: Certificates,
) -> None:
    key = certificates.client.key
    with pytest.raises(ConfigError) as raised:
        _check(POSTGRES__SSL_MODE="verify-full", POSTGRES__SSL_ROOT_CERT=str(key))
    assert str(raised.value) == f"POSTGRES__SSL_ROOT_CERT: {key} holds no PEM certificate"


def test_a_certificate_with_another_certificates_key_is_refused(
    certificates: Certificates,
) -> None:
    with pytest.raises(ConfigError, match="REDIS__TLS_CERT and REDIS__TLS_KEY: ") as raised:
        _check(
            REDIS__TLS="true",
            REDIS__TLS_CERT=str(certificates.client.cert),
            REDIS__TLS_KEY=str(certificates.server.key),
        )
    assert "KEY_VALUES_MISMATCH" in str(raised.value)


def test_a_key_without_its_certificate_is_refused(certificates: Certificates) -> None:
    with pytest.raises(ConfigError, match="POSTGRES__SSL_KEY is set without POSTGRES__SSL_CERT"):
        _check(POSTGRES__SSL_MODE="require", POSTGRES__SSL_KEY=str(certificates.client.key))


def test_the_embedded_postgres_ignores_the_tls_settings(tmp_path: Path) -> None:
    settings = load_settings({"POSTGRES__SSL_ROOT_CERT": str(tmp_path / "absent.crt")})
    check_store_tls(settings.postgres, settings.redis)


def test_a_reason_masks_passwords_and_credentials_in_urls() -> None:
    password = "s3cret-Pa55"
    error = RuntimeError(
        f"could not use postgresql://svc:{password}@db:5432/x (password {password})"
    )
    reason = connection_failure_reason(error, address="db:5432", secrets=[password])
    assert reason == "db:5432: could not use postgresql://***@db:5432/x (password ***)"
