"""Registers every service of the contract on a server; one line per service."""

from __future__ import annotations

import grpc.aio
from integration_api_proto.integration.v1 import grpc_aio

from integration_api.api.credentials import CredentialServicer
from integration_api.api.embedding import EmbeddingServicer, embedding_service, rerank_service
from integration_api.api.llm import LlmServicer, chat_service
from integration_api.api.oauth import OAuthServicer
from integration_api.api.operations import OperationsServicer
from integration_api.api.speech import SpeechServicer, speech_service
from integration_api.api.telephony import TelephonyServicer, call_service, webhook_validation
from integration_api.runtime import Runtime


def register_services(server: grpc.aio.Server, runtime: Runtime) -> None:
    grpc_aio.add_credential_service_to_server(CredentialServicer(runtime.credential_ops), server)
    grpc_aio.add_llm_service_to_server(LlmServicer(chat_service(runtime)), server)
    embedding = EmbeddingServicer(embedding_service(runtime), rerank_service(runtime))
    grpc_aio.add_embedding_service_to_server(embedding, server)
    grpc_aio.add_oauth_service_to_server(OAuthServicer(runtime.oauth_ops), server)
    grpc_aio.add_operations_service_to_server(OperationsServicer(runtime.operations), server)
    grpc_aio.add_speech_service_to_server(SpeechServicer(speech_service(runtime)), server)
    telephony = TelephonyServicer(webhook_validation(runtime), call_service(runtime))
    grpc_aio.add_telephony_service_to_server(telephony, server)
