"""The browser's way back from the provider: a tiny aiohttp app on a port of its own.

It serves `GET <path of OAUTH_CALLBACK_URL>/<provider>` and nothing else. A consent it could
exchange makes no connection yet: it answers `302` to the `redirect_after` stored with the
state, carrying `status=authorized` and the one-time completion code the platform presents,
from the starting user's session, to `CompleteAuthorization` (oauth/completion.py). A refusal
carries a reason code instead — as a redirect when the state named where to go, else as a
plain-text page. No page includes a token, a third-party
resource or a link, and none may be cached or leak a referrer.

The port is public, so the shim bounds what anyone can hold there (`CallbackShimSettings`):
request headers complete within the header timeout (aiohttp's keep-alive timer, see `start`),
a connection cap (`connection_cap`), a token bucket per client address and no request body
(`_guard`). Refusals that matched no pending authorization are counted, not audited
(`refusals`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from integration_api.config.callback_shim import CallbackShimSettings
from integration_api.errors import ServiceError
from integration_api.oauth.address_limit import AddressRateLimit, client_address
from integration_api.oauth.callback_params import callback_params
from integration_api.oauth.connection_cap import CappedTCPSite
from integration_api.oauth.errors import CallbackParameterRefused, reason_code
from integration_api.oauth.flow import AuthorizationFlow, FinishedAuthorization
from integration_api.oauth.redirects import with_outcome
from integration_api.oauth.refusals import count_unmatched
from integration_api.oauth.registry import provider_names

log = structlog.get_logger("integration_api.oauth.callback")

SAFE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def _page(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=SAFE_HEADERS)


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={**SAFE_HEADERS, "Location": location})


def answer(outcome: FinishedAuthorization) -> web.Response:
    # The browser never makes a connection itself: a consent it brings back is parked and only
    # the completion code goes on (a flow without `redirect_after` is refused before that).
    if outcome.completion_code:
        fields = {"status": "authorized", "completion_code": outcome.completion_code}
        return _redirect(with_outcome(outcome.redirect_after, fields))
    reason = reason_code(outcome.error) if outcome.error else "internal_error"
    if outcome.redirect_after:
        return _redirect(
            with_outcome(outcome.redirect_after, {"status": "error", "reason": reason})
        )
    return _page(400, f"The connection was not made. Reason: {reason}")


def _guard(limit: AddressRateLimit, settings: CallbackShimSettings) -> Middleware:
    """Refuses, before the flow sees them, a flooding address (429) and a request with a body
    (413, closed unread: a callback is a GET and never has one)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        forwarded = request.headers.get("X-Forwarded-For", "")
        address = client_address(request.remote, forwarded, settings.trusted_proxies)
        wait = limit.take(address)
        if wait:
            count_unmatched("rate_limited")
            return _refusal(429, "rate_limited", {"Retry-After": str(wait)}, close=False)
        if request.body_exists:
            count_unmatched("body_not_allowed")
            return _refusal(413, "body_not_allowed", {}, close=True)
        return await handler(request)

    return guard


def _refusal(status: int, reason: str, headers: dict[str, str], *, close: bool) -> web.Response:
    response = web.Response(
        status=status,
        text=f"The connection was not made. Reason: {reason}\n",
        headers={**SAFE_HEADERS, **headers},
    )
    if close:  # answers with `Connection: close` and leaves what was sent unread
        response.force_close()
    return response


def callback_app(
    flow: AuthorizationFlow, callback_url: str, settings: CallbackShimSettings
) -> web.Application:
    base_path = urlsplit(callback_url).path.rstrip("/")

    def handler_for(provider: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                params = callback_params(
                    request.rel_url.query.items(), len(request.rel_url.raw_query_string)
                )
            except CallbackParameterRefused as error:
                await flow.refuse(error, provider)
                return _page(400, f"The connection was not made. Reason: {reason_code(error)}")
            try:
                return answer(await flow.finish(params, provider=provider))
            except ServiceError as error:  # the database or vault failed under the flow
                log.warning("oauth_callback_failed", reason=error.reason)
                return _page(503, "The connection was not made. Reason: unavailable")

        return handle

    limit = AddressRateLimit(settings.rate_per_second, settings.rate_burst)
    app = web.Application(client_max_size=0, middlewares=[_guard(limit, settings)])
    for provider in provider_names():
        app.router.add_get(f"{base_path}/{provider}", handler_for(provider), allow_head=False)
    return app


class CallbackShim:
    def __init__(
        self,
        flow: AuthorizationFlow,
        callback_url: str,
        host: str,
        port: int,
        *,
        settings: CallbackShimSettings | None = None,
        reuse_port: bool = False,
    ) -> None:
        self._settings = settings or CallbackShimSettings()
        self._app = callback_app(flow, callback_url, self._settings)
        self._host = host
        self._port = port
        # Workers of one `serve --workers` share the port: any of them can finish a flow,
        # since its state lives in PostgreSQL.
        self._reuse_port = reuse_port
        self._runner: web.AppRunner | None = None
        self.site: CappedTCPSite | None = None
        self.port = 0

    async def start(self) -> None:
        self._runner = web.AppRunner(
            self._app,
            access_log=None,
            shutdown_timeout=1.0,
            # aiohttp arms its keep-alive timer when a connection opens and again after each
            # answer, and closes the connection if a request's headers are not complete by
            # then: with this, it is the header read timeout (and the idle limit).
            keepalive_timeout=self._settings.header_timeout_seconds,
            # A body is never read (see `_guard`): nothing to linger for.
            lingering_time=0,
        )
        await self._runner.setup()
        self.site = CappedTCPSite(
            self._runner,
            self._host,
            self._port,
            max_connections=self._settings.max_connections,
            reuse_port=self._reuse_port,
        )
        await self.site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self.site = None
