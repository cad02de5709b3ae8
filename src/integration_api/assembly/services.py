"""Every service of the contract, built over the runtime and registered on a server.

Each pipeline gets the runtime's credentials, provider clients and tenant slots, and the
providers' registry as its port lookup; `register_services` has one line per service.
"""

from __future__ import annotations

import grpc.aio
from integration_api_proto.integration.v1 import grpc_aio

from integration_api.api.credentials import CredentialServicer
from integration_api.api.embedding import EmbeddingServicer
from integration_api.api.llm import LlmServicer
from integration_api.api.oauth import OAuthServicer
from integration_api.api.operations import OperationsServicer
from integration_api.api.routes import RouteServicer
from integration_api.api.speech import SpeechServicer
from integration_api.api.telephony import TelephonyServicer
from integration_api.assembly.runtime import Runtime
from integration_api.embeddings.pipeline import EmbeddingService
from integration_api.embeddings.rerank import RerankService
from integration_api.llm.pipeline import ChatService
from integration_api.llm.ports import CredentialSource
from integration_api.llm.retry import RetryPolicy
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.registry import (
    call_control_for,
    chat_model_for,
    embedding_model_for,
    rerank_model_for,
    webhook_checker_for,
)
from integration_api.providers.speech_registry import speech_provider_for
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.routes.chat import RoutedChat, RoutedPipelines
from integration_api.routes.credential_providers import ProviderNotingCredentials
from integration_api.routes.embeddings import RoutedEmbeddingPipelines, RoutedEmbeddings
from integration_api.routes.failover import ONE_ATTEMPT
from integration_api.routes.speech import RoutedSpeech
from integration_api.speech.pipeline import SpeechService
from integration_api.telephony.call_control import CallService
from integration_api.telephony.call_rules import CallRules
from integration_api.telephony.webhook_validation import WebhookValidation


def chat_service(
    runtime: Runtime, credentials: CredentialSource | None = None, retry: RetryPolicy | None = None
) -> ChatService[ProviderClient]:
    """The chat pipeline over the runtime's credentials, provider client and tenant slots."""
    return ChatService(
        credentials or runtime.credential_ops,
        lambda: runtime.http,
        chat_model_for,
        retry=retry,
        tenant_calls=runtime.tenant_calls,
        gate=runtime.gate,
        ledger=runtime.usage_ledger,
        budgets=runtime.budget_guard,
    )


def embedding_service(
    runtime: Runtime, credentials: CredentialSource | None = None, retry: RetryPolicy | None = None
) -> EmbeddingService[ProviderClient]:
    """The embedding pipeline over the runtime's credentials, provider client and tenant slots."""
    return EmbeddingService(
        credentials or runtime.credential_ops,
        lambda: runtime.http,
        embedding_model_for,
        retry=retry,
        tenant_calls=runtime.tenant_calls,
        limits=runtime.settings.upstream,
        max_message_bytes=runtime.settings.grpc.max_message_bytes,
        gate=runtime.gate,
        ledger=runtime.usage_ledger,
        budgets=runtime.budget_guard,
    )


def rerank_service(
    runtime: Runtime, credentials: CredentialSource | None = None, retry: RetryPolicy | None = None
) -> RerankService[ProviderClient]:
    """The rerank pipeline over the runtime's credentials, provider client and tenant slots."""
    return RerankService(
        credentials or runtime.credential_ops,
        lambda: runtime.http,
        rerank_model_for,
        retry=retry,
        tenant_calls=runtime.tenant_calls,
        gate=runtime.gate,
        ledger=runtime.usage_ledger,
        budgets=runtime.budget_guard,
    )


def routed_chat(
    runtime: Runtime, credentials: ProviderNotingCredentials
) -> RoutedChat[ProviderClient]:
    """Chat through the runtime's routes: every target but the last called once (`ONE_ATTEMPT`)."""
    pipelines = RoutedPipelines(
        once=chat_service(runtime, credentials, ONE_ATTEMPT),
        retrying=chat_service(runtime, credentials),
        credentials=credentials,
    )
    return RoutedChat(runtime.route_ops, pipelines, budgets=runtime.budget_guard)


def routed_embeddings(
    runtime: Runtime, credentials: ProviderNotingCredentials
) -> RoutedEmbeddings[ProviderClient]:
    """Embed and Rerank through the runtime's routes, as `routed_chat` chats."""
    pipelines = RoutedEmbeddingPipelines(
        embed_once=embedding_service(runtime, credentials, ONE_ATTEMPT),
        embed_retrying=embedding_service(runtime, credentials),
        rerank_once=rerank_service(runtime, credentials, ONE_ATTEMPT),
        rerank_retrying=rerank_service(runtime, credentials),
        credentials=credentials,
    )
    return RoutedEmbeddings(runtime.route_ops, pipelines, budgets=runtime.budget_guard)


def speech_service(runtime: Runtime) -> SpeechService[SpeechTransport]:
    """The speech pipeline over the runtime's credentials and provider clients."""
    limits = runtime.settings.speech

    def transport() -> SpeechTransport:
        return SpeechTransport(runtime.http, runtime.sockets, limits.keepalive_seconds)

    return SpeechService(
        runtime.credential_ops,
        transport,
        speech_provider_for,
        limits,
        sessions=runtime.speech_sessions,
        gate=runtime.gate,
        ledger=runtime.usage_ledger,
        budgets=runtime.budget_guard,
    )


def call_service(runtime: Runtime) -> CallService[ProviderClient]:
    """Call control over the runtime's credentials and provider client; in production only
    https/wss URLs are handed to a provider to reach."""
    rules = CallRules(production=runtime.settings.production)
    return CallService(
        runtime.credential_ops,
        lambda: runtime.http,
        call_control_for,
        rules,
        gate=runtime.gate,
        ledger=runtime.usage_ledger,
        budgets=runtime.budget_guard,
    )


def webhook_validation(runtime: Runtime) -> WebhookValidation:
    """Webhook checks over the runtime's credentials and its memory of accepted webhooks."""
    return WebhookValidation(runtime.credential_ops, webhook_checker_for, runtime.webhook_replays)


def register_services(server: grpc.aio.Server, runtime: Runtime) -> None:
    grpc_aio.add_credential_service_to_server(CredentialServicer(runtime.credential_ops), server)
    routed = ProviderNotingCredentials(runtime.credential_ops)
    chat = LlmServicer(chat_service(runtime), routed_chat(runtime, routed))
    grpc_aio.add_llm_service_to_server(chat, server)
    embedding = EmbeddingServicer(
        embedding_service(runtime), rerank_service(runtime), routed_embeddings(runtime, routed)
    )
    grpc_aio.add_embedding_service_to_server(embedding, server)
    grpc_aio.add_oauth_service_to_server(OAuthServicer(runtime.oauth_ops), server)
    grpc_aio.add_operations_service_to_server(OperationsServicer(runtime.operations), server)
    speech = speech_service(runtime)
    routed_speech = RoutedSpeech(speech, runtime.route_ops, budgets=runtime.budget_guard)
    grpc_aio.add_speech_service_to_server(SpeechServicer(speech, routed_speech), server)
    grpc_aio.add_route_service_to_server(RouteServicer(runtime.route_ops), server)
    telephony = TelephonyServicer(webhook_validation(runtime), call_service(runtime))
    grpc_aio.add_telephony_service_to_server(telephony, server)
