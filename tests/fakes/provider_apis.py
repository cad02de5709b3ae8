"""Fake credential endpoints of the API-key providers, answering as the real ones do.

Each fake accepts the keys it is given and refuses any other with the provider's real status and
error body (from the provider's docs, SDK sources and captured responses). With
`server.echo_credentials` on, refusals quote the presented key in full: a hostile but possible
provider, to prove nothing it says can carry a key into our messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.server import FakeServer, json_response

Responder = Callable[[web.Request], web.Response]
Refusal = Callable[[str], web.Response]
KeyReader = Callable[[web.Request], str]


def bearer_key(request: web.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


def header_key(name: str) -> KeyReader:
    return lambda request: request.headers.get(name, "")


def token_scheme_key(request: web.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Token ")


def gemini_key(request: web.Request) -> str:
    # The real API takes the key from the header or from `?key=`.
    return request.headers.get("x-goog-api-key", "") or request.query.get("key", "")


def masked(key: str) -> str:
    """How OpenAI quotes a refused key: its start and its last four characters."""
    if len(key) < 12:
        return "***"
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


@dataclass(frozen=True)
class KeyCheckedEndpoint:
    """One provider endpoint guarded by an API key."""

    method: str
    path: str
    read_key: KeyReader
    success: Responder
    refusal: Callable[[str], web.Response]
    precondition: Callable[[web.Request], web.Response | None] = lambda request: None
    # OpenAI quotes the start and end of a refused key; the others quote nothing.
    quotes_masked_key: bool = False

    def install(
        self,
        server: FakeServer,
        accepted: set[str],
        special: Mapping[str, Responder] | None = None,
    ) -> None:
        """Serve this endpoint on `server`, accepting `accepted`; `special` keys get their own
        answer (a key the provider knows but treats differently)."""
        special = special or {}

        async def handle(request: web.Request) -> web.Response:
            early = self.precondition(request)
            if early is not None:
                return early
            presented = self.read_key(request)
            if presented in special:
                return special[presented](request)
            if presented in accepted:
                return self.success(request)
            return self.refusal(self._quoted(presented, server.echo_credentials))

        server.route(self.method, self.path, handle)

    def _quoted(self, presented: str, echo: bool) -> str:
        if echo:
            return presented
        return masked(presented) if self.quotes_masked_key else ""


def quoting(text: str, quoted: str) -> str:
    return f"{text} {quoted}" if quoted else text


def _constant(status: int, body: object, content_type: str = "application/json") -> Responder:
    return lambda request: json_response(status, body, content_type=content_type)


def _openai_refusal(shown: str) -> web.Response:
    message = (
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    error = {"message": message, "type": "invalid_request_error", "param": None}
    return json_response(401, {"error": {**error, "code": "invalid_api_key"}})


MODEL_LIST = {
    "object": "list",
    "data": [{"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"}],
}

OPENAI = KeyCheckedEndpoint(
    "GET",
    "/v1/models",
    bearer_key,
    _constant(200, MODEL_LIST),
    _openai_refusal,
    quotes_masked_key=True,
)

AZURE_ACCESS_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your "
    "resource."
)


def _azure_needs_api_version(request: web.Request) -> web.Response | None:
    if "api-version" in request.query or request.path.startswith("/openai/v1/"):
        return None
    return json_response(404, {"error": {"code": "404", "message": "Resource not found"}})


def _azure_refusal(shown: str) -> web.Response:
    message = quoting(AZURE_ACCESS_DENIED, shown)
    return json_response(401, {"error": {"code": "401", "message": message}})


AZURE_OPENAI = KeyCheckedEndpoint(
    "GET",
    "/openai/models",
    header_key("api-key"),
    _constant(200, MODEL_LIST),
    _azure_refusal,
    precondition=_azure_needs_api_version,
)
AZURE_OPENAI_V1 = KeyCheckedEndpoint(
    "GET", "/openai/v1/models", header_key("api-key"), _constant(200, MODEL_LIST), _azure_refusal
)


def _anthropic_needs_version(request: web.Request) -> web.Response | None:
    if request.headers.get("anthropic-version"):
        return None
    error = {"type": "invalid_request_error", "message": "anthropic-version: header is required"}
    return json_response(400, {"type": "error", "error": error})


def _anthropic_refusal(shown: str) -> web.Response:
    message = quoting("invalid x-api-key", shown)
    error = {"type": "authentication_error", "message": message}
    return json_response(
        401, {"type": "error", "error": error, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}
    )


ANTHROPIC = KeyCheckedEndpoint(
    "GET",
    "/v1/models",
    header_key("x-api-key"),
    _constant(
        200,
        {
            "data": [
                {
                    "type": "model",
                    "id": "claude-sonnet-4-20250514",
                    "display_name": "Claude Sonnet 4",
                    "created_at": "2025-05-22T00:00:00Z",
                }
            ],
            "has_more": True,
            "first_id": "claude-sonnet-4-20250514",
            "last_id": "claude-sonnet-4-20250514",
        },
    ),
    _anthropic_refusal,
    precondition=_anthropic_needs_version,
)


def _gemini_refusal(shown: str) -> web.Response:
    message = quoting("API key not valid. Please pass a valid API key.", shown)
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {
            "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
            "locale": "en-US",
            "message": message,
        },
    ]
    error = {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": details}
    return json_response(400, {"error": error})


GEMINI = KeyCheckedEndpoint(
    "GET",
    "/v1beta/models",
    gemini_key,
    _constant(
        200,
        {
            "models": [{"name": "models/gemini-2.5-flash", "displayName": "Gemini 2.5 Flash"}],
            "nextPageToken": "Ch5tb2RlbHMvZ2VtaW5pLTIuNS1mbGFzaA",
        },
    ),
    _gemini_refusal,
)

COHERE_KEY_CHECK_INACTIVE = _constant(200, {"valid": False, "organization_id": "", "owner_id": ""})
COHERE = KeyCheckedEndpoint(
    "POST",
    "/v1/check-api-key",
    bearer_key,
    _constant(200, {"valid": True, "organization_id": "org-1", "owner_id": "owner-1"}),
    lambda shown: json_response(401, {"message": quoting("invalid api token", shown)}),
)

MISTRAL = KeyCheckedEndpoint(
    "GET",
    "/v1/models",
    bearer_key,
    _constant(200, {"object": "list", "data": [{"id": "mistral-small-latest"}]}),
    lambda shown: json_response(
        401,
        {
            "message": quoting("Unauthorized", shown),
            "request_id": "c61f2f15feca71626a990e3740f99245",
        },
    ),
)

HUGGINGFACE = KeyCheckedEndpoint(
    "GET",
    "/api/whoami-v2",
    bearer_key,
    _constant(
        200,
        {
            "type": "user",
            "name": "someone",
            "auth": {"type": "access_token", "accessToken": {"displayName": "ci", "role": "read"}},
        },
    ),
    lambda shown: json_response(
        401, {"error": quoting("Invalid credentials in Authorization header", shown)}
    ),
)

REPLICATE = KeyCheckedEndpoint(
    "GET",
    "/v1/account",
    bearer_key,
    _constant(200, {"type": "user", "username": "someone", "name": "Someone"}),
    lambda shown: json_response(
        401,
        {
            "title": "Unauthenticated",
            "detail": quoting("You did not pass a valid authentication token", shown),
            "status": 401,
        },
        content_type="application/problem+json",
    ),
)

VOYAGEAI = KeyCheckedEndpoint(
    "POST",
    "/v1/embeddings",
    bearer_key,
    _constant(
        200,
        {
            "object": "list",
            "data": [{"object": "embedding", "embedding": [0.01, -0.02, 0.03], "index": 0}],
            "model": "voyage-3.5-lite",
            "usage": {"total_tokens": 1},
        },
    ),
    lambda shown: json_response(401, {"detail": quoting("Provided API key is invalid.", shown)}),
)

DEEPGRAM = KeyCheckedEndpoint(
    "GET",
    "/v1/projects",
    token_scheme_key,
    _constant(200, {"projects": [{"project_id": "3f1b8e0c", "name": "Default"}]}),
    lambda shown: json_response(
        401,
        {
            "err_code": "INVALID_AUTH",
            "err_msg": quoting("Invalid credentials.", shown),
            "request_id": "019f5990-aa76-7d53-a2ca-a90ec21c5919",
        },
    ),
)

ELEVENLABS_MISSING_PERMISSION = _constant(
    401,
    {
        "detail": {
            "status": "missing_permissions",
            "message": "The API key you used is missing the permission user_read to execute "
            "this operation.",
        }
    },
)
ELEVENLABS = KeyCheckedEndpoint(
    "GET",
    "/v1/user",
    header_key("xi-api-key"),
    _constant(200, {"user_id": "u1", "subscription": {"tier": "free"}}),
    lambda shown: json_response(
        401,
        {"detail": {"status": "invalid_api_key", "message": quoting("Invalid API key", shown)}},
    ),
)

CARTESIA = KeyCheckedEndpoint(
    "GET",
    "/voices",
    lambda request: request.headers.get("Authorization", "").removeprefix("Bearer "),
    _constant(200, {"data": [{"id": "a0e99841", "name": "Barbershop Man"}], "has_more": True}),
    lambda shown: json_response(
        401,
        {
            "error_code": "invalid_api_key",
            "title": "Unauthorized",
            "message": quoting("Invalid API key", shown),
            "request_id": "550e8400-e29b-41d4-a716-446655440000",
        },
    ),
)
ASSEMBLYAI = KeyCheckedEndpoint(
    "GET",
    "/v2/transcript",
    header_key("Authorization"),
    _constant(200, {"page_details": {"limit": 1, "result_count": 0}, "transcripts": []}),
    lambda shown: json_response(
        401, {"error": quoting("Authentication error, API token missing/invalid", shown)}
    ),
)

# A self-hosted OpenAI-compatible server (vLLM's shape) started with an API key.
OPENAI_COMPATIBLE = KeyCheckedEndpoint(
    "GET",
    "/v1/models",
    bearer_key,
    _constant(200, MODEL_LIST),
    lambda shown: json_response(401, {"error": quoting("Unauthorized", shown)}),
)
