"""Builds the agent from the settings; off (and free) unless OPSTAGE_URL and the token are set."""

from __future__ import annotations

from integration_api.config import OperationsSettings
from integration_api.ops.metrics import set_agent_state
from integration_api.ops.opstage.actions import ActionRunner, agent_principal
from integration_api.ops.opstage.agent import Backoff, OpstageAgent
from integration_api.ops.opstage.client import OpstageClient
from integration_api.ops.opstage.drift import DriftTracker
from integration_api.ops.opstage.identity import AgentConfig, AgentIdentity
from integration_api.ops.opstage.report import ServiceReport
from integration_api.ops.service import Operations
from integration_api.vault import Envelope


def build_agent(
    settings: OperationsSettings, operations: Operations, envelope: Envelope
) -> tuple[OpstageAgent, OpstageClient] | None:
    if not settings.opstage_enabled:
        set_agent_state("off")
        return None
    config = AgentConfig(
        backend_url=settings.opstage_url,
        registration_token=settings.opstage_registration_token,
        code=settings.opstage_agent_code,
    )
    database = operations.database
    client = OpstageClient(settings.opstage_url, settings.opstage_timeout_seconds)
    interval = settings.health_check_interval_seconds
    agent = OpstageAgent(
        client,
        AgentIdentity(config, database, envelope),
        ServiceReport(database, envelope.keyring, interval, operations.gate),
        ActionRunner(operations, config.code, interval),
        Backoff(settings.opstage_backoff_initial_seconds, settings.opstage_backoff_max_seconds),
        DriftTracker(database, config.code, agent_principal(config.code).actor),
        settings.opstage_report_interval_seconds,
    )
    set_agent_state("standby")
    return agent, client
