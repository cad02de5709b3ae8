"""CredentialService: validate, call one domain operation, translate the answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc.aio
from integration_api_proto.integration.v1 import (
    CreateCredentialRequest,
    CreateCredentialResponse,
    DeleteCredentialRequest,
    DeleteCredentialResponse,
    DisableCredentialRequest,
    DisableCredentialResponse,
    EnableCredentialRequest,
    EnableCredentialResponse,
    GetCredentialRequest,
    GetCredentialResponse,
    ListCredentialsRequest,
    ListCredentialsResponse,
    RotateCredentialRequest,
    RotateCredentialResponse,
    UpdateCredentialRequest,
    UpdateCredentialResponse,
    VerifyCredentialRequest,
    VerifyCredentialResponse,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceBase

from integration_api.api.credential_messages import (
    check_message,
    config_from_message,
    credential_message,
    secret_from_message,
    status_from_message,
)
from integration_api.call_context import require_principal
from integration_api.credentials.operations import CredentialDraft, CredentialOperations
from integration_api.credentials.validation import reason_violations
from integration_api.errors import InvalidArgument

Context = grpc.aio.ServicerContext[Any, Any]
UPDATABLE_FIELDS = {"name", "config"}


def _paths_to_update(request: UpdateCredentialRequest) -> set[str]:
    """The mask's paths; without a mask, the fields the request populates (AIP-134)."""
    if request.update_mask is not None and request.update_mask.paths:
        return set(request.update_mask.paths)
    populated = {"name"} if request.name else set()
    return populated | ({"config"} if request.config is not None else set())


class CredentialServicer(CredentialServiceBase):
    def __init__(self, operations: CredentialOperations) -> None:
        self._operations = operations

    async def create_credential(
        self, request: CreateCredentialRequest, context: Context
    ) -> CreateCredentialResponse:
        draft = CredentialDraft(
            provider=request.provider,
            name=request.name,
            config=config_from_message(request.config),
            secret=secret_from_message(request.secret),
            skip_verification=request.skip_verification,
        )
        row = await self._operations.create(require_principal(), draft)
        return CreateCredentialResponse(credential=credential_message(row))

    async def get_credential(
        self, request: GetCredentialRequest, context: Context
    ) -> GetCredentialResponse:
        row = await self._operations.get(require_principal().tenant, request.id)
        return GetCredentialResponse(credential=credential_message(row))

    async def list_credentials(
        self, request: ListCredentialsRequest, context: Context
    ) -> ListCredentialsResponse:
        rows, next_token = await self._operations.list(
            require_principal().tenant,
            provider=request.provider,
            status=status_from_message(request.status),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return ListCredentialsResponse(
            credentials=[credential_message(row) for row in rows], next_page_token=next_token
        )

    async def update_credential(
        self, request: UpdateCredentialRequest, context: Context
    ) -> UpdateCredentialResponse:
        paths = _paths_to_update(request)
        unknown = paths - UPDATABLE_FIELDS
        if unknown:
            raise InvalidArgument.for_field("update_mask", "only name and config can be updated")
        row = await self._operations.update(
            require_principal(),
            request.id,
            name=request.name if "name" in paths else None,
            config=config_from_message(request.config) if "config" in paths else None,
            expected_version=request.expected_version or None,
        )
        return UpdateCredentialResponse(credential=credential_message(row))

    async def rotate_credential(
        self, request: RotateCredentialRequest, context: Context
    ) -> RotateCredentialResponse:
        row = await self._operations.rotate(
            require_principal(),
            request.id,
            secret_from_message(request.secret),
            skip_verification=request.skip_verification,
            expected_version=request.expected_version or None,
            config=config_from_message(request.config) if request.config is not None else None,
        )
        return RotateCredentialResponse(credential=credential_message(row))

    async def delete_credential(
        self, request: DeleteCredentialRequest, context: Context
    ) -> DeleteCredentialResponse:
        await self._operations.delete(require_principal(), request.id)
        return DeleteCredentialResponse()

    async def verify_credential(
        self, request: VerifyCredentialRequest, context: Context
    ) -> VerifyCredentialResponse:
        row, result = await self._operations.verify(require_principal().tenant, request.id)
        return VerifyCredentialResponse(
            credential=credential_message(row),
            check=check_message(result, at=row.last_check_at or datetime.now(UTC)),
        )

    async def disable_credential(
        self, request: DisableCredentialRequest, context: Context
    ) -> DisableCredentialResponse:
        violations = reason_violations(request.reason)
        if violations:
            raise InvalidArgument(violations[0].description, violations)
        row = await self._operations.set_enabled(
            require_principal(), request.id, enabled=False, reason=request.reason
        )
        return DisableCredentialResponse(credential=credential_message(row))

    async def enable_credential(
        self, request: EnableCredentialRequest, context: Context
    ) -> EnableCredentialResponse:
        row = await self._operations.set_enabled(require_principal(), request.id, enabled=True)
        return EnableCredentialResponse(credential=credential_message(row))
