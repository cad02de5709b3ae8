"""OAuthService: validate, call one OAuth operation, translate the answer."""

from __future__ import annotations

from typing import Any

import grpc.aio
from integration_api_proto.integration.v1 import (
    CompleteAuthorizationRequest,
    CompleteAuthorizationResponse,
    Connection,
    ConnectionStatus,
    GetAccessTokenRequest,
    GetAccessTokenResponse,
    ListConnectionsRequest,
    ListConnectionsResponse,
    RevokeConnectionRequest,
    RevokeConnectionResponse,
    StartAuthorizationRequest,
    StartAuthorizationResponse,
)
from integration_api_proto.integration.v1.grpc_aio import OAuthServiceBase

from integration_api.call_context import require_principal
from integration_api.errors import Internal, InvalidArgument
from integration_api.oauth.callback_params import callback_params
from integration_api.oauth.completion import end_user
from integration_api.oauth.operations import OAuthOperations
from integration_api.oauth.request_checks import StartRequest
from integration_api.store.oauth_rows import OAuthConnectionRow

Context = grpc.aio.ServicerContext[Any, Any]

CONNECTION_STATUS_TO_MESSAGE = {
    "active": ConnectionStatus.ACTIVE,
    "reauthorization_required": ConnectionStatus.REAUTHORIZATION_REQUIRED,
    "revoked": ConnectionStatus.REVOKED,
}


def connection_message(row: OAuthConnectionRow) -> Connection:
    return Connection(
        id=row.id,
        provider=row.provider,
        name=row.name,
        account_id=row.account_id,
        account_email=row.account_email,
        scopes=list(row.scopes),
        status=CONNECTION_STATUS_TO_MESSAGE.get(row.status, ConnectionStatus.UNSPECIFIED),
        created_at=row.created_at,
        updated_at=row.updated_at,
        access_token_expires_at=row.access_token_expires_at,
    )


class OAuthServicer(OAuthServiceBase):
    def __init__(self, operations: OAuthOperations) -> None:
        self._operations = operations

    async def start_authorization(
        self, request: StartAuthorizationRequest, context: Context
    ) -> StartAuthorizationResponse:
        started = await self._operations.flow.start(
            require_principal(),
            StartRequest(
                provider=request.provider,
                scopes=tuple(request.scopes),
                connection_name=request.connection_name,
                redirect_after=request.redirect_after,
                user_id=request.user_id,
            ),
        )
        return StartAuthorizationResponse(
            authorization_url=started.authorization_url,
            state=started.state,
            expires_at=started.expires_at,
        )

    async def complete_authorization(
        self, request: CompleteAuthorizationRequest, context: Context
    ) -> CompleteAuthorizationResponse:
        principal = require_principal()
        if request.completion_code:
            if request.state or request.code or request.error:
                raise InvalidArgument.for_field(
                    "completion_code", "is given instead of state, code and error, not with them"
                )
            row = await self._operations.flow.complete(
                principal, request.user_id, request.completion_code
            )
            return CompleteAuthorizationResponse(connection=connection_message(row))
        params = callback_params(
            [
                ("state", request.state),
                ("code", request.code),
                ("error", request.error),
                ("error_description", request.error_description),
            ]
        )
        finished = await self._operations.flow.finish(
            params, tenant=principal.tenant, user_id=end_user(principal, request.user_id)
        )
        if finished.error is not None:
            raise finished.error
        if finished.connection is None:
            raise Internal("the authorization ended without a connection")
        return CompleteAuthorizationResponse(connection=connection_message(finished.connection))

    async def get_access_token(
        self, request: GetAccessTokenRequest, context: Context
    ) -> GetAccessTokenResponse:
        if not request.connection_id:
            raise InvalidArgument.for_field("connection_id", "is required")
        tokens = await self._operations.access_token(
            require_principal().tenant, request.connection_id
        )
        return GetAccessTokenResponse(
            access_token=tokens.access_token,
            token_type=tokens.token_type,
            expires_at=tokens.expires_at,
            scopes=list(tokens.scopes),
        )

    async def list_connections(
        self, request: ListConnectionsRequest, context: Context
    ) -> ListConnectionsResponse:
        rows, next_token = await self._operations.list(
            require_principal().tenant,
            provider=request.provider,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return ListConnectionsResponse(
            connections=[connection_message(row) for row in rows], next_page_token=next_token
        )

    async def revoke_connection(
        self, request: RevokeConnectionRequest, context: Context
    ) -> RevokeConnectionResponse:
        row = await self._operations.revoke(require_principal(), request.connection_id)
        return RevokeConnectionResponse(connection=connection_message(row))
