"""Runs a credential check: times it and turns whatever happened into an outcome.

`invalid` is a verdict on the key, so only the provider refusing it (or a key that cannot even
be sent) says so; any other answer leaves the key's state unknown:

| what happened                                                          | outcome       |
| ---------------------------------------------------------------------- | ------------- |
| the provider accepted the call                                         | `valid`       |
| the provider refused the key: 401/403/498, or its documented invalid-  | `invalid`     |
| key answer (Gemini's 400 `API_KEY_INVALID`, Cohere's `"valid": false`, |               |
| Google's `invalid_grant` for a service-account key)                    |               |
| no request could be made: the key file or the config is unusable       | `invalid`     |
| a retryable error (network, 5xx, 429) or a timeout                     | `unreachable` |
| any other answer: a 400 about the probe's model, a 404, a spent quota, | `unreachable` |
| a 200 that is not the expected answer — not a verdict on the key       | (inconclusive)|

An inconclusive check says so in its message ("inconclusive, not a verdict on the key: …").
A provider module may read an accepted answer (Cohere says `{"valid": false}` with a 200) or a
refusal (ElevenLabs refuses a valid key that lacks one permission) before this table applies.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from integration_api.credentials.model import ProviderCredential
from integration_api.credentials.verification import VerificationOutcome, VerificationResult
from integration_api.errors import DeadlineExceeded, ServiceError
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import (
    CREDENTIAL_REJECTED,
    PROVIDER_HTTP_STATUS,
    ErrorClassifier,
)
from integration_api.providers.sanitize import sanitize_message, secret_values
from integration_api.providers.transport import send_json


@dataclass(frozen=True)
class Verdict:
    """An outcome and the words that explain it to a person."""

    outcome: VerificationOutcome
    message: str


def accepted(provider: str) -> Verdict:
    return Verdict("valid", f"{provider} accepted the credential")


def inconclusive(message: str) -> Verdict:
    """The provider answered, but not about the key: its state stays unknown."""
    return Verdict("unreachable", f"inconclusive, not a verdict on the key: {message}")


def verdict_for_error(error: ServiceError) -> Verdict:
    """The outcome a typed error stands for (see the table in the module docstring)."""
    if error.reason == CREDENTIAL_REJECTED:
        return Verdict("invalid", error.message)
    if error.retryable or isinstance(error, DeadlineExceeded):
        return Verdict("unreachable", error.message)
    if PROVIDER_HTTP_STATUS not in error.metadata:
        # Raised before any request was sent: the key file or the config cannot be used.
        return Verdict("invalid", error.message)
    return inconclusive(error.message)


async def run_verification(
    credential: ProviderCredential, attempt: Callable[[], Awaitable[Verdict]]
) -> VerificationResult:
    """Run `attempt`, timing it; typed errors become outcomes, the message is scrubbed again."""
    started = time.perf_counter()
    try:
        verdict = await attempt()
    except ServiceError as error:
        verdict = verdict_for_error(error)
    latency_ms = round((time.perf_counter() - started) * 1000)
    message = sanitize_message(verdict.message, secret_values(credential.secret))
    return VerificationResult(outcome=verdict.outcome, latency_ms=latency_ms, message=message)


@dataclass(frozen=True)
class ProbeRequest:
    """One authenticated request that proves a credential and bills nothing."""

    method: str
    url: str
    headers: Mapping[str, str]
    params: Mapping[str, str] = field(default_factory=dict)
    json_body: object = None


AnswerReader = Callable[[object], Verdict | None]
RefusalReader = Callable[[ServiceError], Verdict | None]


@dataclass(frozen=True)
class HttpProbe:
    """A `CredentialVerifier` made of one HTTP request and the rules for reading its answer.

    Attributes:
        build_request: the probe for a credential; raises `InvalidArgument` when the
            credential's config cannot make one.
        read_answer: may turn a 2xx body into a verdict other than `valid`.
        read_refusal: may turn a typed error into a verdict other than the default one.
        classify_error: claims provider-specific error responses before the generic table.
    """

    provider: str
    build_request: Callable[[ProviderCredential], ProbeRequest]
    read_answer: AnswerReader | None = None
    read_refusal: RefusalReader | None = None
    classify_error: ErrorClassifier | None = None

    async def verify(
        self, credential: ProviderCredential, http: ProviderClient
    ) -> VerificationResult:
        async def attempt() -> Verdict:
            return await self._attempt(credential, http)

        return await run_verification(credential, attempt)

    async def _attempt(self, credential: ProviderCredential, http: ProviderClient) -> Verdict:
        probe = self.build_request(credential)
        try:
            response = await send_json(
                http,
                probe.method,
                probe.url,
                provider=self.provider,
                headers=probe.headers,
                params=probe.params,
                json_body=probe.json_body,
                secrets=secret_values(credential.secret),
                classify_error=self.classify_error,
            )
        except ServiceError as error:
            verdict = self.read_refusal(error) if self.read_refusal else None
            if verdict is None:
                raise
            return verdict
        verdict = self.read_answer(response.body) if self.read_answer else None
        return verdict or accepted(self.provider)
