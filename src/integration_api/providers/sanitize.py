"""Makes provider-supplied text safe to show: no keys, no tokens, bounded length.

Provider error messages are useful to the person fixing a credential, but some echo what they
were sent (OpenAI prints a masked key, proxies echo URLs with `?key=`). Every message taken from
a provider passes through `sanitize_message` before it reaches an error or a result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from integration_api.credentials.model import (
    ApiKey,
    AwsKeys,
    AzureKey,
    GcpServiceAccount,
    SecretMaterial,
)

REDACTED = "[redacted]"
MAX_MESSAGE_LENGTH = 300

# Shorter values are not worth scrubbing verbatim: they would mangle ordinary words.
_MIN_SECRET_LENGTH = 6

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"-----BEGIN[A-Z ]*PRIVATE KEY-----.*?(?:-----END[A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"(?i)\b(token|basic)\s+[A-Za-z0-9._~+/=\-]{16,}"), r"\1 " + REDACTED),
    (
        re.compile(
            r"(?i)\b(key|api[-_]?key|access[-_]?token|token|secret|password|signature|"
            r"assertion|client[-_]?secret|x-amz-signature|x-amz-credential|"
            r"x-amz-security-token)=[^&\s\"'<>]*"
        ),
        r"\1=" + REDACTED,
    ),
    (re.compile(r"\b(?:sk|pk|rk)[-_][A-Za-z0-9*…._\-]{6,}"), REDACTED),
    (re.compile(r"\b(?:hf|r8|pa|gsk)_[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), REDACTED),
    (re.compile(r"\bya29\.[0-9A-Za-z_.\-]+"), REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{12,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]*)?"), REDACTED),
)

_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_\-]{16,}")
_SEGMENT_SEPARATORS = re.compile(r"[+/=_\-]")
_WHITESPACE = re.compile(r"\s+")


def _looks_random(segment: str) -> bool:
    """Whether a run of word characters reads like key material rather than a name.

    Model names, UUIDs and error codes are made of short segments or lowercase words; keys and
    digests have one long segment with digits or with upper and lower case mixed at random
    (camel-case identifiers have far fewer capitals than random text).
    """
    if len(segment) < 16:
        return False
    if any(character.isdigit() for character in segment):
        return True
    uppercase = sum(character.isupper() for character in segment)
    return 0.3 <= uppercase / len(segment) <= 0.7


def _redact_random_runs(match: re.Match[str]) -> str:
    run = match.group(0)
    # `+` and `=` appear in base64 but never in model names, ids or error codes.
    if len(run) >= 20 and ("+" in run or run.endswith("=")):
        return REDACTED
    if any(_looks_random(segment) for segment in _SEGMENT_SEPARATORS.split(run)):
        return REDACTED
    return run


def sanitize_message(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` without anything that looks like a credential, on one line, capped in length.

    Args:
        text: text that came from a provider or from a request (never trusted to be clean).
        secrets: exact secret values known to the caller; removed wherever they occur.
    """
    cleaned = text
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_LENGTH:
            cleaned = cleaned.replace(secret, REDACTED)
    for pattern, replacement in _SECRET_PATTERNS:
        cleaned = pattern.sub(replacement, cleaned)
    cleaned = _TOKEN_RUN.sub(_redact_random_runs, cleaned)
    cleaned = _WHITESPACE.sub(" ", cleaned).strip()
    cleaned = "".join(character for character in cleaned if character.isprintable())
    if len(cleaned) > MAX_MESSAGE_LENGTH:
        cleaned = cleaned[: MAX_MESSAGE_LENGTH - 1].rstrip() + "…"
    return cleaned


def secret_values(secret: SecretMaterial) -> tuple[str, ...]:
    """Every string of `secret` that must never appear in a message, for `sanitize_message`."""
    if isinstance(secret, ApiKey):
        return (secret.key,)
    if isinstance(secret, AzureKey):
        return (secret.api_key,)
    if isinstance(secret, AwsKeys):
        return (secret.secret_access_key, secret.session_token)
    if isinstance(secret, GcpServiceAccount):
        return (secret.json_text, *_service_account_secrets(secret.json_text))
    return secret.secret_values()


def _service_account_secrets(json_text: str) -> tuple[str, ...]:
    try:
        document = json.loads(json_text)
    except ValueError:
        return ()
    if not isinstance(document, dict):
        return ()
    values = (document.get("private_key"), document.get("private_key_id"))
    return tuple(value for value in values if isinstance(value, str))
