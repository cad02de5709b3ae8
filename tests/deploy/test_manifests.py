"""What the rendered deploy/ manifests promise, checked against the service and its image."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from integration_api.server.metrics_port import LIVENESS_PATH, READINESS_PATH
from integration_api.settings_reference import VARIABLES
from tests.deploy.manifests import (
    KUSTOMIZATIONS,
    OVERLAYS,
    ROOT,
    of_kind,
    one,
    rendered,
    server_container,
    settings,
)

GRPC_PORT = 9004
METRICS_PORT = 9464
OAUTH_CALLBACK_PORT = 9005
# Time for a pod's last connections to close after the drain, on top of the grace.
CLOSE_MARGIN_SECONDS = 5
METADATA_RANGES = ("169.254.169.254/32", "fd00:ec2::254/128")
# Over four times the slowest probe answer measured, with the service starved to a ninth of a
# core (0.44 s), about thirty times the slowest at the pod's CPU limit (README "Probe timing").
MIN_PROBE_TIMEOUT_SECONDS = 2
# What kube-prometheus-stack selects ServiceMonitors by, as its documentation installs it.
SERVICE_MONITOR_RELEASE = "prometheus"


def _dockerfile_user() -> int:
    match = re.search(r"^USER (\d+):(\d+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def _dockerfile_ports() -> set[int]:
    match = re.search(r"^EXPOSE ([\d ]+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match is not None
    return {int(port) for port in match.group(1).split()}


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_probes_ask_the_metrics_port_for_liveness_and_readiness(kustomization: str) -> None:
    container = server_container(kustomization)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["metrics"] == int(settings(kustomization)["METRICS_PORT"]) == METRICS_PORT
    expected = {
        "startupProbe": LIVENESS_PATH,
        "livenessProbe": LIVENESS_PATH,
        "readinessProbe": READINESS_PATH,
    }
    for probe, path in expected.items():
        assert container[probe]["httpGet"] == {"path": path, "port": "metrics"}


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_probes_leave_room_for_cpu_throttling(kustomization: str) -> None:
    """Slowest HTTP probe answer measured under CPU throttling: 0.44 s (README "Probe timing")."""
    container = server_container(kustomization)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["timeoutSeconds"] >= MIN_PROBE_TIMEOUT_SECONDS
    readiness, liveness = container["readinessProbe"], container["livenessProbe"]
    # One slow answer alone never takes a pod out of rotation, nor restarts it.
    assert readiness["failureThreshold"] >= 2
    assert liveness["failureThreshold"] >= 3
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 30


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_no_replicas_beside_the_autoscaler(kustomization: str) -> None:
    """Each apply would reset the scale the HorizontalPodAutoscaler chose."""
    scaled = {
        autoscaler["spec"]["scaleTargetRef"]["name"]
        for autoscaler in of_kind(kustomization, "HorizontalPodAutoscaler")
    }
    assert scaled == {"integration-api"}
    for deployment in of_kind(kustomization, "Deployment"):
        if deployment["metadata"]["name"] in scaled:
            assert "replicas" not in deployment["spec"]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_termination_grace_covers_the_pause_and_the_drain(kustomization: str) -> None:
    spec = one(kustomization, "Deployment", "integration-api")["spec"]["template"]["spec"]
    container = server_container(kustomization)
    pause_command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pause_command[0] == "sleep"
    grace = int(settings(kustomization)["SHUTDOWN_GRACE_SECONDS"])
    needed = int(pause_command[1]) + grace + CLOSE_MARGIN_SECONDS
    assert spec["terminationGracePeriodSeconds"] >= needed


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_pods_run_as_the_image_user_on_a_read_only_root(kustomization: str) -> None:
    uid = _dockerfile_user()
    for workload in (*of_kind(kustomization, "Deployment"), *of_kind(kustomization, "Job")):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"requests", "limits"} <= container["resources"].keys()
            # Anything that must write gets memory-backed scratch space.
            mounted = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounted


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_container_ports_are_the_ones_the_image_exposes(kustomization: str) -> None:
    ports = {port["containerPort"] for port in server_container(kustomization)["ports"]}
    assert _dockerfile_ports() == {GRPC_PORT, METRICS_PORT} <= ports


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_setting_in_the_manifests_is_one_the_service_reads(kustomization: str) -> None:
    known = {variable.name for variable in VARIABLES}
    named = set(settings(kustomization))
    named |= {variable["name"] for variable in server_container(kustomization)["env"]}
    assert named <= known
    assert settings(kustomization)["ENV"] == "production"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_secrets_come_from_secret_references_only(kustomization: str) -> None:
    env = {variable["name"]: variable for variable in server_container(kustomization)["env"]}
    for name in ("SECRET", "INTEGRATION_CRYPTO_KEY", "INTEGRATION_CRYPTO_KEYS"):
        assert env[name]["valueFrom"]["secretKeyRef"]["key"] == name
    for variable in env.values():
        assert "value" not in variable
    assert not of_kind(kustomization, "Secret")
    assert not {"SECRET", "INTEGRATION_CRYPTO_KEY"} & set(settings(kustomization))


def _egress_blocks(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        peer["ipBlock"]
        for rule in policy["spec"]["egress"]
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    ]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_egress_never_reaches_the_cloud_metadata_service(kustomization: str) -> None:
    for policy in of_kind(kustomization, "NetworkPolicy"):
        assert "Egress" in policy["spec"]["policyTypes"]
        for rule in policy["spec"]["egress"]:
            # A rule without peers (DNS) must be limited to ports, never open everything.
            assert rule.get("to") or rule.get("ports")
            if not rule.get("to"):
                assert {port["port"] for port in rule["ports"]} == {53}
        for block in _egress_blocks(policy):
            allowed = ipaddress.ip_network(block["cidr"])
            excepted = [ipaddress.ip_network(cidr) for cidr in block.get("except", [])]
            for metadata in map(ipaddress.ip_network, METADATA_RANGES):
                if metadata.version == allowed.version and metadata.subnet_of(allowed):  # type: ignore[arg-type]
                    assert any(metadata.subnet_of(range_) for range_ in excepted)  # type: ignore[arg-type]


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_server_egress_allows_postgres_redis_dns_and_https(kustomization: str) -> None:
    policy = one(kustomization, "NetworkPolicy", "integration-api")
    ports = {port["port"] for rule in policy["spec"]["egress"] for port in rule["ports"]}
    assert {53, 443, 5432, 6379} <= ports


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_grpc_services_declare_the_protocol_and_one_is_headless(kustomization: str) -> None:
    service = one(kustomization, "Service", "integration-api")
    headless = one(kustomization, "Service", "integration-api-headless")
    assert headless["spec"]["clusterIP"] == "None"
    for item in (service, headless):
        grpc_port = next(port for port in item["spec"]["ports"] if port["name"] == "grpc")
        assert grpc_port["appProtocol"] == "grpc"
        assert grpc_port["port"] == GRPC_PORT


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_service_monitor_scrapes_metrics_from_one_service(kustomization: str) -> None:
    (monitor,) = of_kind(kustomization, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    selected = [
        service
        for service in of_kind(kustomization, "Service")
        if selector.items() <= service["metadata"]["labels"].items()
    ]
    assert [service["metadata"]["name"] for service in selected] == ["integration-api"]
    (endpoint,) = monitor["spec"]["endpoints"]
    port = next(port for port in selected[0]["spec"]["ports"] if port["name"] == endpoint["port"])
    assert port["port"] == METRICS_PORT
    assert endpoint["path"] == "/metrics"


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_service_monitor_carries_the_label_prometheus_selects_by(kustomization: str) -> None:
    (monitor,) = of_kind(kustomization, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == SERVICE_MONITOR_RELEASE
    assert f"release: {SERVICE_MONITOR_RELEASE}" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    ("kustomization", "exposed"),
    [("base", False), ("overlays/production", False), ("overlays/production-oauth", True)],
)
def test_oauth_callback_port_is_exposed_only_where_oauth_is_configured(
    kustomization: str, exposed: bool
) -> None:
    ports = {port["containerPort"] for port in server_container(kustomization)["ports"]}
    configured = "OAUTH_CALLBACK_URL" in settings(kustomization)
    assert (OAUTH_CALLBACK_PORT in ports) is exposed is configured
    service_ports = {
        port["port"]
        for service in of_kind(kustomization, "Service")
        for port in service["spec"]["ports"]
    }
    assert (OAUTH_CALLBACK_PORT in service_ports) is exposed


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_migrations_run_as_a_job_of_the_same_image(kustomization: str) -> None:
    job = one(kustomization, "Job", "integration-api-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    assert container["image"] == server_container(kustomization)["image"]


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_disruptions_and_autoscaling_keep_the_service_up(kustomization: str) -> None:
    budget = one(kustomization, "PodDisruptionBudget", "integration-api")
    autoscaler = one(kustomization, "HorizontalPodAutoscaler", "integration-api")
    assert budget["spec"]["maxUnavailable"] == 1
    assert autoscaler["spec"]["minReplicas"] >= 2
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "integration-api"
    namespaces = {item["metadata"].get("namespace") for item in rendered(kustomization)}
    assert namespaces - {None} == {"integration-api"}
