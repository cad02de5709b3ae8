"""A real OAuth 2.0 authorization server on 127.0.0.1, built from authlib's server components,
answering the way Google or GitHub do.

authlib does the protocol: the authorization-code grant with PKCE (S256 required), refresh
(rotating when the shape says so) and client authentication. On top, the shapes add what the
real providers do differently: Google's userinfo and revoke endpoints and its `400
invalid_grant`; GitHub's `200` answers carrying `error` (`bad_refresh_token`,
`bad_verification_code`, `incorrect_client_credentials`), its OAuth App tokens that never expire
vs its GitHub App tokens (8 hours, single-use refresh tokens), `/user` with a private email and
`/user/emails`, and grant deletion.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl

from aiohttp import web
from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge

from tests.fakes.server import FakeServer, json_response

Shape = Literal["google", "github_oauth_app", "github_app"]
CLIENT_ID = "client-id-0001"
CLIENT_SECRET = "client-secret-Zq7Xv9Lm3"


@dataclass
class Account:
    id: int
    login: str
    email: str
    email_public: bool = False


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    grant_types: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string matching (RFC 9700 §2.1)

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_post"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    account: Account
    code_challenge: str
    code_challenge_method: str

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token:
    access_token: str
    refresh_token: str | None
    scope: str
    account: Account
    client_id: str
    expires_at: float | None
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return 0 if self.expires_at is None else int(self.expires_at - time.time())

    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at < time.time()

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> Account:
        return self.account

    def get_client(self) -> None:
        return None


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)

    @property
    def data(self) -> dict[str, str]:
        return {name: values[0] for name, values in self._datalist.items()}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self, method: str, path_qs: str, headers: dict[str, str], pairs: list[Any]
    ) -> None:
        super().__init__(method, "https://as.test" + path_qs, headers=headers)
        self.payload = _Payload(pairs)
        self._form = dict(pairs)

    @property
    def args(self) -> dict[str, str]:
        return self._form

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class Behaviour:
    """What the test wants the provider to do next."""

    decline: bool = False
    # Google lets the user untick scopes: the grant then carries fewer than asked for.
    granted_scope: str | None = None
    account: Account = field(default_factory=lambda: Account(4242, "octo", "octo@example.com"))
    token_delay_seconds: float = 0.0
    github_bad_credentials_status: int = 200
    omit_access_token: bool = False
    # Called with the refresh token before a refresh grant is answered.
    before_refresh: Callable[[str], Awaitable[None]] | None = None
    # Raw JSON put in place of a granted token's `expires_in` (`-1e12`, `Infinity`, `"abc"`).
    expires_in_json: str | None = None
    # The token endpoint answers this (status, body) instead of running the grant.
    token_answer: tuple[int, dict[str, Any]] | None = None


class FakeOAuthProvider(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, server: FakeServer, shape: Shape, redirect_uri: str) -> None:
        super().__init__()
        self.http = server
        self.behaviour = Behaviour()
        self.client = Client(CLIENT_ID, CLIENT_SECRET, [redirect_uri], [])
        self.use_shape(shape)
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_grants = 0
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda *_, **__: "at-" + secrets.token_urlsafe(24),
                lambda *_, **__: "rt-" + secrets.token_urlsafe(24),
                lambda *_, **__: self.access_lifetime,
            ),
        )
        self.register_grant(_CodeGrant, [CodeChallenge(required=True)])
        self.register_grant(_RefreshGrant)
        self._routes()

    def use_shape(self, shape: Shape) -> None:
        """Google, a GitHub OAuth App (no refresh, no expiry) or a GitHub App (rotation)."""
        self.shape = shape
        self.access_lifetime = 3599 if shape == "google" else 28800
        refresh = [] if shape == "github_oauth_app" else ["refresh_token"]
        self.client.grant_types = ["authorization_code", *refresh]

    # authlib's framework hooks
    def query_client(self, client_id: str) -> Client | None:
        return self.client if client_id == self.client.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        account = request.user
        expires = token.get("expires_in")
        stored = Token(
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            scope=token.get("scope", ""),
            account=account,
            client_id=self.client.client_id,
            expires_at=time.time() + expires
            if expires and self.shape != "github_oauth_app"
            else None,
        )
        self.tokens[stored.access_token] = stored
        if stored.refresh_token:
            self.tokens[stored.refresh_token] = stored

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # the aiohttp handlers build the OAuth2Request themselves

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        return None

    def handle_response(self, status: int, body: Any, headers: Any) -> web.Response:
        headers = dict(headers)
        if isinstance(body, dict):
            return web.Response(status=status, text=json.dumps(body), headers=headers)
        return web.Response(status=status, text=body or "", headers=headers)

    @property
    def token_path(self) -> str:
        return "/token" if self.shape == "google" else "/login/oauth/access_token"

    @property
    def urls(self) -> dict[str, str]:
        base = self.http.url
        if self.shape == "google":
            return {
                "authorization_url": f"{base}/authorize",
                "token_url": f"{base}/token",
                "userinfo_url": f"{base}/v1/userinfo",
                "revoke_url": f"{base}/revoke",
            }
        return {
            "authorization_url": f"{base}/login/oauth/authorize",
            "token_url": f"{base}/login/oauth/access_token",
            "userinfo_url": f"{base}/user",
            "revoke_url": f"{base}/applications/{CLIENT_ID}/grant",
        }

    def live_token(self, access_token: str) -> Token | None:
        token = self.tokens.get(access_token)
        if token is None or token.revoked or token.is_expired():
            return None
        return token if token.access_token == access_token else None

    def _routes(self) -> None:
        authorize = "/authorize" if self.shape == "google" else "/login/oauth/authorize"
        self.http.route("GET", authorize, self._authorize)
        self.http.route("POST", self.token_path, self._token)
        if self.shape == "google":
            self.http.route("GET", "/v1/userinfo", self._google_userinfo)
            self.http.route("POST", "/revoke", self._google_revoke)
        else:
            self.http.route("GET", "/user", self._github_user)
            self.http.route("GET", "/user/emails", self._github_emails)
            self.http.route("DELETE", f"/applications/{CLIENT_ID}/grant", self._github_revoke)

    async def _authorize(self, request: web.Request) -> web.Response:
        oauth_request = _Request(
            "GET", request.path_qs, dict(request.headers), list(request.query.items())
        )
        grant = self.get_consent_grant(request=oauth_request, end_user=self.behaviour.account)
        user = None if self.behaviour.decline else self.behaviour.account
        response: web.Response = self.create_authorization_response(
            request=oauth_request, grant_user=user, grant=grant
        )
        return response

    async def _token(self, request: web.Request) -> web.Response:
        behaviour = self.behaviour
        pairs = parse_qsl((await request.read()).decode(), keep_blank_values=True)
        form = dict(pairs)
        if form.get("grant_type") == "refresh_token":
            self.refresh_grants += 1
            if behaviour.before_refresh is not None:
                await behaviour.before_refresh(form.get("refresh_token", ""))
        if behaviour.token_delay_seconds:
            await asyncio.sleep(behaviour.token_delay_seconds)
        if behaviour.token_answer is not None:
            return json_response(*behaviour.token_answer)
        oauth_request = _Request("POST", request.path_qs, dict(request.headers), pairs)
        answer: web.Response = self.create_token_response(oauth_request)
        return self._with_expires_in(self._shape_token_answer(answer, form))

    def _with_expires_in(self, answer: web.Response) -> web.Response:
        raw = self.behaviour.expires_in_json
        if raw is None or answer.status != 200:
            return answer
        body = json.loads(answer.text or "{}")
        body["expires_in"] = "__expires_in__"
        text = json.dumps(body).replace('"__expires_in__"', raw)
        return web.Response(status=200, text=text, content_type="application/json")

    def _shape_token_answer(self, answer: web.Response, form: dict[str, str]) -> web.Response:
        body = json.loads(answer.text or "{}")
        if self.shape == "google":
            if answer.status == 200 and self.behaviour.granted_scope is not None:
                body["scope"] = self.behaviour.granted_scope
            if answer.status == 200 and self.behaviour.omit_access_token:
                body.pop("access_token")
            return json_response(answer.status, body)
        return self._github_answer(answer.status, body, form)

    def _github_answer(
        self, status: int, body: dict[str, Any], form: dict[str, str]
    ) -> web.Response:
        error = body.get("error")
        if error == "invalid_grant":
            refresh = form.get("grant_type") == "refresh_token"
            code = "bad_refresh_token" if refresh else "bad_verification_code"
            return json_response(200, {"error": code, "error_description": "The code is bad."})
        if error == "invalid_client":
            if self.behaviour.github_bad_credentials_status == 401:
                return json_response(401, {"message": "Bad credentials"})
            return json_response(200, {"error": "incorrect_client_credentials"})
        if error:
            return json_response(200, body)
        body["scope"] = ",".join(str(body.get("scope", "")).split())  # GitHub separates by comma
        if self.shape == "github_oauth_app":
            body.pop("expires_in", None)
            body.pop("refresh_token", None)
        else:
            body["refresh_token_expires_in"] = 15897600
        return json_response(status, body)

    def _bearer(self, request: web.Request) -> Token | None:
        header = request.headers.get("Authorization", "")
        return self.live_token(header.removeprefix("Bearer ").strip()) if header else None

    async def _google_userinfo(self, request: web.Request) -> web.Response:
        token = self._bearer(request)
        if token is None:
            return json_response(401, {"error": "invalid_request"})
        account = token.account
        return json_response(
            200, {"sub": str(account.id), "email": account.email, "email_verified": True}
        )

    async def _google_revoke(self, request: web.Request) -> web.Response:
        value = dict(parse_qsl((await request.read()).decode())).get("token", "")
        token = self.tokens.get(value)
        if token is None:
            return json_response(400, {"error": "invalid_token"})
        self._revoke_grant(token.account)
        return json_response(200, {})

    async def _github_user(self, request: web.Request) -> web.Response:
        token = self._bearer(request)
        if token is None:
            return json_response(401, {"message": "Bad credentials"})
        account = token.account
        email = account.email if account.email_public else None
        return json_response(200, {"id": account.id, "login": account.login, "email": email})

    async def _github_emails(self, request: web.Request) -> web.Response:
        token = self._bearer(request)
        if token is None:
            return json_response(401, {"message": "Bad credentials"})
        email = token.account.email
        return json_response(
            200,
            [
                {"email": "old@example.com", "primary": False, "verified": True},
                {"email": email, "primary": True, "verified": True},
            ],
        )

    async def _github_revoke(self, request: web.Request) -> web.Response:
        expected = (
            "Basic "
            + __import__("base64").b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        )
        if request.headers.get("Authorization") != expected:
            return json_response(401, {"message": "Bad credentials"})
        token = self.tokens.get((await request.json()).get("access_token", ""))
        if token is None:
            return json_response(404, {"message": "Not Found"})
        self._revoke_grant(token.account)
        return web.Response(status=204)

    def _revoke_grant(self, account: Account) -> None:
        for token in self.tokens.values():
            if token.account.id == account.id:
                token.revoked = True


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_post"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.server.codes[code] = Code(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "",
            account=request.user,
            code_challenge=data.get("code_challenge", ""),
            code_challenge_method=data.get("code_challenge_method", ""),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found: Code | None = self.server.codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.server.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Account:
        return authorization_code.account


class _RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_post"]

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        token: Token | None = self.server.tokens.get(refresh_token)
        if token is None or token.revoked or token.refresh_token != refresh_token:
            return None
        return token

    def authenticate_user(self, refresh_token: Token) -> Account:
        return refresh_token.account

    @property
    def _rotating(self) -> bool:
        # GitHub Apps: "Once you use a refresh token, that refresh token and the old user
        # access token will no longer work". Google keeps the refresh token.
        return bool(self.server.shape == "github_app")

    def issue_token(self, user: Account, refresh_token: Token) -> dict[str, Any]:
        self.INCLUDE_NEW_REFRESH_TOKEN = self._rotating
        issued: dict[str, Any] = super().issue_token(user, refresh_token)
        return issued

    def revoke_old_credential(self, refresh_token: Token) -> None:
        if self._rotating:
            refresh_token.revoked = True
