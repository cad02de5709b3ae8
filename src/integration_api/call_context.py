"""Per-RPC context: the verified principal and the request id, set by the interceptor."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from integration_api.errors import Unauthenticated
from integration_api.principal import Principal


@dataclass(frozen=True)
class CallContext:
    request_id: str
    method: str
    principal: Principal | None


_current: ContextVar[CallContext | None] = ContextVar("integration_api_call", default=None)


def set_call(call: CallContext) -> object:
    return _current.set(call)


def reset_call(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def current_call() -> CallContext | None:
    return _current.get()


def require_principal() -> Principal:
    """The caller's principal; every non-health RPC has one once the interceptor let it in."""
    call = _current.get()
    if call is None or call.principal is None:
        raise Unauthenticated("no verified caller")
    return call.principal


def current_request_id() -> str:
    call = _current.get()
    return call.request_id if call else ""
